"""Issuing invoices and credit notes, and the files finance takes out: ZIP and bookkeeping CSV.

An invoice is numbered, snapshotted and rendered to PDF in one transaction, with the series
counter row locked: parallel issues wait for each other, and a failure anywhere rolls the
number back with everything else, so numbers have no gaps and never repeat.
"""

import contextlib
import datetime
import hashlib
import io
import logging
import threading
import zipfile
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from programme.models import amsterdam_date

from .models import Invoice, InvoiceCounter, InvoiceIssuer, InvoiceLine, Registration

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
NUMBER_DIGITS = 4


class InvoiceRefused(Exception):
    """Issuing or crediting is not allowed now; the message says why, in Dutch, for finance."""


def round_cents(amount):
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_breakdown(lines):
    """[(rate, amount excl. VAT, VAT)] per VAT rate, highest rate first.

    VAT is computed once per rate over the sum of that rate's lines and rounded half-up to
    cents (away from zero, so a credit note mirrors its invoice to the cent).
    """
    bases = defaultdict(Decimal)
    for line in lines:
        bases[Decimal(line.vat_rate)] += Decimal(line.amount_excl_vat)
    return [
        (rate, round_cents(base), round_cents(base * rate / 100))
        for rate, base in sorted(bases.items(), reverse=True)
    ]


def format_money(amount):
    """Dutch notation: € 1.800,00 and € -378,00."""
    amount = round_cents(amount)
    sign = "-" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"€ {sign}{grouped},{cents}"


def format_rate(rate):
    """21.00 -> '21%', 9.50 -> '9,5%'."""
    text = f"{Decimal(rate).normalize():f}".replace(".", ",")
    return f"{text}%"


def format_quantity(quantity):
    return f"{Decimal(quantity).normalize():f}".replace(".", ",")


def _next_number(issuer, year, credit):
    """Take the next number of the series. Must run inside the issuing transaction."""
    series = issuer.series(year, credit=credit)
    # get_or_create: a parallel first issue of the year makes the insert of one of them fail
    # on the unique series; that one then waits for and locks the winner's row.
    counter, _ = InvoiceCounter.objects.select_for_update().get_or_create(series=series)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return series, counter.last_number, f"{series}{counter.last_number:0{NUMBER_DIGITS}d}"


def _issuer_snapshot(issuer):
    return {
        "issuer_name": issuer.name,
        "issuer_street": issuer.street,
        "issuer_postcode": issuer.postcode,
        "issuer_city": issuer.city,
        "issuer_country": issuer.country.name,
        "issuer_kvk_number": issuer.kvk_number,
        "issuer_vat_id": issuer.vat_id,
        "issuer_iban": issuer.iban,
        "issuer_bic": issuer.bic,
        "issuer_email": issuer.email,
        "issuer_is_example": issuer.is_example,
        "footer_text": issuer.footer_text,
    }


def _ready_issuer():
    issuer = InvoiceIssuer.load()
    missing = issuer.missing_details()
    if missing:
        raise InvoiceRefused(
            "Factureren kan nog niet: vul eerst bij 'Factuurafzender' in: "
            + ", ".join(missing)
            + "."
        )
    if issuer.is_example and not settings.DEBUG:
        raise InvoiceRefused(
            "De factuurafzender bevat voorbeeldgegevens. Vul de echte gegevens in en zet "
            "'voorbeeldgegevens' uit."
        )
    return issuer


def line_description(registration):
    edition = registration.edition
    dates = period_text(edition.start_date, edition.end_date)
    venue = ", ".join(part for part in [edition.venue_name, edition.venue_city] if part)
    text = f"{edition.title}, {dates}, {venue}"
    if edition.price_includes:
        text += f", inclusief {edition.price_includes}"
    return f"{text}\nDeelnemer: {registration.full_name}"


MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


