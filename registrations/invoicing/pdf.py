"""The invoice PDF: templates/invoicing/invoice.html with static/css/invoice.css, by WeasyPrint.

Rendered once, when the invoice is issued, from the invoice's snapshot only, so the same
invoice always gives the same bytes. WeasyPrint is imported on first use: it costs most of
a second, which views that never render a PDF should not pay.
"""

import atexit
import datetime
import mimetypes
import threading
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from werkplaats import formats

from .models import vat_breakdown

# The one font of the invoice, from Debian's fonts-dejavu-core, embedded through @font-face
# so a missing file stops the render instead of falling back to whatever the system has.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FAMILY = "Factuur DejaVu Sans"
FONT_FILES = {"normal": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
STYLESHEET = "css/invoice.css"
# PDF/A-3b: the archival variant, so the file stays readable for the 7 years it is kept.
PDF_OPTIONS = {"pdf_variant": "pdf/a-3b"}

_lock = threading.Lock()
_cache = {}


def static_dirs():
    return [Path(directory).resolve() for directory in settings.STATICFILES_DIRS]


def stylesheet_path():
    for directory in static_dirs():
        if (directory / STYLESHEET).is_file():
            return directory / STYLESHEET
    raise FileNotFoundError(f"{STYLESHEET} is not in STATICFILES_DIRS")


def font_paths():
    return {weight: FONT_DIR / name for weight, name in FONT_FILES.items()}


def font_face_css():
    return "\n".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight}; '
        f'src: url("{path.as_uri()}"); }}'
        for weight, path in font_paths().items()
    )


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyURLFetcher(URLFetcher):
        """Serves our own static files and the invoice font, nothing else.

        No network (http, https, ftp, data), and no file:// outside those folders: an
        invoice template or a customer's text can never pull in a remote or private file.
        fail_on_errors makes a refused or missing file stop the render.
        """

        def __init__(self):
            super().__init__(allowed_protocols={"file"}, fail_on_errors=True)
            self.roots = static_dirs()
            self.files = {path.resolve() for path in font_paths().values()}

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise ValueError(f"Factuur-pdf haalt niets op van buiten: {url}")
            path = Path(url2pathname(parts.path)).resolve()
            allowed = path in self.files or any(path.is_relative_to(root) for root in self.roots)
            if not allowed or not path.is_file():
                raise ValueError(f"Factuur-pdf mag dit bestand niet gebruiken: {url}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
            )

    return StaticOnlyURLFetcher


def _engine():
    """The fetcher, font configuration and parsed stylesheets, made once per process.

    One FontConfiguration for all renders: building it costs more than a render. The
    stylesheet is parsed again only when the file changed (local development).
    """
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    css_path = stylesheet_path()
    key = (css_path, css_path.stat().st_mtime_ns)
    if _cache.get("key") != key:
        fetcher = _cache.get("fetcher") or _fetcher_class()()
        if "fonts" not in _cache:
            # Drop it before the interpreter tears down the modules its __del__ needs.
            atexit.register(_cache.clear)
        fonts = _cache.get("fonts") or FontConfiguration()
        _cache.update(
            key=key,
            fetcher=fetcher,
            fonts=fonts,
            stylesheets=[
                CSS(string=font_face_css(), font_config=fonts, url_fetcher=fetcher),
                CSS(
                    url=css_path.as_uri(),
                    font_config=fonts,
                    url_fetcher=fetcher,
                ),
            ],
        )
    return _cache


def render_html(html, *, identifier, created, stylesheets=True, attachments=()):
    """PDF bytes for `html` with the invoice options; `created` is an ISO date.

    `attachments`: (file name, bytes, description) to embed, as PDF/A-3 allows; an embedded
    e-invoice is the "Alternative" form of the same invoice (as in Factur-X/ZUGFeRD).
    The fixed creation date and identifier make the output reproducible byte for byte.
    Renders one at a time: WeasyPrint's font machinery is not made for threads.
    """
    from weasyprint import HTML, Attachment

    moment = datetime.datetime.fromisoformat(created)
    with _lock:
        engine = _engine()
        # Made for each render: WeasyPrint cannot reuse an Attachment.
        embedded = [
            Attachment(
                string=content,
                name=name,
                description=description,
                created=moment,
                modified=moment,
                relationship="Alternative",
                url_fetcher=engine["fetcher"],
            )
            for name, content, description in attachments
        ]
        document = HTML(
            string=html,
            base_url=static_dirs()[0].as_uri() + "/",
            url_fetcher=engine["fetcher"],
        ).render(
            font_config=engine["fonts"],
            stylesheets=engine["stylesheets"] if stylesheets else [],
            **PDF_OPTIONS,
        )
        document.metadata.created = created
        document.metadata.modified = created
        return document.write_pdf(
            pdf_identifier=identifier.encode(), attachments=embedded, **PDF_OPTIONS
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
    """The invoice's PDF bytes, from its snapshot alone (never the live registration), with
    the e-invoice bytes `einvoice` embedded when given."""
    with translation.override("nl"):
        html = render_to_string("invoicing/invoice.html", invoice_context(invoice))
    attachments = [(invoice.ubl_filename, einvoice, "E-factuur (UBL, SI-UBL 2.0)")]
    return render_html(
        html,
        identifier=invoice.number,
        created=invoice.invoice_date.isoformat(),
        attachments=attachments if einvoice else (),
    )
