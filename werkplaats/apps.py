from django.apps import AppConfig


class WerkplaatsConfig(AppConfig):
    """The project as an app: its admin module assembles the back office from every app's
    pieces (werkplaats/admin.py), and its toolkit (admin_tools, exports, triggers, ...) is
    what every app may import."""

    name = "werkplaats"
    verbose_name = "Werkplaats"
