"""Invoicing's figures for the back office's overview: what was invoiced per edition (credit
notes net against their invoices: they carry the negative amounts), what was received and
what must go back, and finance's worklists (to invoice, not yet mailed, to credit). Plain
data, a fixed number of queries; werkplaats/admin_site.py assembles the page.
"""

from collections import defaultdict

from django.db import models

from registrations.models import Order, Registration

from .models import Invoice, InvoiceIssuer, on_standing_invoice, state_condition

ZERO = models.Value(0, output_field=models.DecimalField(max_digits=12, decimal_places=2))
FIGURES = ["excl", "incl", "paid", "refund_due"]


def money_per_edition(today):
    """{edition pk: {'excl', 'incl', 'paid', 'refund_due'}}, and the same summed: invoiced
    excl. and incl. btw (credit notes included: they carry the negative amounts, so a
    credited invoice nets to nothing), paid (received minus refunded) and refunds due (what
    we hold for a credited invoice, Invoice.Status.REFUND_DUE); one GROUP BY.

    settle() writes the money onto both an invoice and its credit note, so the money is
    summed over the invoices only."""
    invoice = models.Q(kind=Invoice.Kind.INVOICE)
    held = models.F("amount_paid") - models.F("amount_refunded")
    refund_due = state_condition(Invoice.Status.REFUND_DUE, today)
    rows = (
        Invoice.objects.with_edition()
        .values("edition_id")
        .annotate(
            excl=models.Sum("total_excl_vat"),
            incl=models.Sum("total_incl_vat"),
            paid=models.Sum(held, filter=invoice, default=ZERO),
            refund_due=models.Sum(held, filter=invoice & refund_due, default=ZERO),
        )
        .order_by()
    )
    per_edition = {row.pop("edition_id"): row for row in rows}
    total = defaultdict(int)
    for figures in per_edition.values():
        for name in FIGURES:
            total[name] += figures[name]
    return per_edition, {name: total[name] for name in FIGURES}


def to_invoice():
    """Confirmed registrations without a standing invoice: the registrations list's filter
    "te factureren" (BillingFilter) shows these."""
    return Registration.objects.confirmed().filter(~on_standing_invoice())


def held_orders():
    """Orders with someone still to invoice that cannot be invoiced yet: finance's worklist
    "wacht op factuurgegevens" (Order.invoicing_blocker says why)."""
    return Order.objects.held_for_invoicing().filter(
        models.Exists(to_invoice().filter(order=models.OuterRef("pk")))
    )


def not_mailed():
    """Issued invoices and credit notes that have not been e-mailed."""
    return Invoice.objects.filter(emailed_at__isnull=True)


def to_credit():
    return Invoice.objects.to_credit()


def issuer_missing():
    """The issuer's details an invoice (and the mails' payment term) still waits for: the
    row is only there once finance saved it."""
    issuer = InvoiceIssuer.objects.filter(pk=1).first()
    if issuer is None:
        return ["betalingstermijn en gegevens factuurafzender"]
    return issuer.missing_details()
