"""The invoice PDF: every field art. 35a Wet OB asks for, the right amounts, one font,
PDF/A-3b, reproducible bytes, and a URL fetcher that fetches nothing from outside."""

import datetime
import hashlib
import io
from decimal import Decimal

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from registrations.invoicing import documents, pdf
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice, InvoiceDocument, vat_breakdown
from tests.conftest import make_registration, pdf_text, stored_pdf
from werkplaats import pdf as engine

AT = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def invoice(invoicing, edition_2022):
    registration = make_registration(
        edition_2022, vat_id="NL002220000B01", po_number="PO-2022-0042"
    )
    return issue_invoice(registration, at=AT)


def test_pdf_shows_every_mandatory_field_with_dutch_amounts(invoice):
    text = pdf_text(stored_pdf(invoice))
    expected = [
        # Supplier: name, address, KvK, btw-id.
        "Platform31",
        "Postbus 30833",
        "2500 GV Den Haag",
        "KvK-nummer: 27169301",
        "Btw-id: NL000099998B57",
        # Customer: organisation, attention, address, country, VAT id, PO.
        "Gemeente Utrecht",
        "t.a.v. Crediteurenadministratie",
        "Stadsplateau 1",
        "3521 AZ Utrecht",
        "Nederland",
        "NL002220000B01",
        "PO-2022-0042",
        # Number, dates.
        "Factuurnummer 2022-0001",
        "Factuurdatum 12 september 2022",
        "Vervaldatum 12 oktober 2022",
        # Three days are a period, not a day of delivery.
        "Prestatieperiode 21 t/m 23 november 2022",
        # The line: kind and quantity of the service, unit price, rate, amount.
        "Kaap Doorn Conferentiecentrum, Doorn",
        "inclusief arrangement- en verblijfskosten",
        "Deelnemer: Fatima El Amrani",
        "1 × € 1.800,00 excl. btw, btw 21% € 1.800,00",
        # Totals per rate.
        "Subtotaal excl. btw € 1.800,00",
        "Btw 21% over € 1.800,00 € 378,00",
        "Totaal incl. btw € 2.178,00",
        # Payment instructions.
        "uiterlijk 12 oktober 2022",
        "IBAN NL91ABNA0417164300",
        "betalingskenmerk 2022-0001",
    ]
    missing = [fragment for fragment in expected if fragment not in text]
    assert not missing, f"missing {missing} in: {text}"
    assert "Werken aan wijkontwikkeling" in text


def test_invoice_amounts_are_stored_as_decimals(invoice):
    invoice.refresh_from_db()
    assert invoice.total_excl_vat == Decimal("1800.00")
    assert invoice.total_vat == Decimal("378.00")
    assert invoice.total_incl_vat == Decimal("2178.00")
    assert invoice.payment_reference == invoice.number == "2022-0001"


def test_pdf_embeds_only_the_dejavu_font(invoice):
    reader = PdfReader(io.BytesIO(stored_pdf(invoice)))
    families = set()
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        embedded = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
        families.add(embedded["name"].getDebugName(1))
    # The embedded subsets are DejaVu Sans (regular and bold), nothing the system chose.
    assert families == {"DejaVu Sans"}


def test_pdf_is_pdf_a_3b(invoice):
    reader = PdfReader(io.BytesIO(stored_pdf(invoice)))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp


def test_rendering_the_same_invoice_again_gives_the_same_bytes(invoice):
    stored = stored_pdf(invoice)
    assert documents.render(invoice, InvoiceDocument.Kind.PDF) == stored
    assert documents.render(invoice, InvoiceDocument.Kind.PDF) == stored


def test_stored_sha256_matches_the_document(invoice):
    document = InvoiceDocument.objects.get(invoice=invoice, kind=InvoiceDocument.Kind.PDF)
    assert invoice.pdf_sha256 == hashlib.sha256(bytes(document.content)).hexdigest()
    assert stored_pdf(invoice) == bytes(document.content)
    assert invoice.filename == "factuur-2022-0001.pdf"


