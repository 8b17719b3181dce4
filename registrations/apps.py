from django.apps import AppConfig


class RegistrationsConfig(AppConfig):
    name = "registrations"
    verbose_name = "Inschrijven"

    def ready(self):
        # The receiver that mails each waiting-list offer (registrations.signals says why).
        from . import tasks  # noqa: F401
