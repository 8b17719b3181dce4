"""The invoice PDF, by the site's PDF engine (werkplaats/pdf.py: font, restricted fetcher,
lock, reproducible bytes).

Rendered once, when the invoice is issued, from the invoice's snapshot only, so the same
invoice always gives the same bytes. Each invoice records the layout (template and
stylesheet) it was made with, and is always rendered with that one: a new layout changes the
look of new invoices only, and a stored PDF can still be restored to its recorded SHA-256.
"""

import datetime
import io
from decimal import Decimal
from typing import NamedTuple

from django.template.loader import render_to_string
from django.utils import translation
from pypdf import PdfReader, PdfWriter

from werkplaats import formats, pdf

from .models import Invoice, InvoiceLine, vat_breakdown


class Layout(NamedTuple):
    template: str
    stylesheet: str
    # The stylesheet that adds page numbers to a document of more than one page (None: the
    # stylesheet numbers every page itself).
    page_numbers: str | None = None
    # The stylesheet in place of WeasyPrint's HTML5 defaults (None: WeasyPrint's).
    defaults: str | None = None
    # Layouts 1 and 2 embedded every e-invoice as factuur-<number>.xml, also a credit note's:
    # their bytes keep that name.
    embeds_as_factuur: bool = False
    # Whether the PDF's streams are deflated (werkplaats.pdf.render_html).
    compress: bool = True
    # Whether the template is well-formed XML and has no <head>: the engine parses it in C,
    # and the PDF's title and author are given here (werkplaats.pdf.render_html).
    xml: bool = False


# Per layout, what it is made of. A layout that has been issued is never changed.
LAYOUTS = {
    Invoice.Layout.TABLES: Layout(
        "invoicing/invoice_1.html", "css/invoice_1.css", embeds_as_factuur=True
    ),
    Invoice.Layout.PARAGRAPHS: Layout(
        "invoicing/invoice_2.html",
        "css/invoice_2.css",
        "css/invoice_2_pages.css",
        embeds_as_factuur=True,
    ),
    Invoice.Layout.LIGHT: Layout(
        "invoicing/invoice_3.html",
        "css/invoice_3.css",
        "css/invoice_3_pages.css",
        defaults="css/invoice_3_defaults.css",
        # Some 40 kB instead of 12 for a tenth less time: what it takes to stay within 3x
        # WeasyPrint's bare page (issue 28).
        compress=False,
    ),
    Invoice.Layout.PARSED: Layout(
        "invoicing/invoice_4.html",
        "css/invoice_4.css",
        "css/invoice_3_pages.css",
        defaults="css/invoice_3_defaults.css",
        compress=False,
        xml=True,
    ),
}
FONT_FAMILY = pdf.FONT_FAMILY


def render_html(html, *, layout=Invoice.Layout.PARSED, identifier, created, **options):
    """PDF bytes for `html` with the stylesheets of `layout` (werkplaats.pdf renders it)."""
    made_of = LAYOUTS[layout]
    return pdf.render_html(
        html,
        stylesheet=made_of.stylesheet,
        page_numbers=made_of.page_numbers,
        defaults=made_of.defaults,
        compress=made_of.compress,
        xml=made_of.xml,
        identifier=identifier,
        created=created,
        **options,
    )


def invoice_context(invoice, lines=None):
    """What the template shows of `invoice`; `lines` are its lines (default: those stored)."""
    lines = invoice.ordered_lines() if lines is None else lines
    credited = invoice.credited_invoice if invoice.is_credit_note else None
    return {
        "invoice": invoice,
        "title": "Creditfactuur" if invoice.is_credit_note else "Factuur",
        "invoice_date": formats.day(invoice.invoice_date),
        "due_date": formats.day(invoice.due_date),
        "supply": formats.period(invoice.supply_start, invoice.supply_end),
        # A period is performed ("Prestatieperiode"); only a single day is delivered on.
        "supply_is_period": invoice.supply_start != invoice.supply_end,
        "credited_number": credited.number if credited else "",
        "credited_date": formats.day(credited.invoice_date) if credited else "",
        "lines": [
            {
                "description": line.description,
                "quantity": formats.decimal(line.quantity),
                "unit_price": formats.money(line.unit_price),
                "vat_rate": formats.percentage(line.vat_rate),
                "amount": formats.money(line.amount_excl_vat),
            }
            for line in lines
        ],
        "vat_rows": [
            {
                "rate": formats.percentage(rate),
                "base": formats.money(base),
                "vat": formats.money(vat),
            }
            for rate, base, vat in vat_breakdown(lines)
        ],
        "total_excl_vat": formats.money(invoice.total_excl_vat),
        "total_vat": formats.money(invoice.total_vat),
        "total_incl_vat": formats.money(invoice.total_incl_vat),
        "refund": formats.money(-invoice.total_incl_vat),
        "font_family": FONT_FAMILY,
    }