def test_exempt_edition_invoices_zero_percent_with_the_exemption_text(invoicing, edition_2022):
    exemption = "Vrijgesteld van btw op grond van art. 11 lid 1 sub o Wet OB"
    edition_2022.vat_exemption_text = exemption
    edition_2022.save()
    invoice = issue_invoice(make_registration(edition_2022), at=AT)
    assert (invoice.total_vat, invoice.total_incl_vat) == (Decimal("0.00"), Decimal("1800.00"))
    assert invoice.lines.get().vat_rate == Decimal("0.00")
    text = pdf_text(stored_pdf(invoice))
    assert exemption in text
    assert "Btw 0% over € 1.800,00 € 0,00" in text
    assert "Totaal incl. btw € 1.800,00" in text


def test_lines_with_different_rates_get_vat_per_rate(invoicing, edition_2022):
    registration = make_registration(edition_2022)
    invoice = issue_invoice(
        registration,
        at=AT,
        lines=[
            ("Werkplaats, drie dagen", 1, Decimal("1500.00"), Decimal("21")),
            ("Maaltijden", 3, Decimal("33.35"), Decimal("9")),
            ("Logies", 2, Decimal("100.00"), Decimal("21")),
        ],
    )
    # 21% over 1700,00 = 357,00; 9% over 100,05 = 9,0045 -> 9,00 (half-up per rate).
    assert [(r, b, v) for r, b, v in vat_breakdown(invoice.lines.all())] == [
        (Decimal("21.00"), Decimal("1700.00"), Decimal("357.00")),
        (Decimal("9.00"), Decimal("100.05"), Decimal("9.00")),
    ]
    assert invoice.total_excl_vat == Decimal("1800.05")
    assert invoice.total_vat == Decimal("366.00")
    assert invoice.total_incl_vat == Decimal("2166.05")
    text = pdf_text(stored_pdf(invoice))
    assert "Btw 21% over € 1.700,00 € 357,00" in text
    assert "Btw 9% over € 100,05 € 9,00" in text
    assert "3 × € 33,35 excl. btw, btw 9% € 100,05" in text
    assert "Totaal incl. btw € 2.166,05" in text


def test_vat_is_rounded_half_up_per_rate(invoicing, edition_2022):
    # 21% of 0,50 = 0,105: half-up gives 0,11 where banker's rounding would give 0,10.
    invoice = issue_invoice(
        make_registration(edition_2022), at=AT, lines=[("Kleinigheid", 1, "0.50", "21")]
    )
    assert invoice.total_vat == Decimal("0.11")


def test_fetcher_refuses_network_and_files_outside_static(settings):
    fetcher = engine._fetcher_class()()
    for url in [
        "http://127.0.0.1/logo.png",
        "https://example.org/style.css",
        "file:///etc/passwd",
        (settings.BASE_DIR / "werkplaats" / "settings.py").as_uri(),
        (settings.BASE_DIR / "static" / ".." / "manage.py").as_uri(),
    ]:
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    served = fetcher.fetch((settings.BASE_DIR / "static" / "css" / "invoice_2.css").as_uri())
    assert served.content_type == "text/css"
    assert b"@page" in served.read()


def test_a_template_that_points_outside_stops_the_render():
    from weasyprint.urls import FatalURLFetchingError

    html = '<p>Hallo</p><img src="http://127.0.0.1:9/logo.png">'
    with pytest.raises(FatalURLFetchingError):
        pdf.render_html(html, identifier="test", created="2022-09-12")


def test_example_issuer_marks_the_pdf(invoicing, edition_2022, settings):
    settings.DEBUG = True
    from tests.conftest import make_issuer

    make_issuer(is_example=True)
    text = pdf_text(stored_pdf(issue_invoice(make_registration(edition_2022), at=AT)))
    assert "geen geldige factuur" in text


