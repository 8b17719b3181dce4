"""The invoice PDF, by the site's PDF engine (werkplaats/pdf.py: font, restricted fetcher,
lock, reproducible bytes).

Rendered once, when the invoice is issued, from the invoice's snapshot only, so the same
invoice always gives the same bytes. Each invoice records the layout (template and
stylesheet) it was made with, and is always rendered with that one: a new layout changes the
look of new invoices only, and a stored PDF can still be restored to its recorded SHA-256.
"""

from django.template.loader import render_to_string
from django.utils import translation

from werkplaats import formats, pdf

from .models import Invoice, vat_breakdown

# Per layout: its template, its stylesheet, and the stylesheet that adds page numbers to a
# document of more than one page (None: the stylesheet numbers every page itself). A layout
# that has been issued is never changed.
LAYOUTS = {
    Invoice.Layout.TABLES: ("invoicing/invoice_1.html", "css/invoice_1.css", None),
    Invoice.Layout.PARAGRAPHS: (
        "invoicing/invoice_2.html",
        "css/invoice_2.css",
        "css/invoice_2_pages.css",
    ),
}
FONT_FAMILY = pdf.FONT_FAMILY


def render_html(html, *, layout=Invoice.Layout.PARAGRAPHS, identifier, created, **options):
    """PDF bytes for `html` with the stylesheets of `layout` (werkplaats.pdf renders it)."""
    _, stylesheet, page_numbers = LAYOUTS[layout]
    return pdf.render_html(
        html,
        stylesheet=stylesheet,
        page_numbers=page_numbers,
        identifier=identifier,
        created=created,
        **options,
    )


def invoice_context(invoice):
    lines = list(invoice.lines.all())
    credited = invoice.credited_invoice if invoice.is_credit_note else None
    return {
        "invoice": invoice,
        "title": "Creditfactuur" if invoice.is_credit_note else "Factuur",
        "invoice_date": formats.day(invoice.invoice_date),
        "due_date": formats.day(invoice.due_date),
        "supply": formats.period(invoice.supply_start, invoice.supply_end),
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
    template = LAYOUTS[invoice.layout][0]
    with translation.override("nl"):
        html = render_to_string(template, invoice_context(invoice))
    attachments = [(invoice.ubl_filename, einvoice, "E-factuur (UBL, SI-UBL 2.0)")]
    return render_html(
        html,
        layout=invoice.layout,
        identifier=invoice.number,
        created=invoice.invoice_date.isoformat(),
        attachments=attachments if einvoice else (),
    )
