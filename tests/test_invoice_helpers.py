"""Shared helpers for the invoice tests (this module holds no tests of its own)."""

import io
import re

from pypdf import PdfReader

from registrations.models import InvoiceIssuer

ISSUER = {
    "name": "Platform31",
    "street": "Postbus 30833",
    "postcode": "2500 GV",
    "city": "Den Haag",
    "country": "NL",
    "kvk_number": "27169301",
    "vat_id": "NL000099998B57",
    "iban": "NL91ABNA0417164300",
    "bic": "ABNANL2A",
    "email": "facturen@platform31.example.nl",
    "payment_term_days": 30,
    "footer_text": "Op onze diensten zijn de algemene voorwaarden van Platform31 van toepassing.",
}


def make_issuer(**overrides):
    issuer = InvoiceIssuer.load()
    for field, value in {**ISSUER, **overrides}.items():
        setattr(issuer, field, value)
    issuer.full_clean()
    issuer.save()
    return issuer


def pdf_text(content):
    """All text of a PDF, whitespace collapsed to single spaces."""
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " "))


def stored_pdf(invoice):
    with invoice.pdf.open("rb") as handle:
        return handle.read()


def start_invoicing(settings, tmp_path):
    """A complete issuer and a private MEDIA_ROOT for the PDFs (for an `invoicing` fixture)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return make_issuer()
