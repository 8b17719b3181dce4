"""What the PDF engine does to render faster (issue 28) changes no byte of a document:
WeasyPrint's faster paths for the engine's documents (werkplaats/pdf_speedups.py) and one
garbage collection per render (werkplaats/pdf.py)."""

import contextlib
import cProfile
import gc
import hashlib
import inspect
import pstats

import cffi
import weasyprint
from weasyprint import css
from weasyprint.formatting_structure import boxes
from weasyprint.text import line_break
from weasyprint.text.ffi import ffi
from weasyprint.text.fonts import FontConfiguration

from werkplaats import pdf as engine
from werkplaats import pdf_speedups

# The source of each WeasyPrint function the faster paths mirror, as in WeasyPrint 70.0. When
# a new WeasyPrint changes one, read the change, carry it into werkplaats/pdf_speedups.py, and
# only then record the new hash here.
MIRRORED = {
    "Layout.setup": "fb227a55094f41d42fbd57f180d8b7a9a1e741969ec8ddb3fd5cd80920257442",
    "ComputedStyle.__missing__": "b318d8efc8ac79d716f05cb81cc3abd65a32bd79601e363b218a32559bb3a5fb",
}

# A document that goes through the cases of both paths: languages (also none, and an
# override), both directions, decorations, OpenType features, tabs, logical and physical
# properties, custom properties, calc() also in an inherited property, positioned, floated,
# named pages, generated content, lists, a table, hyphenation, and every white-space.
DOCUMENT = """<!DOCTYPE html>
<html lang="nl"><head><style>
  @page { size: A5; margin: 15mm; @bottom-center { content: counter(page) " / " counter(pages) } }
  @page wide { size: A5 landscape }
  :root { --gap: 3mm; --accent: #13466e }
  body { font-family: "DejaVu Sans"; font-size: 10pt; line-height: 1.4 }
  h1 { color: var(--accent); margin-block-end: var(--gap); text-decoration: underline }
  .indent { text-indent: calc(10% + 1mm); width: calc(100% - 20mm) }
  .rtl { direction: rtl; margin-inline-start: 12mm; padding-inline-end: 2mm }
  .caps { font-variant-caps: small-caps; font-feature-settings: "tnum"; letter-spacing: 0.5pt }
  .kern { font-kerning: none; word-spacing: 2pt; font-language-override: "TRK" }
  .tabs { white-space: pre; tab-size: 4 } .tabs-mm { white-space: pre-wrap; tab-size: 30mm }
  .nowrap { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; width: 40mm }
  .pre-line { white-space: pre-line; font-weight: bold; font-style: italic }
  .hyphens { hyphens: auto; width: 25mm; text-align: justify }
  .break { overflow-wrap: anywhere; width: 20mm; text-decoration: line-through }
  .aside { float: right; width: 30mm; font-size: 8pt; font-stretch: condensed }
  .fixed { position: absolute; top: 0; right: 0; font-size: 7pt }
  .wide { page: wide; break-before: page }
  li::marker { color: var(--accent) } .note::before { content: "Let op: " }
  td { border: 0.5pt solid #999; padding: 1mm 2mm }
</style></head><body>
<p class="fixed">Rechtsboven</p>
<h1>Werkplaats ‘Werken aan wijkontwikkeling’</h1>
<p class="aside">Een kader dat naast de tekst drijft.</p>
<p class="indent">Deelnemers werken drie dagen aan hun eigen <span style="font-variant-caps: small-caps">casus</span>, met een coachgesprek voor
iedereen. <b>Zoë Ağaoğlu</b>, <i>Ζωή</i> and <span style="font-stretch: condensed">Олена</span> staan ook op de lijst.</p>
<p lang="en">An English paragraph, with its own language.</p>
<p lang="">Een alinea zonder taal.</p>
<p class="rtl" lang="he">Factuur 2026-0001: שלום עולם (ومرحبا) 12 €!</p>
<p class="caps">Kleine kapitalen 0123456789</p>
<p class="kern">AVAT Tijdelijk ﬁ fl</p>
<p class="tabs">Factuur\t2026-0001\nDatum\t7 december 2026</p>
<p class="tabs-mm">Label\twaarde\nLanger label\twaarde</p>
<p class="nowrap">Een zin die te lang is voor zijn kader en wordt afgekapt</p>
<p class="pre-line">Regel een
Regel twee   met   spaties</p>
<p class="hyphens">Wijkontwikkelingsprogramma's en samenwerkingsverbanden</p>
<p class="break">Eenheelllangwoordzonderafbreekpunten</p>
<p class="note">Aanmelden kan tot de sluitingsdatum.</p>
<ol><li>Casus</li><li>Coachgesprek</li><li>Evaluatie</li></ol>
<table><tr><td>Prijs</td><td>€ 1.800,00</td></tr><tr><td>Btw 21%</td><td>€ 378,00</td></tr></table>
<p class="wide">Een pagina met een eigen naam en formaat.</p>
</body></html>"""


