"""The bookkeeping export finance hands the accountant: one row per invoice and VAT rate with
debtor number (from the organisation register), revenue account, VAT code and cost centre
(each set by finance), and the payments with the invoices they paid."""

from programme.models import Edition
from registrations.invoicing import exports
from registrations.invoicing.models import InvoiceLine, vat_breakdown
from registrations.organisations.identifiers import name_key
from registrations.organisations.models import Organisation
from werkplaats import formats

from .models import CostCentre, LedgerAccount

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
    """{invoice pk: debtor number}: the number of the organisation in the register that each
    invoice is for, the one home of debtor numbers.

    An invoice is for the organisation its participants' order is linked to. An invoice of an
    order finance has not linked yet counts for the organisation with its KvK number or OIN,
    or without either for the one with its name; when the register has none, one is added
    with the invoice's name and numbers (finance completes it). Organisations without a number get the next ones, under a
    lock (OrganisationQuerySet.numbered)."""
    invoices = list(invoices)
    linked = dict(
        InvoiceLine.objects.filter(
            invoice__in=[invoice.pk for invoice in invoices],
            registration__order__debtor__isnull=False,
        )
        # The first line's order decides: the last value per invoice wins in the dict.
        .order_by("invoice_id", "-position")
        .values_list("invoice_id", "registration__order__debtor_id")
    )
    register = Organisation.objects.in_bulk(set(linked.values()))
    unlinked = [invoice for invoice in invoices if invoice.pk not in linked]
    # The register by number and by name, for the unlinked invoices: three queries, however
    # many there are (of one name, the oldest organisation).
    kvk_numbers = {i.customer_kvk_number for i in unlinked if i.customer_kvk_number}
    by_kvk = {o.kvk_number: o for o in Organisation.objects.filter(kvk_number__in=kvk_numbers)}
    oins = {i.customer_oin for i in unlinked if i.customer_oin}
    by_oin = {o.oin: o for o in Organisation.objects.filter(oin__in=oins)}
    by_name = {}
    named = Organisation.objects.filter(
        name_key__in={name_key(i.customer_organisation) for i in unlinked}
    ).order_by("-pk")
    for organisation in named:
        by_name[organisation.name_key] = organisation
    of_invoice = {}
    for invoice in invoices:
        kvk_number, oin = invoice.customer_kvk_number, invoice.customer_oin
        key = name_key(invoice.customer_organisation)
        organisation = (
            register.get(linked.get(invoice.pk))
            or (kvk_number and by_kvk.get(kvk_number))
            or (oin and by_oin.get(oin))
            # By name only without a number: another number is another organisation.
            or (not (kvk_number or oin) and by_name.get(key))
        )
        if not organisation:
            organisation = Organisation.objects.create(
                name=invoice.customer_organisation[:200], kvk_number=kvk_number, oin=oin
            )
            # The next invoice of the same organisation in this export finds it.
            if kvk_number:
                by_kvk[kvk_number] = organisation
            if oin:
                by_oin[oin] = organisation
            by_name.setdefault(key, organisation)
        of_invoice[invoice.pk] = organisation
    numbers = Organisation.objects.numbered(list(of_invoice.values()))
    return {pk: numbers[organisation.pk] for pk, organisation in of_invoice.items()}


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
                numbers[invoice.pk],
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
                numbers[allocation.invoice_id] if allocation else "",
                exports.csv_amount(allocation.amount) if allocation else "",
            ]


def payments_for_export(queryset):
    return queryset.prefetch_related("allocations__invoice").order_by("booking_date", "pk")