def format_date(day):
    """3 oktober 2022, without depending on the active locale."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def period_text(start, end):
    """'3 t/m 5 oktober 2022', '30 september t/m 2 oktober 2022' or one date."""
    if start == end:
        return format_date(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day} t/m {format_date(end)}"
    if start.year == end.year:
        return f"{start.day} {MONTHS[start.month - 1]} t/m {format_date(end)}"
    return f"{format_date(start)} t/m {format_date(end)}"


def issue_invoice(registration, at=None, by=None, lines=None):
    """Issue the invoice for one registration and return it, with its PDF stored.

    By default one line for the participant at the edition's price and VAT rate. `lines`
    splits it into components with their own rate (e.g. meals at 9%), as
    [(description, quantity, unit price excl. VAT, VAT rate)]. An exempt edition puts every
    line at 0%.

    Refused (InvoiceRefused) while the issuer is incomplete, for a cancelled registration,
    and while the registration has an invoice that was not credited.
    """
    at = at or timezone.now()
    invoice_date = amsterdam_date(at)
    with _issuing():
        # Lock the registration so two clicks cannot both issue its invoice.
        registration = (
            Registration.objects.select_for_update()
            .select_related("edition")
            .get(pk=registration.pk)
        )
        if registration.is_cancelled:
            raise InvoiceRefused(
                f"{registration.reference} is geannuleerd; daarvoor wordt geen factuur gemaakt."
            )
        current = registration.invoices.uncredited().first()
        if current:
            raise InvoiceRefused(
                f"{registration.reference} heeft al factuur {current.number}. Maak eerst een "
                "creditfactuur als deze moet worden vervangen."
            )
        issuer = _ready_issuer()
        edition = registration.edition
        if lines is None:
            lines = [(line_description(registration), 1, edition.price_excl_vat, edition.vat_rate)]
        invoice_lines = [
            InvoiceLine(
                position=position,
                description=description,
                quantity=Decimal(quantity),
                unit_price=round_cents(unit_price),
                vat_rate=Decimal("0.00") if edition.vat_exempt else Decimal(rate),
                amount_excl_vat=round_cents(Decimal(quantity) * round_cents(unit_price)),
            )
            for position, (description, quantity, unit_price, rate) in enumerate(lines, 1)
        ]
        series, sequence, number = _next_number(issuer, invoice_date.year, credit=False)
        invoice = Invoice(
            number=number,
            series=series,
            sequence=sequence,
            kind=Invoice.Kind.INVOICE,
            registration=registration,
            invoice_date=invoice_date,
            due_date=invoice_date + datetime.timedelta(days=issuer.payment_term_days),
            supply_start=edition.start_date,
            supply_end=edition.end_date,
            issued_at=at,
            issued_by=getattr(by, "username", "") or "",
            **_issuer_snapshot(issuer),
            customer_organisation=registration.invoice_organisation,
            customer_attention=registration.invoice_attention,
            customer_street=registration.invoice_street,
            customer_postcode=registration.invoice_postcode,
            customer_city=registration.invoice_city,
            customer_country=registration.invoice_country.code,
            customer_country_name=registration.invoice_country.name,
            customer_email=registration.invoice_email,
            customer_vat_id=registration.vat_id,
            po_number=registration.po_number,
            payment_reference=number,
            vat_exemption_text=edition.vat_exemption_text,
        )
        return _finish(invoice, invoice_lines)


def credit_invoice(invoice, at=None, by=None):
    """Issue the credit note for `invoice`: same snapshot, negative amounts, its own number.

    An invoice is credited once; a second attempt is refused.
    """
    at = at or timezone.now()
    credit_date = amsterdam_date(at)
    with _issuing():
        original = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if original.is_credit_note:
            raise InvoiceRefused(f"{original.number} is zelf een creditfactuur.")
        if Invoice.objects.filter(credited_invoice=original).exists():
            raise InvoiceRefused(f"Factuur {original.number} is al gecrediteerd.")
        issuer = _ready_issuer()
        series, sequence, number = _next_number(issuer, credit_date.year, credit=True)
        fields = {
            field.name: getattr(original, field.name)
            for field in Invoice._meta.concrete_fields
            if field.name.startswith(("issuer_", "customer_"))
            or field.name
            in {"footer_text", "po_number", "vat_exemption_text", "supply_start", "supply_end"}
        }
        credit = Invoice(
            **fields,
            number=number,
            series=series,
            sequence=sequence,
            kind=Invoice.Kind.CREDIT_NOTE,
            credited_invoice=original,
            registration_id=original.registration_id,
            invoice_date=credit_date,
            due_date=credit_date,
            issued_at=at,
            issued_by=getattr(by, "username", "") or "",
            payment_reference=original.number,
        )
        lines = [
            InvoiceLine(
                position=line.position,
                description=line.description,
                quantity=line.quantity,
                unit_price=-line.unit_price,
                vat_rate=line.vat_rate,
                amount_excl_vat=-line.amount_excl_vat,
            )
            for line in original.lines.all()
        ]
        return _finish(credit, lines)


def _finish(invoice, lines):
    """Totals, insert, PDF: the last steps of issuing, inside the caller's transaction."""
    breakdown = vat_breakdown(lines)
    invoice.total_excl_vat = sum((base for _, base, _ in breakdown), Decimal("0.00"))
    invoice.total_vat = sum((vat for _, _, vat in breakdown), Decimal("0.00"))
    invoice.total_incl_vat = invoice.total_excl_vat + invoice.total_vat
    invoice.save()
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    store_pdf(invoice)
    return invoice


