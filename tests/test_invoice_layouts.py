"""Invoice layouts: an issued layout never changes its bytes (each invoice is restored with the
layout it records), and what the current layout says."""

import datetime
import gc
import hashlib
import io
import runpy
import subprocess
from decimal import Decimal

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from registrations.invoicing import pdf
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice
from tests.conftest import (
    make_edition,
    make_issuer,
    make_registration,
    pdf_text,
    pdf_text_pieces,
    stored_pdf,
)
from werkplaats import pdf as engine

AT = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)
# Stands in for the e-invoice: what is embedded, and under which name, is the layout's part.
EINVOICE = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
)
# SHA-256 of the PDFs of an invoice, its credit note and an invoice of two pages in layouts 1
# and 2, without and with an embedded e-invoice, as rendered before layout 3 (commit 0116dee),
# in layout 3 as rendered before layout 4 (commit c2b0379), and in layout 4 as rendered before
# the engine's faster paths (commit ca2eeba).
FROZEN_SHA256 = {
    (1, "2022-0001", False): "450fa68249940076234ffa13cdb8c76e7c51126953df2d043c154275aa2983e5",
    (1, "2022-0001", True): "22202f87f313f009d88f659a64839e3a8444711faca277f35b999a0b9365d317",
    (2, "2022-0001", False): "e52323b3e92ed14e1788a1fc9f4d85e22957f1eba8508d6f506221d90b511d39",
    (2, "2022-0001", True): "d69b5aa7a53a3e120566122d5741999089184ee8772869cc89f9bf74fa12794c",
    (1, "2022-0002", False): "7e9e102ab14fb0791525fd117966ec16a2e02370136741e551c9572b12fcf90c",
    (1, "2022-0002", True): "9a493ce3e6f6dcd9e96b8ca4ae6e0cdbe86a7497f76325430e4c9b6eb2c17552",
    (2, "2022-0002", False): "68b80200ffb1839dff4063d8e93ab1eeb5bd768aea2972bb33218af0099a2da0",
    (2, "2022-0002", True): "e126b354d816351f9ba1fe7ab149739d13bf68390bef57a4e58032dafc01ed0d",
    (1, "2022-0003", False): "4ab159256828651de826018fe800ca1357ae99d854a11dab1dac9e31604188c3",
    (1, "2022-0003", True): "837790d581f74e0f1da331a16f263a4c4a9b8379cf0c46bd3ea431f7f451fef8",
    (2, "2022-0003", False): "9646ea2d323099be0fb27c4de97b648359cfdcfdf1bd3945c8b4787702561908",
    (2, "2022-0003", True): "8d429fa8ee637f2fca45c66137dece31cbe4d06a1558977fdbd527248cbae13d",
    (3, "2022-0001", False): "7fe7c10ce562e00ddea9c38062d75516d8bceaadce04f87f39b77d68285e2495",
    (3, "2022-0001", True): "3ec485ddf202e63ab2eadf00ddeaf9b2f45b5b903867dd625dd6470f3be8da84",
    (3, "2022-0002", False): "0eb53b75facd679e54a0e4f543f872026c8355c621977aa77519dc7785829ff3",
    (3, "2022-0002", True): "28293277ee49d2f25dfa7e65ae33f6db2cb7116cf63e3cdd8454c1fa47af9f53",
    (3, "2022-0003", False): "20988208f898d19faa8006e1dd9ce3e0dcd05704f22f1820715f7ac20802012d",
    (3, "2022-0003", True): "b0eccdc164af8707c27ef41194b943051f994a5932a707f4cc8951c01e2f40b5",
    (4, "2022-0001", False): "f56299f8db975d6ccbdcd8546bc999a9ac60d56ac4f1c1dacfedb7f615c134f2",
    (4, "2022-0001", True): "d1c2674245f3090c9602b40021a1679c5211a3d978cda0509ca373dfe7f5f9d5",
    (4, "2022-0002", False): "08aed183ceb3fdb66e5d76eeaf2d8cd160e93dd93bc45b01a560cc1ffa60b4b5",
    (4, "2022-0002", True): "a2ca516aa1469745d26d07d6b263121580d6d5811152a78ca1c5d0d7eb365a07",
    (4, "2022-0003", False): "434ff2625b1cd9820a1fb0f10cc956d7e8f9660980407eaefd9b442e4021e14a",
    (4, "2022-0003", True): "5eeb20b4af304dc9265c0ac8366643a634ffd0a86d25a891ea25349c0ade52e3",
}


