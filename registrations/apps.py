from django.apps import AppConfig


class RegistrationsConfig(AppConfig):
    name = "registrations"
    verbose_name = "Inschrijvingen en facturen"

    def ready(self):
        from . import checks  # noqa: F401  (registers the invoice PDF checks)
