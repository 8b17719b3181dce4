from django.apps import AppConfig


class HistoryConfig(AppConfig):
    """What happened to an order, step by step (as pretix's order log): sign-up, colleagues,
    changes, cancellations, offers, invoices, payments, reminders, holds.

    Below sign-up: registrations, invoicing and payments each record where a step happens
    (`record`); this app imports none of them."""

    name = "registrations.history"
    label = "history"
    verbose_name = "Geschiedenis"