@pytest.fixture
def three_invoices(invoicing, edition_2022):
    """An invoice, its credit note three days later, and an invoice of 40 lines (two pages)."""
    registration = make_registration(
        edition_2022, vat_id="NL002220000B01", po_number="PO-2022-0042"
    )
    invoice = issue_invoice(registration, at=AT)
    credit = credit_invoice(invoice, at=AT + datetime.timedelta(days=3))
    lines = [(f"Maaltijd dag {day}", 1, Decimal("33.35"), Decimal("9")) for day in range(1, 41)]
    long = issue_invoice(make_registration(edition_2022), at=AT, lines=lines)
    return [invoice, credit, long]


def test_issued_layouts_render_the_bytes_they_always_did(three_invoices):
    # Layout 4 first: its stylesheet declares the Latin font under layout 3's family name too,
    # and the second declaration in the process must change nothing of layout 3.
    three_invoices[0].layout = Invoice.Layout.PARSED
    pdf.render_invoice(three_invoices[0])
    rendered = {}
    for invoice in three_invoices:
        for layout in (1, 2, 3, 4):
            invoice.layout = layout  # in memory only: the row is frozen
            for embedded in (False, True):
                content = pdf.render_invoice(invoice, einvoice=EINVOICE if embedded else None)
                rendered[layout, invoice.number, embedded] = hashlib.sha256(content).hexdigest()
    assert rendered == FROZEN_SHA256


def embedded_font_families(content):
    families = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            data = descriptor.get_object()["/FontFile2"].get_object().get_data()
            families.add(TTFont(io.BytesIO(data))["name"].getDebugName(1))
    return families


def test_new_invoices_get_layout_4(three_invoices):
    assert {invoice.layout for invoice in three_invoices} == {Invoice.Layout.PARSED}


def test_an_edition_of_several_days_is_a_prestatieperiode(three_invoices):
    text = pdf_text(stored_pdf(three_invoices[0]))
    assert "Prestatieperiode 21 t/m 23 november 2022" in text
    assert "Leveringsdatum" not in text


def test_an_edition_of_one_day_has_a_leveringsdatum(invoicing):
    day = datetime.date(2030, 3, 12)
    edition = make_edition(start_date=day, end_date=day)
    text = pdf_text(stored_pdf(issue_invoice(make_registration(edition), at=AT)))
    assert "Leveringsdatum 12 maart 2030" in text
    assert "Prestatieperiode" not in text


def test_a_credit_note_crediteert_its_invoice(three_invoices):
    text = pdf_text(stored_pdf(three_invoices[1]))
    assert "Deze creditfactuur crediteert factuur 2022-0001 van 12 september 2022." in text
    assert "vervalt" not in text


def test_a_credit_note_downloads_and_embeds_its_e_invoice_as_creditfactuur(
    three_invoices, client, finance_user
):
    invoice, credit, _ = three_invoices
    assert (invoice.filename, invoice.ubl_filename) == (
        "factuur-2022-0001.pdf",
        "factuur-2022-0001.xml",
    )
    assert (credit.filename, credit.ubl_filename) == (
        "creditfactuur-2022-0002.pdf",
        "creditfactuur-2022-0002.xml",
    )
    client.force_login(finance_user)
    response = client.get(reverse("admin:invoicing_invoice_pdf", args=[credit.number]))
    assert response["Content-Disposition"] == 'attachment; filename="creditfactuur-2022-0002.pdf"'
    response = client.get(reverse("admin:invoicing_invoice_ubl", args=[credit.number]))
    assert response["Content-Disposition"] == 'attachment; filename="creditfactuur-2022-0002.xml"'
    assert list(PdfReader(io.BytesIO(stored_pdf(credit))).attachments) == [
        "creditfactuur-2022-0002.xml"
    ]
    # Layout 2 embedded it as factuur-…, and its bytes keep that name.
    credit.layout = Invoice.Layout.PARAGRAPHS
    layout_2 = pdf.render_invoice(credit, einvoice=EINVOICE)
    assert list(PdfReader(io.BytesIO(layout_2)).attachments) == ["factuur-2022-0002.xml"]


