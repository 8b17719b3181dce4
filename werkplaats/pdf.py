"""The PDF engine every document of the site shares: invoices, attendance lists, name badges
and certificates. WeasyPrint with one embedded font, a URL fetcher that only serves our own
static files, one render at a time, and reproducible bytes.

WeasyPrint is imported on first use: it costs most of a second, which views that never render
a PDF should not pay.
"""

import atexit
import contextlib
import datetime
import functools
import gc
import mimetypes
import threading
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname
from xml.etree import ElementTree

import cssselect2
from django.conf import settings

from werkplaats import pdf_speedups

# The one font of every PDF, from Debian's fonts-dejavu-core, embedded through @font-face
# so a missing file stops the render instead of falling back to whatever the system has.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# The family name the stylesheets use. Kept from when only invoices were rendered: stored
# invoices are restored only when a new render has exactly the recorded bytes.
FONT_FAMILY = "Factuur DejaVu Sans"
FONT_FILES = {"normal": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
# PDF/A-3b: the archival variant, so a file stays readable for as long as it is kept.
PDF_OPTIONS = {"pdf_variant": "pdf/a-3b"}

_lock = threading.Lock()
_cache = {}


def static_dirs():
    return _resolved(tuple(settings.STATICFILES_DIRS))


@functools.cache
def _resolved(directories):
    # Resolved once per setting (a test may override it): resolving walks every folder of
    # the path, on every render.
    return [Path(directory).resolve() for directory in directories]


def stylesheet_path(stylesheet):
    for directory in static_dirs():
        if (directory / stylesheet).is_file():
            return directory / stylesheet
    raise FileNotFoundError(f"{stylesheet} is not in STATICFILES_DIRS")


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
        """Serves our own static files and the font, nothing else.

        No network (http, https, ftp, data), and no file:// outside those folders: a
        template or a participant's text can never pull in a remote or private file.
        fail_on_errors makes a refused or missing file stop the render.
        """

        def __init__(self):
            super().__init__(allowed_protocols={"file"}, fail_on_errors=True)
            self.roots = static_dirs()
            self.files = {path.resolve() for path in font_paths().values()}

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise ValueError(f"Pdf haalt niets op van buiten: {url}")
            path = Path(url2pathname(parts.path)).resolve()
            allowed = path in self.files or any(path.is_relative_to(root) for root in self.roots)
            if not allowed or not path.is_file():
                raise ValueError(f"Pdf mag dit bestand niet gebruiken: {url}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
            )

    return StaticOnlyURLFetcher


class Elements(cssselect2.ElementWrapper):
    """cssselect2's view of the elements of a document parsed here (OwnHTML), compiling a
    selector given as text once per process. WeasyPrint asks every document for its <style>,
    <link>, <title> and <meta> elements by such selectors, and cssselect2 compiles them anew
    each time (to Python source, then eval): some 0.2 ms of every render."""

    @staticmethod
    def _compile(selectors):
        if all(isinstance(selector, str) for selector in selectors):
            return _compiled(selectors)
        return cssselect2.ElementWrapper._compile(selectors)


_compiled = functools.cache(cssselect2.ElementWrapper._compile)


def _document_class():
    from weasyprint import HTML

    class OwnHTML(HTML):
        """An HTML document, with two things WeasyPrint has no option for.

        `defaults`: our user-agent stylesheet instead of WeasyPrint's. WeasyPrint matches
        every element against its HTML5 defaults (some 250 rules for every element HTML has),
        about a tenth of a one-page render; a document of a few elements that sets its own
        margins and fonts needs a handful of them.

        `xml`: the text is well-formed XML (a template written that way), so ElementTree's
        expat parses it, in C: 0.02 ms instead of 0.75 ms for an invoice in tinyhtml5, the
        HTML5 parser in pure Python, and to the same elements. HTML.__init__ takes no parsed
        tree, so this sets what it sets after parsing. Text that is no XML after all (a
        control character in a name) is parsed as HTML, as before.
        """

        def __init__(self, *, string, base_url, url_fetcher, defaults=None, xml=False):
            self.defaults = defaults
            root = _xml_root(string) if xml else None
            if root is None:
                super().__init__(string=string, base_url=base_url, url_fetcher=url_fetcher)
                return
            self.base_url = base_url
            self.url_fetcher = url_fetcher
            self.media_type = "print"
            self.wrapper_element = Elements.from_html_root(root, content_language=None)
            self.etree_element = self.wrapper_element.etree_element

        def _ua_stylesheets(self, forms=False):
            if self.defaults is None:
                return super()._ua_stylesheets(forms)
            return self.defaults

    return OwnHTML


def _xml_root(text):
    """The root element of `text` as XML, or None when it is not well-formed XML."""
    try:
        return ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return None


def _parsed(stylesheet):
    """`stylesheet` (a path under static/) parsed, once per file and again only when it
    changed (local development)."""
    from weasyprint import CSS

    css_path = stylesheet_path(stylesheet)
    key = (css_path, css_path.stat().st_mtime_ns)
    parsed = _cache["sheets"].get(stylesheet)
    if parsed is None or parsed[0] != key:
        sheet = CSS(
            url=css_path.as_uri(), font_config=_cache["fonts"], url_fetcher=_cache["fetcher"]
        )
        parsed = (key, sheet)
        _cache["sheets"][stylesheet] = parsed
    return parsed[1]


def _engine(*stylesheets):
    """The fetcher and font configuration (once per process) and the parsed `stylesheets`,
    each after the @font-face rules (once per file, again only when it changed: local
    development).

    One font configuration for all renders: building it costs more than a render. Its
    documents take the faster paths of werkplaats/pdf_speedups.py.
    """
    from weasyprint import CSS

    if "fonts" not in _cache:
        # Drop it before the interpreter tears down the modules its __del__ needs.
        atexit.register(_cache.clear)
        _cache.update(
            fetcher=_fetcher_class()(), fonts=pdf_speedups.font_configuration(), sheets={}
        )
        _cache["font faces"] = CSS(
            string=font_face_css(), font_config=_cache["fonts"], url_fetcher=_cache["fetcher"]
        )
    sheets = [_cache["font faces"], *(_parsed(stylesheet) for stylesheet in stylesheets)]
    return _cache["fetcher"], _cache["fonts"], sheets


@contextlib.contextmanager
def _one_collection():
    """The cyclic garbage collector paused for the render and run once after it.

    A render makes some ten thousand objects that live until it ends (boxes, styles, Pango
    layouts) and leaves several hundred in reference cycles. With the collector on, it ran
    in the middle of the render, went through those live objects and moved them to an
    older generation, whose collections then went through them again. Run once on the
    youngest generation after the document is released (render_html), it frees the render's
    cycles in one go and within the render's own time: some 2% of a warm invoice render
    (issue 28). The pause holds for the whole process, for the 15 ms of a render; a
    collector that was paused already stays paused.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)


def render_html(
    html,
    *,
    stylesheet,
    identifier,
    created,
    stylesheets=True,
    attachments=(),
    page_numbers=None,
    defaults=None,
    compress=True,
    xml=False,
    title=None,
    author=None,
):
    """PDF bytes for `html` with `stylesheet` (a path under static/); `created` is an ISO date.

    `page_numbers`: a stylesheet that only adds margin boxes ("Pagina 1 van 2"), used when the
    document has more than one page. On a one-page document they tell nothing, and laying
    them out costs a tenth of a render; margin boxes never move the content, so the pages
    are the same with and without them.
    `attachments`: (file name, bytes, description) to embed, as PDF/A-3 allows; an embedded
    e-invoice is the "Alternative" form of the same invoice (as in Factur-X/ZUGFeRD).
    `defaults`: a stylesheet (a path under static/) that replaces WeasyPrint's HTML5 defaults,
    for a document that states every default it relies on (OwnHTML).
    `compress`: deflate the PDF's streams; without, a one-page document is about three times
    larger (still some 40 kB) and takes a tenth less time.
    `xml`: `html` is well-formed XML, parsed in C (OwnHTML).
    `title`, `author`: the PDF's title and author, for a document without <head>: its <title>
    and <meta name="author"> would be four more elements to style for what the PDF's
    information dictionary and XMP metadata say anyway.
    The fixed creation date and identifier make the output reproducible byte for byte.
    Renders one at a time: WeasyPrint's font machinery is not made for threads.
    """
    from weasyprint import Attachment

    moment = datetime.datetime.fromisoformat(created)
    with _lock, _one_collection():
        fetcher, fonts, sheets = _engine(stylesheet, *([page_numbers] if page_numbers else []))
        document_class = _cache.setdefault("document class", _document_class())
        options = {"defaults": [_parsed(defaults)] if defaults else None, "xml": xml}

        def render(sheets):
            return document_class(
                string=html,
                base_url=static_dirs()[0].as_uri() + "/",
                url_fetcher=fetcher,
                **options,
            ).render(font_config=fonts, stylesheets=sheets if stylesheets else [], **PDF_OPTIONS)

        document = render(sheets[:2])
        if page_numbers and len(document.pages) > 1:
            document = render(sheets)
        # Made for each render: WeasyPrint cannot reuse an Attachment.
        embedded = [
            Attachment(
                string=content,
                name=name,
                description=description,
                created=moment,
                modified=moment,
                relationship="Alternative",
                url_fetcher=fetcher,
            )
            for name, content, description in attachments
        ]
        if title is not None:
            document.metadata.title = title
        if author is not None:
            document.metadata.authors = [author]
        document.metadata.created = created
        document.metadata.modified = created
        pdf = document.write_pdf(
            pdf_identifier=identifier.encode(),
            attachments=embedded,
            uncompressed_pdf=not compress,
            **PDF_OPTIONS,
        )
        # Gone before the collection at the end of the block, which then need not go
        # through them (they are freed without it).
        del document, embedded
    return pdf
