"""The files finance takes out of the admin: a ZIP of PDFs and e-invoices, and the bookkeeping
CSV."""

import io
import zipfile

from werkplaats import formats
from werkplaats.formats import round_cents

from .documents import Kind, document_bytes, kinds
from .models import vat_breakdown


def invoices_zip(invoices):
    """One ZIP with the stored documents of each invoice: factuur-<number>.pdf (a credit
    note's creditfactuur-<number>.pdf) and, when it has one, its e-invoice under the same name
    with .xml."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for invoice in invoices:
            add_to_zip(archive, invoice)
    return buffer.getvalue()


def add_to_zip(archive, invoice):
    """Put one invoice's documents in `archive`; all read and checked first, so a missing
    one (DocumentUnavailable) leaves nothing of this invoice behind. Returns the file names."""
    day = invoice.invoice_date
    documents = [
        (
            invoice.filename if kind == Kind.PDF else invoice.ubl_filename,
            document_bytes(invoice, kind),
        )
        for kind in kinds(invoice)
    ]
    for name, content in documents:
        info = zipfile.ZipInfo(name, date_time=(day.year, day.month, day.day, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, content)
    return [name for name, _ in documents]


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


def csv_amount(amount):
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
                formats.numeric_date(invoice.invoice_date),
                formats.numeric_date(invoice.due_date),
                invoice.customer_organisation,
                invoice.customer_vat_id,
                invoice.po_number,
                f"{rate.normalize():f}".replace(".", ","),
                csv_amount(base),
                csv_amount(vat),
                csv_amount(base + vat),
                invoice.credited_invoice.number if invoice.credited_invoice_id else "",
                formats.numeric_date(invoice.paid_on) if invoice.paid_on else "",
                invoice.status(today).label,
            ]