def test_layout_3_puts_every_text_where_layout_2_did(three_invoices):
    for invoice in three_invoices:
        invoice.layout = Invoice.Layout.PARAGRAPHS
        before = pdf_text_pieces(pdf.render_invoice(invoice))
        invoice.layout = Invoice.Layout.LIGHT
        after = pdf_text_pieces(pdf.render_invoice(invoice))
        moved = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
        # Only the words changed, in the same places.
        assert [(old[:3], new[:3]) for old, new in moved] == [
            (old[:3], old[:3]) for old, _ in moved
        ]
        assert {new[3].split()[0] for _, new in moved} <= {"Prestatieperiode", "Deze"}


@pytest.mark.parametrize("layout", [Invoice.Layout.LIGHT, Invoice.Layout.PARSED])
def test_own_defaults_give_the_bytes_of_weasyprints_defaults(three_invoices, monkeypatch, layout):
    for invoice in three_invoices:
        invoice.layout = layout  # in memory only
    ours = [pdf.render_invoice(invoice) for invoice in three_invoices]
    made_of = pdf.LAYOUTS[layout]
    monkeypatch.setitem(pdf.LAYOUTS, layout, made_of._replace(defaults=None))
    assert [pdf.render_invoice(invoice) for invoice in three_invoices] == ours


def test_layout_4_embeds_only_dejavu_also_for_a_name_outside_its_latin_cut(invoicing, edition_2022):
    latin = issue_invoice(make_registration(edition_2022, first_name="Zoë", last_name="Ağaoğlu"))
    greek = issue_invoice(make_registration(edition_2022, first_name="Ζωή", last_name="Олена"))

    assert "Deelnemer: Zoë Ağaoğlu" in pdf_text(stored_pdf(latin))
    assert "Deelnemer: Ζωή Олена" in pdf_text(stored_pdf(greek))
    assert embedded_font_families(stored_pdf(latin)) == {"DejaVu Sans"}
    assert embedded_font_families(stored_pdf(greek)) == {"DejaVu Sans"}
    # The Latin cut alone for the first; the whole font comes in for Greek and Cyrillic.
    fonts = PdfReader(io.BytesIO(stored_pdf(greek))).pages[0]["/Resources"]["/Font"]
    assert len(fonts) == 2
    assert len(PdfReader(io.BytesIO(stored_pdf(latin))).pages[0]["/Resources"]["/Font"]) == 1


# The layout new invoices get.
CURRENT = pdf.LAYOUTS[Invoice._meta.get_field("layout").default]


def test_warm_up_loads_the_current_layout_without_the_database():
    # No db fixture: a query would fail the test.
    engine._cache.get("sheets", {}).clear()
    pdf.warm_up()
    assert {CURRENT.stylesheet, CURRENT.defaults} <= set(engine._cache["sheets"])


def test_a_gunicorn_worker_warms_up_the_invoice_layout_after_the_fork():
    # gunicorn.conf.py's post_fork runs settings.WORKER_WARM_UP, the invoice layout among them,
    # then collects what starting left behind and freezes the rest, so no full collection of
    # it falls in the worker's first requests.
    assert "registrations.invoicing.pdf.warm_up" in settings.WORKER_WARM_UP
    engine._cache.get("sheets", {}).clear()
    gc.unfreeze()
    try:
        runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))["post_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the test process is no worker
    assert {CURRENT.stylesheet, CURRENT.defaults} <= set(engine._cache["sheets"])


def test_the_pdf_reads_the_lines_in_their_order_in_one_query(
    three_invoices, django_assert_num_queries
):
    long = Invoice.objects.get(pk=three_invoices[2].pk)
    with django_assert_num_queries(1):
        lines = long.ordered_lines()
    assert [line.pk for line in lines] == [line.pk for line in long.lines.order_by("position")]
    assert [line.description for line in lines[:2]] == ["Maaltijd dag 1", "Maaltijd dag 2"]
    assert len(lines) == 40


@pytest.fixture
def varied_invoices(three_invoices, edition_2022, settings):
    """The three invoices, and invoices with what else the layout shows: a line of VAT
    exemption, a name outside the Latin cut of the font, the issuer's e-mail address, and
    the watermark and warning of an issuer with example data (issued in development only)."""
    exempt = make_edition(vat_exemption_text="Vrijgesteld van btw op grond van art. 11 Wet OB")
    invoices = [
        *three_invoices,
        issue_invoice(make_registration(exempt, vat_rate=0), at=AT),
        issue_invoice(make_registration(edition_2022, first_name="Ζωή", last_name="Олена")),
    ]
    make_issuer(email="facturen@platform31.example")
    invoices.append(issue_invoice(make_registration(edition_2022, po_number="")))
    settings.DEBUG = True
    make_issuer(is_example=True)
    invoices.append(issue_invoice(make_registration(edition_2022)))
    return invoices


def pixels(content, tmp_path):
    """Every page of a PDF as raw pixels (poppler's pdftoppm, 100 dpi, PPM)."""
    source = tmp_path / "document.pdf"
    source.write_bytes(content)
    for old in tmp_path.glob("page*.ppm"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "100", str(source), str(tmp_path / "page")], check=True)
    return [page.read_bytes() for page in sorted(tmp_path.glob("page*.ppm"))]


