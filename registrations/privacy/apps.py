from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """The rights of the people in the site: staff give one person everything the site holds
    about them (inzage) and erase them on request (verwijdering), by the retention job's
    rules. Its own app inside `registrations/`, on top of every other: it reads them all and
    nothing uses it but the admin assembly (werkplaats/admin.py)."""

    name = "registrations.privacy"
    label = "privacy"
    verbose_name = "Rechten van betrokkenen"
