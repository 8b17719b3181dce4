from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    """Invoices and credit notes for registrations: its own app, inside `registrations/`
    because the project's top level is fixed. It uses the sign-up models; they never use it."""

    name = "registrations.invoicing"
    label = "invoicing"
    verbose_name = "Facturatie"

    def ready(self):
        # The PDF's system checks.
        from . import checks  # noqa: F401