def test_layout_4_gives_layout_3s_pages_pixel_for_pixel(varied_invoices, tmp_path):
    assert {invoice.layout for invoice in varied_invoices} == {Invoice.Layout.PARSED}
    for invoice in varied_invoices:
        four = pdf.render_invoice(invoice, einvoice=EINVOICE)
        invoice.layout = Invoice.Layout.LIGHT  # in memory only
        three = pdf.render_invoice(invoice, einvoice=EINVOICE)
        assert pixels(four, tmp_path) == pixels(three, tmp_path), invoice.number
        # Every piece of text in the same place, and the same document around it.
        assert pdf_text_pieces(four) == pdf_text_pieces(three)
        old, new = PdfReader(io.BytesIO(three)), PdfReader(io.BytesIO(four))
        assert len(new.pages) == len(old.pages)
        assert new.metadata == old.metadata
        assert new.trailer["/Root"]["/Lang"] == old.trailer["/Root"]["/Lang"] == "nl"
        assert [entry["/Title"] for entry in new.outline] == [
            entry["/Title"] for entry in old.outline
        ]
        assert new.attachments == old.attachments
        # PDF/A-3b, as declared in the XMP metadata.
        xmp = [reader.trailer["/Root"]["/Metadata"].get_data() for reader in (old, new)]
        assert xmp[0] == xmp[1]
        assert b'pdfaid:part="3"' in xmp[1] and b'pdfaid:conformance="B"' in xmp[1]
    texts = [pdf_text(stored_pdf(invoice)) for invoice in varied_invoices]
    assert "Vrijgesteld van btw op grond van art. 11 Wet OB" in texts[3]
    assert "Deelnemer: Ζωή Олена" in texts[4]
    assert "facturen@platform31.example" in texts[5]
    assert "VOORBEELD" in texts[6]


def test_layout_4_parsed_as_xml_gives_the_bytes_of_the_html5_parser(varied_invoices, monkeypatch):
    parsed = [pdf.render_invoice(invoice, einvoice=EINVOICE) for invoice in varied_invoices]
    # As OwnHTML does with a text that is no XML: WeasyPrint's own HTML5 parser.
    monkeypatch.setattr(engine, "_xml_root", lambda text: None)
    assert [pdf.render_invoice(invoice, einvoice=EINVOICE) for invoice in varied_invoices] == (
        parsed
    )


def test_a_control_character_in_a_name_is_rendered_by_the_html5_parser_as_in_layout_3(
    invoicing, edition_2022, tmp_path
):
    # XML 1.0 has no place for a vertical tab: that text goes to WeasyPrint's HTML5 parser.
    invoice = issue_invoice(make_registration(edition_2022, last_name="Jansen\x0bde Vries"))
    html = render_to_string(CURRENT.template, pdf.invoice_context(invoice))
    assert "Jansen\x0bde Vries" in html
    assert engine._xml_root(html) is None
    four = stored_pdf(invoice)
    invoice.layout = Invoice.Layout.LIGHT  # in memory only
    three = pdf.render_invoice(invoice, einvoice=EINVOICE)
    assert pixels(four, tmp_path) == pixels(three, tmp_path)
    assert pdf_text_pieces(four) == pdf_text_pieces(three)
