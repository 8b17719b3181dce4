from django.apps import AppConfig


class TransmissionConfig(AppConfig):
    """How an issued invoice leaves for a buyer that receives e-invoices over Peppol: through
    an access point's REST API, with its delivery status as the access point reports it.
    Above invoicing: it reads the stored e-invoice; invoicing reaches it only through
    settings.INVOICE_TRANSMISSION."""

    name = "registrations.transmission"
    label = "transmission"
    verbose_name = "E-facturen via Peppol"