def render_invoice(invoice, einvoice=None):
    """The invoice's PDF bytes, from its snapshot alone (never the live registration), in the
    layout it was issued with, with the e-invoice bytes `einvoice` embedded when given."""
    made_of = LAYOUTS[invoice.layout]
    context = invoice_context(invoice)
    with translation.override("nl"):
        html = render_to_string(made_of.template, context)
    name = f"factuur-{invoice.number}.xml" if made_of.embeds_as_factuur else invoice.ubl_filename
    attachments = [(name, einvoice, "E-factuur (UBL, SI-UBL 2.0)")]
    # What the <head> of the layouts before 4 says.
    metadata = {"title": f"{context['title']} {invoice.number}", "author": invoice.issuer_name}
    return render_html(
        html,
        layout=invoice.layout,
        identifier=invoice.number,
        created=invoice.invoice_date.isoformat(),
        attachments=attachments if einvoice else (),
        **(metadata if made_of.xml else {}),
    )


COPY_STAMP = (
    "KOPIE. Het origineel is de e-factuur die via Peppol is verstuurd; boek deze kopie niet."
)


def copy_pdf(original):
    """The stored invoice PDF `original`, marked as a copy at the top of its first page, for
    the e-mail alongside an e-invoice sent over Peppol. Made when it is sent: the stored
    PDF (and its SHA-256) stays as issued. The copy carries no embedded e-invoice, so no
    system reads the invoice from it a second time."""
    stamp = pdf.render_html(
        f'<p class="copy">{COPY_STAMP}</p>',
        stylesheet="css/invoice_copy.css",
        identifier="kopie",
        created="2026-01-01",
    )
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(original)).pages:
        writer.add_page(page)
    writer.pages[0].merge_page(PdfReader(io.BytesIO(stamp)).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def warm_up():
    """Make this process ready to render invoices: WeasyPrint imported, its font configuration
    and the current layout's stylesheets and template loaded, and one invoice of made-up data
    laid out, so that Pango has opened the fonts at the invoice's sizes.

    Called where a web worker starts (gunicorn.conf.py, post_fork), so the first person to
    download or issue an invoice after a deploy or a worker restart does not wait for it.
    Tests and management commands do not call it: most of them render no PDF.
    """
    day = datetime.date(2026, 1, 1)
    invoice = Invoice(
        number="0000-0000",
        invoice_date=day,
        due_date=day,
        supply_start=day,
        supply_end=day + datetime.timedelta(days=2),
        customer_organisation="Voorbeeld",
        total_excl_vat=Decimal("1800.00"),
        total_vat=Decimal("378.00"),
        total_incl_vat=Decimal("2178.00"),
        footer_text="Voorbeeld",
    )
    lines = [
        InvoiceLine(
            description="Werkplaats, 1 t/m 3 januari 2026\nDeelnemer: Voorbeeld",
            quantity=Decimal("1"),
            unit_price=Decimal("1800.00"),
            vat_rate=Decimal("21"),
            amount_excl_vat=Decimal("1800.00"),
        )
    ]
    with translation.override("nl"):
        html = render_to_string(LAYOUTS[invoice.layout].template, invoice_context(invoice, lines))
    render_html(html, layout=invoice.layout, identifier=invoice.number, created=day.isoformat())
