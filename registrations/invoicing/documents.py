"""The documents of an issued invoice, kept in the database: its PDF and its e-invoice (UBL).

A document is stored in the issuing transaction, so no invoice exists without it and no
document without its invoice, whatever fails; every app server reads it, and a database
backup holds it. Its SHA-256 is recorded on the invoice at issue and checked on every read.
A missing or damaged document is restored by making it again from the frozen snapshot, which
is accepted only when the result has exactly that SHA-256: the bytes are reproducible.

The PDF of an invoice with an e-invoice carries that e-invoice inside (a hybrid invoice);
invoices issued before e-invoices existed have a PDF only.
"""

import hashlib
import logging

from .einvoice import refuse_when_invalid, render_ubl
from .models import InvoiceDocument, InvoiceRefused
from .pdf import render_invoice

logger = logging.getLogger(__name__)

Kind = InvoiceDocument.Kind
# Where each kind's SHA-256 of issue is kept on the invoice.
CHECKSUM_FIELDS = {Kind.PDF: "pdf_sha256", Kind.UBL: "ubl_sha256"}


class DocumentUnavailable(InvoiceRefused):
    """The stored document is missing or does not match its checksum; restore it."""


def sha256(content):
    return hashlib.sha256(content).hexdigest()


def kinds(invoice):
    """The documents this invoice was issued with."""
    return [kind for kind in (Kind.PDF, Kind.UBL) if getattr(invoice, CHECKSUM_FIELDS[kind])]


def render(invoice, kind):
    """Make the document again from the snapshot (the same bytes as at issue)."""
    if kind == Kind.UBL:
        return render_ubl(invoice)
    return render_invoice(invoice, einvoice=render_ubl(invoice) if invoice.ubl_sha256 else None)


def _store(invoice, kind, content):
    InvoiceDocument.objects.create(invoice=invoice, kind=kind, content=content)
    setattr(invoice, CHECKSUM_FIELDS[kind], sha256(content))
    invoice.save(update_fields=[CHECKSUM_FIELDS[kind]])


def store_documents(invoice):
    """Make the e-invoice, have it validated, then the PDF with the e-invoice inside; store both
    with their SHA-256, inside the issuing transaction. A fatal finding refuses the issue."""
    ubl = render_ubl(invoice)
    refuse_when_invalid(invoice, ubl)
    _store(invoice, Kind.UBL, ubl)
    _store(invoice, Kind.PDF, render_invoice(invoice, einvoice=ubl))


def document_bytes(invoice, kind):
    """The stored document, checked against the SHA-256 taken at issue time."""
    label, checksum = Kind(kind).label, getattr(invoice, CHECKSUM_FIELDS[kind])
    content = (
        InvoiceDocument.objects.filter(invoice_id=invoice.pk, kind=kind)
        .values_list("content", flat=True)
        .first()
    )
    if content is None or not checksum:
        logger.error("The %s of invoice %s is missing", kind, invoice.number)
        raise DocumentUnavailable(
            f"De {label} van {invoice.number} ontbreekt. Herstel hem met de actie "
            "'Pdf controleren en herstellen'."
        )
    content = bytes(content)
    if sha256(content) != checksum:
        logger.error("The stored %s of invoice %s does not match its SHA-256", kind, invoice.number)
        raise DocumentUnavailable(
            f"De opgeslagen {label} van {invoice.number} klopt niet met de controlesom van het "
            "uitreiken. Herstel hem met de actie 'Pdf controleren en herstellen'."
        )
    return content


def pdf_bytes(invoice):
    return document_bytes(invoice, Kind.PDF)


def ubl_bytes(invoice):
    return document_bytes(invoice, Kind.UBL)


def restore(invoice, kind):
    """Check a stored document; when missing or damaged, make it again and store it.

    Returns False when the stored document was fine, True when it was restored. Refused when
    the new one does not have the SHA-256 recorded at issue (a template, font or library
    changed): then the original cannot be made again and nothing is stored.
    """
    try:
        document_bytes(invoice, kind)
    except DocumentUnavailable:
        pass
    else:
        return False
    label = Kind(kind).label
    content = render(invoice, kind)
    if sha256(content) != getattr(invoice, CHECKSUM_FIELDS[kind]):
        raise InvoiceRefused(
            f"De {label} van {invoice.number} kan niet worden hersteld: opnieuw maken geeft "
            "niet dezelfde bytes als bij het uitreiken (de controlesom wijkt af). Er is niets "
            f"opgeslagen; haal de {label} uit de back-up."
        )
    InvoiceDocument.objects.update_or_create(
        invoice=invoice, kind=kind, defaults={"content": content}
    )
    logger.warning("Restored the %s of invoice %s from its snapshot", kind, invoice.number)
    return True


def restore_pdf(invoice):
    return restore(invoice, Kind.PDF)