# The SHA-256 of the PDFs that the `invoice` fixture and its credit note (three days later)
# got from the table layout, as issued by the release before layout 2 (commit fc5f29e).
TABLE_LAYOUT_SHA256 = {
    "2022-0001": "df6d93a6b90d67b76f31d120d94d00cadf6d4cb22f2af825176bcc154ad25f69",
    "2022-0002": "020dcdf2440cc89dc9050d793b24854a13b4bee081b1c0dd877c316174c59fdd",
}


def test_new_invoices_and_credit_notes_get_the_current_layout(invoice):
    credit = credit_invoice(invoice, at=AT + datetime.timedelta(days=3))
    assert invoice.layout == credit.layout == Invoice.Layout.PARSED
    assert "Creditfactuurnummer 2022-0002" in pdf_text(stored_pdf(credit))


def test_invoices_issued_with_the_table_layout_keep_their_bytes_and_restore(
    invoicing, edition_2022, monkeypatch
):
    # Issued as the previous release issued them: with the table layout, then frozen; and
    # with the buyer's electronic address only when a Peppol ID was typed (since issue 23 the
    # snapshot also derives it from the KvK number or OIN: a new invoice, new bytes).
    monkeypatch.setattr(Invoice._meta.get_field("layout"), "default", Invoice.Layout.TABLES)
    monkeypatch.setattr(
        "registrations.models.electronic_address", lambda kvk_number, oin, peppol_id: peppol_id
    )
    registration = make_registration(
        edition_2022, vat_id="NL002220000B01", po_number="PO-2022-0042"
    )
    invoice = issue_invoice(registration, at=AT)
    credit = credit_invoice(invoice, at=AT + datetime.timedelta(days=3))
    monkeypatch.undo()

    for issued in (invoice, credit):
        issued.refresh_from_db()
        assert issued.layout == Invoice.Layout.TABLES
        # The same bytes the previous release made of the same snapshot ...
        assert issued.pdf_sha256 == TABLE_LAYOUT_SHA256[issued.number]
        # ... so a lost PDF is made again with its own layout, not the current one.
        InvoiceDocument.objects.filter(invoice=issued, kind=InvoiceDocument.Kind.PDF).delete()
        assert documents.restore_pdf(issued)
        assert hashlib.sha256(stored_pdf(issued)).hexdigest() == TABLE_LAYOUT_SHA256[issued.number]


def test_the_two_layouts_show_the_same_facts(invoice):
    current = pdf_text(stored_pdf(invoice))
    invoice.layout = Invoice.Layout.TABLES  # in memory only: the row is frozen
    tables = pdf_text(pdf.render_invoice(invoice))
    facts = [
        "Gemeente Utrecht",
        "Stadsplateau 1",
        "Factuurnummer 2022-0001",
        "Vervaldatum 12 oktober 2022",
        "Deelnemer: Fatima El Amrani",
        "Subtotaal excl. btw € 1.800,00",
        "Btw 21% over € 1.800,00 € 378,00",
        "Totaal incl. btw € 2.178,00",
        "betalingskenmerk 2022-0001",
        "KvK-nummer: 27169301",
        "Btw-id: NL000099998B57",
    ]
    assert [fact for fact in facts if fact not in current] == []
    assert [fact for fact in facts if fact not in tables] == []
    assert current != tables


def test_only_an_invoice_of_several_pages_numbers_its_pages(invoicing, edition_2022):
    one_page = issue_invoice(make_registration(edition_2022), at=AT)
    lines = [(f"Maaltijd dag {day}", 1, Decimal("33.35"), Decimal("9")) for day in range(1, 41)]
    long = issue_invoice(make_registration(edition_2022), at=AT, lines=lines)

    assert "Pagina" not in pdf_text(stored_pdf(one_page))
    pages = PdfReader(io.BytesIO(stored_pdf(long))).pages
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert f"Pagina {number} van {len(pages)}" in page.extract_text()
    # The numbers sit in the margin: the pages hold the same lines as without them.
    assert "Maaltijd dag 40" in pages[-1].extract_text()
    assert documents.render(long, InvoiceDocument.Kind.PDF) == stored_pdf(long)