def render(font_config):
    document = weasyprint.HTML(string=DOCUMENT)
    return document.write_pdf(
        font_config=font_config, pdf_identifier=b"test", uncompressed_pdf=True
    )


def mirrored():
    pdf_speedups.font_configuration()  # puts the paths in place
    return {
        "Layout.setup": line_break.Layout.setup.weasyprint,
        "ComputedStyle.__missing__": css.ComputedStyle.__missing__.weasyprint,
    }


def test_the_faster_paths_mirror_the_weasyprint_they_were_written_against():
    assert weasyprint.__version__ == "70.0"
    sources = {
        name: hashlib.sha256(inspect.getsource(function).encode()).hexdigest()
        for name, function in mirrored().items()
    }
    assert sources == MIRRORED


def test_no_initial_value_holds_a_math_function():
    # The style path takes an initial value as computed, as WeasyPrint's own path does for a
    # value without calc(), min(), max() or clamp().
    assert not [key for key, value in css.INITIAL_VALUES.items() if css.check_math(value)]


def weasyprint_style_calls(font_config):
    """The PDF, and how often WeasyPrint's own ComputedStyle.__missing__ ran for it."""
    profile = cProfile.Profile()
    pdf = profile.runcall(render, font_config)
    code = mirrored()["ComputedStyle.__missing__"].__code__
    calls = sum(
        stats[1]
        for (filename, line, _), stats in pstats.Stats(profile).stats.items()
        if (filename, line) == (code.co_filename, code.co_firstlineno)
    )
    return pdf, calls


def test_a_document_renders_to_the_same_bytes_on_the_faster_paths_as_on_weasyprints():
    sharing = pdf_speedups.font_configuration()
    plain = FontConfiguration()

    faster, weasyprint_calls_faster = weasyprint_style_calls(sharing)
    own, weasyprint_calls_own = weasyprint_style_calls(plain)

    assert faster == own
    # The faster paths were taken: contexts for several languages and both directions, and
    # most style questions answered without WeasyPrint's own path.
    assert {("rtl", "he", "normal"), ("ltr", "nl", "normal"), ("ltr", "en", "normal")} <= set(
        sharing.pango_contexts
    )
    assert any(key[2] == "TRK" for key in sharing.pango_contexts)
    assert len(sharing.font_descriptions) > 5
    assert weasyprint_calls_faster < weasyprint_calls_own / 3
    assert not hasattr(plain, "pango_contexts")


def text_styles(font_config):
    """The style of every piece of text in DOCUMENT as laid out with `font_config`."""
    document = weasyprint.HTML(string=DOCUMENT).render(font_config=font_config)

    def walk(box):
        if isinstance(box, boxes.TextBox):
            yield box.style
        for child in getattr(box, "children", ()):
            yield from walk(child)

    return [style for page in document.pages for style in walk(page._page_box)]


