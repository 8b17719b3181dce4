"""Invoicing's steps in the orders' history (registrations/history): an invoice is recorded
on every order whose participants it bills, also one finance combined from several orders."""

from registrations.history.models import entry, record

from .models import InvoiceLine


def orders_of(invoice_ids):
    """{invoice id: [order id, ...]} from the invoices' lines, in one query."""
    rows = (
        InvoiceLine.objects.filter(invoice_id__in=invoice_ids, registration__isnull=False)
        .values_list("invoice_id", "registration__order_id")
        .order_by("invoice_id", "registration__order_id")
        .distinct()
    )
    found = {}
    for invoice_id, order_id in rows:
        found.setdefault(invoice_id, []).append(order_id)
    return found


def record_for_invoice(invoice, kind, text, by=None, at=None):
    """Record a step of `invoice` on each of its orders."""
    for order_id in orders_of([invoice.pk]).get(invoice.pk, []):
        record(order_id, kind, text, by=by, at=at)


def entries_for_invoices(steps):
    """Unsaved history entries for many invoice steps at once (a bank statement):
    `steps` is [(invoice id, kind, text, by)]."""
    orders = orders_of({invoice_id for invoice_id, *_rest in steps})
    return [
        entry(order_id, kind, text, by)
        for invoice_id, kind, text, by in steps
        for order_id in orders.get(invoice_id, [])
    ]
