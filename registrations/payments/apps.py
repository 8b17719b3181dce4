from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Money in and out: bank statements, payments matched to invoices, reminders.

    Builds on invoicing (a payment is allocated to invoices); invoicing never uses it."""

    name = "registrations.payments"
    label = "payments"
    verbose_name = "Betalingen"
