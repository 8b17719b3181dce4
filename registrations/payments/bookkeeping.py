"""The bookkeeping export finance hands the accountant: one row per invoice and VAT rate with
debtor number, revenue account, VAT code and cost centre (each set by finance), and the
payments with the invoices they paid."""

from django.db import transaction

from programme.models import Edition
from registrations.invoicing import exports
from registrations.invoicing.models import vat_breakdown
from werkplaats import formats

from .models import CostCentre, Debtor, LedgerAccount

INVOICE_HEADER = [
    *exports.BOOKKEEPING_HEADER,
    "Debiteurnummer",
    "Omzetrekening",
    "Btw-code",
    "Kostenplaats",
    "Betaald",
    "Openstaand",
]
PAYMENT_HEADER = [
    "Boekdatum",
    "Bedrag",
    "Tegenpartij",
    "IBAN tegenpartij",
    "Omschrijving",
    "Referentie bank",
    "Status",
    "Factuurnummer",
    "Debiteurnummer",
    "Toegewezen bedrag",
]


def debtor_numbers(invoices):
    """{key: number} for these invoices' organisations, numbering new ones in one
    transaction under a lock, so two exports at once cannot give out a number twice."""
    wanted = {Debtor.key_of(invoice): invoice.customer_organisation for invoice in invoices}
    with transaction.atomic():
        known = dict(
            Debtor.objects.select_for_update().filter(key__in=wanted).values_list("key", "number")
        )
        missing = [key for key in wanted if key not in known]
        if missing:
            # Lock the highest row too: the next number follows from it.
            last = Debtor.objects.select_for_update().order_by("-number").first()
            next_number = max((last.number + 1) if last else 0, Debtor.FIRST_NUMBER)
            new = [
                Debtor(key=key, organisation=wanted[key][:200], number=next_number + i)
                for i, key in enumerate(missing)
            ]
            Debtor.objects.bulk_create(new)
            known.update({debtor.key: debtor.number for debtor in new})
    return known


def invoice_rows(invoices):
    """The invoicing export's columns (its status is the invoice's one state), plus the
    bookkeeping codes and what is paid: on an invoice what came in, on a credit note what
    went back (negative)."""
    invoices = list(invoices)
    numbers = debtor_numbers(invoices)
    accounts = {account.vat_rate: account for account in LedgerAccount.objects.all()}
    centres = dict(CostCentre.objects.values_list("edition_id", "code"))
    slugs = dict(Edition.objects.values_list("pk", "slug"))
    base_rows = exports.bookkeeping_rows(invoices)
    for invoice in invoices:
        edition_id = invoice.edition_id
        paid = -invoice.amount_refunded if invoice.is_credit_note else invoice.amount_paid
        for rate, _base, _vat in vat_breakdown(invoice.lines.all()):
            account = accounts.get(rate)
            row = next(base_rows)
            yield [
                *row,
                numbers[Debtor.key_of(invoice)],
                account.revenue_account if account else "",
                account.vat_code if account else "",
                centres.get(edition_id, slugs.get(edition_id, "")),
                exports.csv_amount(paid),
                exports.csv_amount(invoice.outstanding),
            ]


def payment_rows(payments):
    """One row per payment and invoice it paid; an unmatched payment has one empty row."""
    payments = list(payments)
    invoices = [a.invoice for p in payments for a in p.allocations.all()]
    numbers = debtor_numbers(invoices)
    for payment in payments:
        allocations = list(payment.allocations.all()) or [None]
        for allocation in allocations:
            yield [
                formats.numeric_date(payment.booking_date),
                exports.csv_amount(payment.amount),
                payment.counterparty_name,
                payment.counterparty_iban,
                payment.remittance,
                payment.bank_reference,
                payment.get_state_display(),
                allocation.invoice.number if allocation else "",
                numbers[Debtor.key_of(allocation.invoice)] if allocation else "",
                exports.csv_amount(allocation.amount) if allocation else "",
            ]


def payments_for_export(queryset):
    return queryset.prefetch_related("allocations__invoice").order_by("booking_date", "pk")