# What a Pango layout says of its context and font, which WeasyPrint's own bindings do not ask.
PANGO = cffi.FFI()
PANGO.cdef("""
    void *pango_layout_get_context (void *layout);
    void *pango_layout_get_font_description (void *layout);
    char *pango_font_description_to_string (void *description);
    void *pango_context_get_language (void *context);
    const char *pango_language_to_string (void *language);
    int pango_context_get_base_dir (void *context);
    int pango_context_get_round_glyph_positions (void *context);
    void g_free (void *memory);
""")
PANGO_LIB = PANGO.dlopen("libpango-1.0.so.0")


def set_up(style):
    """What a layout set up for `style` is made of: its context's base direction, language and
    glyph rounding, its font and the language WeasyPrint keeps with it."""
    layout = line_break.Layout(style)
    pointer = PANGO.cast("void *", int(ffi.cast("uintptr_t", layout.layout)))
    context = PANGO_LIB.pango_layout_get_context(pointer)
    description = PANGO_LIB.pango_font_description_to_string(
        PANGO_LIB.pango_layout_get_font_description(pointer)
    )
    font = PANGO.string(description)
    PANGO_LIB.g_free(description)
    language = PANGO_LIB.pango_context_get_language(context)
    return (
        PANGO_LIB.pango_context_get_base_dir(context),
        PANGO.string(PANGO_LIB.pango_language_to_string(language)) if language else None,
        PANGO_LIB.pango_context_get_round_glyph_positions(context),
        font,
        int(ffi.cast("uintptr_t", layout.language)),
    )


def test_a_layout_on_the_kept_objects_is_set_up_as_weasyprint_sets_it_up():
    # Direction, language and font of text, which not every document shows in its bytes.
    sharing, plain = pdf_speedups.font_configuration(), FontConfiguration()
    ours, weasyprints = text_styles(sharing), text_styles(plain)
    assert len(ours) == len(weasyprints) > 20
    assert [set_up(style) for style in ours] == [set_up(style) for style in weasyprints]
    # PANGO_DIRECTION_LTR is 0, _RTL 1.
    assert {set_up(style)[:2] for style in ours} >= {(1, b"he"), (0, b"nl"), (0, b"en")}


def test_a_second_render_on_the_kept_objects_gives_the_same_bytes():
    sharing = pdf_speedups.font_configuration()
    first = render(sharing)
    kept = dict(sharing.pango_contexts)
    assert render(sharing) == first
    assert sharing.pango_contexts == kept


def collections_during(function):
    generations = []

    def record(phase, info):
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(record)
    try:
        function()
    finally:
        gc.callbacks.remove(record)
    return generations


def render_a_page():
    return engine.render_html(
        "<p>Een pagina.</p>", stylesheet="css/invoice_4.css", identifier="x", created="2026-12-07"
    )


def test_a_render_collects_garbage_once_at_its_end(monkeypatch):
    render_a_page()  # the engine is set up, as in a warm worker
    thresholds = gc.get_threshold()
    gc.set_threshold(100, 2, 2)  # however soon the collector would run
    try:
        assert collections_during(render_a_page) == [0]
        assert gc.isenabled()
        # Without the pause it runs as the render goes, also on the older generation.
        monkeypatch.setattr(engine, "_one_collection", contextlib.nullcontext)
        without = collections_during(render_a_page)
        assert len(without) > 1 and 1 in without
    finally:
        gc.set_threshold(*thresholds)


def test_a_render_leaves_a_paused_collector_paused():
    render_a_page()
    gc.disable()
    try:
        assert collections_during(render_a_page) == []
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_engine_renders_on_the_faster_paths():
    render_a_page()
    fonts = engine._cache["fonts"]
    assert type(fonts) is pdf_speedups._installed()
    assert fonts.pango_contexts and fonts.font_descriptions