def store_pdf(invoice):
    """Render the PDF once and store it with its SHA-256, inside the issuing transaction."""
    from .pdf import render_invoice

    content = render_invoice(invoice)
    storage = invoice.pdf.storage
    name = storage.save(
        f"invoices/{invoice.invoice_date.year}/{invoice.filename}", ContentFile(content)
    )
    _stored_files().append((storage, name))
    invoice.pdf.name = name
    invoice.pdf_sha256 = hashlib.sha256(content).hexdigest()
    invoice.save(update_fields=["pdf", "pdf_sha256"])
    return content


_local = threading.local()


def _stored_files():
    # Per thread: parallel issues in one process each clean up only their own files.
    if not hasattr(_local, "files"):
        _local.files = []
    return _local.files


@contextlib.contextmanager
def _issuing():
    """One transaction for number, snapshot and PDF.

    Django has no rollback hook, so a PDF written before a failure is removed here: no file
    is left for a number that was never issued (and will be issued again).
    """
    files = _stored_files()
    mark = len(files)
    try:
        with transaction.atomic():
            yield
    except BaseException:
        for storage, name in files[mark:]:
            storage.delete(name)
        raise
    finally:
        del files[mark:]


def pdf_bytes(invoice):
    """The stored PDF, checked against the SHA-256 taken at issue time."""
    with invoice.pdf.open("rb") as handle:
        content = handle.read()
    if hashlib.sha256(content).hexdigest() != invoice.pdf_sha256:
        logger.error("Stored PDF of invoice %s does not match its SHA-256", invoice.number)
        raise InvoiceRefused(
            f"Het opgeslagen PDF-bestand van {invoice.number} klopt niet met de controlesom."
        )
    return content


def invoices_zip(invoices):
    """One ZIP with the stored PDF of each invoice, named factuur-<number>.pdf."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for invoice in invoices:
            day = invoice.invoice_date
            info = zipfile.ZipInfo(
                invoice.filename, date_time=(day.year, day.month, day.day, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, pdf_bytes(invoice))
    return buffer.getvalue()


BOOKKEEPING_HEADER = [
    "Factuurnummer",
    "Soort",
    "Factuurdatum",
    "Vervaldatum",
    "Klant",
    "Btw-nummer klant",
    "Kenmerk klant",
    "Btw-tarief (%)",
    "Bedrag excl. btw",
    "Btw",
    "Bedrag incl. btw",
    "Crediteert factuur",
    "Betaald op",
    "Status",
]


def _csv_amount(amount):
    # Decimal comma without thousands separator: what Dutch spreadsheets and bookkeeping
    # imports read as a number.
    return f"{round_cents(amount):.2f}".replace(".", ",")


def bookkeeping_rows(invoices, today=None):
    """One row per invoice and VAT rate, in number order, for the bookkeeping import."""
    for invoice in invoices:
        for rate, base, vat in vat_breakdown(invoice.lines.all()):
            yield [
                invoice.number,
                invoice.get_kind_display(),
                invoice.invoice_date.strftime("%d-%m-%Y"),
                invoice.due_date.strftime("%d-%m-%Y"),
                invoice.customer_organisation,
                invoice.customer_vat_id,
                invoice.po_number,
                f"{rate.normalize():f}".replace(".", ","),
                _csv_amount(base),
                _csv_amount(vat),
                _csv_amount(base + vat),
                invoice.credited_invoice.number if invoice.credited_invoice_id else "",
                invoice.paid_on.strftime("%d-%m-%Y") if invoice.paid_on else "",
                invoice.status(today).label,
            ]
