"""The documents of an issued invoice (today its PDF), kept in the database.

A document is stored in the issuing transaction, so no invoice exists without it and no
document without its invoice, whatever fails; every app server reads it, and a database
backup holds it. Its SHA-256 is recorded on the invoice at issue and checked on every read.
A missing or damaged document is restored by rendering the frozen snapshot again, which is
accepted only when the result has exactly that SHA-256: the bytes are reproducible.
"""

import hashlib
import logging

from .models import InvoiceDocument, InvoiceRefused
from .pdf import render_invoice

logger = logging.getLogger(__name__)


class DocumentUnavailable(InvoiceRefused):
    """The stored document is missing or does not match its checksum; restore it."""


def sha256(content):
    return hashlib.sha256(content).hexdigest()


def store_pdf(invoice):
    """Render the PDF once and store it with its SHA-256, inside the issuing transaction."""
    content = render_invoice(invoice)
    InvoiceDocument.objects.create(invoice=invoice, kind=InvoiceDocument.Kind.PDF, content=content)
    invoice.pdf_sha256 = sha256(content)
    invoice.save(update_fields=["pdf_sha256"])
    return content


def pdf_bytes(invoice):
    """The stored PDF, checked against the SHA-256 taken at issue time."""
    content = (
        InvoiceDocument.objects.filter(invoice_id=invoice.pk, kind=InvoiceDocument.Kind.PDF)
        .values_list("content", flat=True)
        .first()
    )
    if content is None:
        logger.error("The PDF of invoice %s is missing", invoice.number)
        raise DocumentUnavailable(
            f"De pdf van {invoice.number} ontbreekt. Herstel hem met de actie "
            "'Pdf controleren en herstellen'."
        )
    content = bytes(content)
    if sha256(content) != invoice.pdf_sha256:
        logger.error("The stored PDF of invoice %s does not match its SHA-256", invoice.number)
        raise DocumentUnavailable(
            f"De opgeslagen pdf van {invoice.number} klopt niet met de controlesom van het "
            "uitreiken. Herstel hem met de actie 'Pdf controleren en herstellen'."
        )
    return content


def restore_pdf(invoice):
    """Check the stored PDF; when missing or damaged, render the snapshot again and store it.

    Returns False when the stored PDF was fine, True when it was restored. Refused when the new
    render does not have the SHA-256 recorded at issue (a template, font or library changed):
    then the original cannot be made again and nothing is stored.
    """
    try:
        pdf_bytes(invoice)
    except DocumentUnavailable:
        pass
    else:
        return False
    content = render_invoice(invoice)
    if sha256(content) != invoice.pdf_sha256:
        raise InvoiceRefused(
            f"De pdf van {invoice.number} kan niet worden hersteld: opnieuw maken geeft niet "
            "dezelfde bytes als bij het uitreiken (de controlesom wijkt af). Er is niets "
            "opgeslagen; haal de pdf uit de back-up."
        )
    InvoiceDocument.objects.update_or_create(
        invoice=invoice, kind=InvoiceDocument.Kind.PDF, defaults={"content": content}
    )
    logger.warning("Restored the PDF of invoice %s from its snapshot", invoice.number)
    return True
