from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class WerkplaatsConfig(AppConfig):
    """The project as an app: its admin module assembles the back office from every app's
    pieces (werkplaats/admin.py), and its toolkit (admin_tools, exports, triggers, ...) is
    what every app may import."""

    name = "werkplaats"
    verbose_name = "Werkplaats"


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the overview as its front page (werkplaats/admin_site.py);
    listed in INSTALLED_APPS by its path, so not the default config of "werkplaats"."""

    default = False

    default_site = "werkplaats.admin_site.WerkplaatsAdminSite"
