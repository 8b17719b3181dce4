"""The e-invoice: every invoice and credit note also as UBL per SI-UBL 2.0, valid under the
official rule sets, stored with its SHA-256, inside the PDF, downloadable, zipped and mailed;
an e-invoice the rules refuse stops the issue and leaves nothing behind.

The validation cases carry their result in their id, "<case>-si0f0w-en0f0w": fatal findings
(f) and warnings (w) of the SI-UBL 2.0 rule set and of the EN 16931 rule set.
"""

import datetime
import hashlib
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from registrations.forms import OrderForm
from registrations.invoicing import documents, einvoice, emails, issuing
from registrations.invoicing.documents import ubl_bytes
from registrations.invoicing.issuing import (
    credit_invoice,
    invoice_groups,
    issue_invoice,
)
from registrations.invoicing.models import (
    Invoice,
    InvoiceCounter,
    InvoiceDocument,
    InvoiceRefused,
)
from registrations.models import Registration
from tests.conftest import make_registration, sign_up_data, stored_pdf

AT = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)
EXEMPTION = "Vrijgesteld van btw op grond van art. 11 lid 1 sub o Wet OB"
OIN = "00000001001234567000"
CLEAN = {"si-ubl-2.0": {"fatal": 0, "warning": 0}, "en16931": {"fatal": 0, "warning": 0}}


def single(edition):
    return issue_invoice(make_registration(edition), at=AT)


def three_lines(edition):
    lines = [
        ("Werkplaats, drie dagen", 1, Decimal("1200.00"), Decimal("21")),
        ("Verblijf, twee nachten", 2, Decimal("150.00"), Decimal("21")),
        ("Werkmateriaal", 3, Decimal("33.33"), Decimal("21")),
    ]
    return issue_invoice(make_registration(edition), at=AT, lines=lines)


def three_participants(edition):
    # One order, three colleagues: one invoice, one line each.
    order = make_registration(edition).order
    colleagues = [
        Registration(first_name=name, last_name="Collega", email=f"{name}@example.nl")
        for name in ("pieter", "sanne")
    ]
    for colleague in colleagues:
        colleague.organisation = order.organisation
    Registration.objects.place(order, colleagues, by_staff=True)
    invoice = issue_invoice(invoice_groups(order.positions.all())[0], at=AT)
    assert invoice.lines.count() == 3
    return invoice


def two_rates(edition):
    lines = [
        ("Werkplaats, drie dagen", 1, Decimal("1500.00"), Decimal("21")),
        ("Maaltijden", 3, Decimal("33.35"), Decimal("9")),
        ("Logies", 2, Decimal("100.00"), Decimal("21")),
    ]
    return issue_invoice(make_registration(edition), at=AT, lines=lines)


def exempt(edition):
    # The exemption is agreed at sign-up: place() copies it from the edition.
    edition.vat_exemption_text = EXEMPTION
    edition.save()
    registration = make_registration(edition)
    assert registration.vat_exemption_text == EXEMPTION
    return issue_invoice(registration, at=AT)


def credit_note(edition):
    return credit_invoice(single(edition), at=AT)


def belgian_with_vat_id(edition):
    registration = make_registration(
        edition,
        invoice_organisation="Stad Antwerpen",
        invoice_street="Grote Markt 1",
        invoice_postcode="2000",
        invoice_city="Antwerpen",
        invoice_country="BE",
        vat_id="BE0207500123",
        kvk_number="",
    )
    return issue_invoice(registration, at=AT)


def without_vat_id_or_reference(edition):
    # No VAT id, and no purchase-order number: the registration's reference stands in.
    return issue_invoice(make_registration(edition, vat_id="", po_number=""), at=AT)


def gemeente_with_oin(edition):
    registration = make_registration(
        edition, kvk_number="", oin=OIN, peppol_id=f"0190:{OIN}", po_number="4500012345"
    )
    return issue_invoice(registration, at=AT)


CASES = {
    "single_participant": single,
    "three_lines": three_lines,
    "three_participants": three_participants,
    "lines_at_21_and_9_percent": two_rates,
    "exempt": exempt,
    "credit_note": credit_note,
    "belgian_customer_with_vat_id": belgian_with_vat_id,
    "customer_without_vat_id": without_vat_id_or_reference,
    "gemeente_with_oin": gemeente_with_oin,
}


def label(counts):
    si, en = counts["si-ubl-2.0"], counts["en16931"]
    return f"si{si['fatal']}f{si['warning']}w-en{en['fatal']}f{en['warning']}w"


@pytest.mark.parametrize("make", CASES.values(), ids=[f"{name}-{label(CLEAN)}" for name in CASES])
def test_the_e_invoice_passes_both_official_rule_sets(
    invoicing, edition_2022, einvoice_rules, make
):
    invoice = make(edition_2022)
    found = einvoice.findings(ubl_bytes(invoice))
    print(invoice.number, label(einvoice.counts(found)), [f.rule for f in found])
    assert found == []
    assert einvoice.counts(found) == CLEAN


def without_references(content):
    return re.sub(
        rb"\s*<cbc:BuyerReference>.*?</cbc:BuyerReference>"
        rb"|\s*<cac:OrderReference>.*?</cac:OrderReference>",
        b"",
        content,
        flags=re.S,
    )


BROKEN = {"si-ubl-2.0": {"fatal": 1, "warning": 0}, "en16931": {"fatal": 0, "warning": 0}}


@pytest.mark.parametrize("expected", [BROKEN], ids=[f"broken-{label(BROKEN)}"])
def test_a_document_without_buyer_or_order_reference_is_caught_by_br_nl_2(
    invoicing, edition_2022, einvoice_rules, expected
):
    invoice = single(edition_2022)
    broken = without_references(ubl_bytes(invoice))
    assert b"BuyerReference" not in broken and b"OrderReference" not in broken

    found = einvoice.findings(broken)

    print("broken", label(einvoice.counts(found)), [f.rule for f in found])
    assert [(f.rule_set, f.rule, f.flag) for f in found] == [("si-ubl-2.0", "BR-NL-2", "fatal")]
    assert einvoice.counts(found) == expected


def test_the_e_invoice_says_what_si_ubl_asks(invoicing, edition_2022):
    invoice = two_rates(edition_2022)
    xml = ubl_bytes(invoice).decode()
    expected = [
        f"<cbc:CustomizationID>{einvoice.CUSTOMIZATION_ID}</cbc:CustomizationID>",
        f"<cbc:ProfileID>{einvoice.PROFILE_ID}</cbc:ProfileID>",
        "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>",
        '<cbc:CompanyID schemeID="0106">27169301</cbc:CompanyID>',
        "<cbc:CompanyID>NL000099998B57</cbc:CompanyID>",
        '<cbc:CompanyID schemeID="0106">30280353</cbc:CompanyID>',
        "<cbc:BuyerReference>PO-2022-0042</cbc:BuyerReference>",
        "<cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>",
        "<cbc:PaymentID>2022-0001</cbc:PaymentID>",
        "<cbc:ID>NL91ABNA0417164300</cbc:ID>",
        "<cbc:StartDate>2022-11-21</cbc:StartDate>",
        "<cbc:EndDate>2022-11-23</cbc:EndDate>",
        # VAT per rate over the lines: 21% over 1700.00, 9% over 100.05 (9.0045 -> 9.00).
        '<cbc:TaxableAmount currencyID="EUR">1700.00</cbc:TaxableAmount>',
        '<cbc:TaxAmount currencyID="EUR">357.00</cbc:TaxAmount>',
        '<cbc:TaxableAmount currencyID="EUR">100.05</cbc:TaxableAmount>',
        '<cbc:TaxAmount currencyID="EUR">9.00</cbc:TaxAmount>',
        '<cbc:TaxAmount currencyID="EUR">366.00</cbc:TaxAmount>',
        '<cbc:TaxExclusiveAmount currencyID="EUR">1800.05</cbc:TaxExclusiveAmount>',
        '<cbc:PayableAmount currencyID="EUR">2166.05</cbc:PayableAmount>',
        '<cbc:InvoicedQuantity unitCode="C62">3.00</cbc:InvoicedQuantity>',
        '<cbc:PriceAmount currencyID="EUR">33.35</cbc:PriceAmount>',
    ]
    missing = [fragment for fragment in expected if fragment not in xml]
    assert not missing, f"missing {missing} in: {xml}"
    assert "OrderReference" not in xml  # the buyer's reference is there


def test_a_credit_note_is_a_ubl_credit_note_with_positive_amounts(invoicing, edition_2022):
    credit = credit_note(edition_2022)
    assert credit.total_incl_vat == Decimal("-2178.00")
    xml = ubl_bytes(credit).decode()
    assert re.match(r"<\?xml [^>]*\?>\n<CreditNote [^>]*xmlns=\"[^\"]*:CreditNote-2\"", xml)
    assert "<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>" in xml
    assert re.search(
        r"<cac:BillingReference>\s*<cac:InvoiceDocumentReference>\s*"
        r"<cbc:ID>2022-0001</cbc:ID>",
        xml,
    )
    assert '<cbc:PayableAmount currencyID="EUR">2178.00</cbc:PayableAmount>' in xml
    assert '<cbc:PriceAmount currencyID="EUR">1800.00</cbc:PriceAmount>' in xml
    assert "-" not in "".join(re.findall(r'currencyID="EUR">([^<]*)<', xml))
    # The buyer's identification is copied from the invoice.
    assert credit.customer_kvk_number == credit.credited_invoice.customer_kvk_number == "30280353"


def test_exempt_lines_use_category_e_with_the_exemption_reason(invoicing, edition_2022):
    xml = ubl_bytes(exempt(edition_2022)).decode()
    assert "<cbc:ID>E</cbc:ID>" in xml and "<cbc:ID>S</cbc:ID>" not in xml
    assert f"<cbc:TaxExemptionReason>{EXEMPTION}</cbc:TaxExemptionReason>" in xml
    assert '<cbc:TaxAmount currencyID="EUR">0.00</cbc:TaxAmount>' in xml


def test_a_gemeente_is_known_by_its_oin_and_reached_at_its_peppol_id(invoicing, edition_2022):
    invoice = gemeente_with_oin(edition_2022)
    assert (invoice.customer_oin, invoice.customer_peppol_id) == (OIN, f"0190:{OIN}")
    xml = ubl_bytes(invoice).decode()
    assert f'<cbc:CompanyID schemeID="0190">{OIN}</cbc:CompanyID>' in xml
    assert f'<cbc:EndpointID schemeID="0190">{OIN}</cbc:EndpointID>' in xml


def test_the_e_invoice_is_made_from_the_snapshot_with_the_same_bytes(invoicing, edition_2022):
    invoice = single(edition_2022)
    stored = ubl_bytes(invoice)
    assert einvoice.render_ubl(invoice) == stored
    assert einvoice.render_ubl(Invoice.objects.get(pk=invoice.pk)) == stored


def test_the_stored_e_invoice_has_its_sha256(invoicing, edition_2022):
    invoice = single(edition_2022)
    document = InvoiceDocument.objects.get(invoice=invoice, kind=InvoiceDocument.Kind.UBL)
    assert invoice.ubl_sha256 == hashlib.sha256(bytes(document.content)).hexdigest()
    assert Invoice.objects.get(pk=invoice.pk).ubl_sha256 == invoice.ubl_sha256
    assert invoice.ubl_filename == "factuur-2022-0001.xml"


def test_the_pdf_carries_the_e_invoice_and_stays_pdf_a_3b(invoicing, edition_2022):
    invoice = single(edition_2022)
    reader = PdfReader(io.BytesIO(stored_pdf(invoice)))
    assert reader.attachments == {"factuur-2022-0001.xml": [ubl_bytes(invoice)]}
    catalog = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    # PDF/A-3 names how an embedded file relates to the document (Associated Files).
    # WeasyPrint 70 lists the one file specification twice in /AF.
    (number,) = {spec.idnum for spec in catalog["/AF"]}
    filespec = reader.get_object(number)
    assert filespec["/AFRelationship"] == "/Alternative"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] in ("/application/xml", "/text/xml")
    assert documents.render(invoice, InvoiceDocument.Kind.PDF) == stored_pdf(invoice)


def test_finance_downloads_the_e_invoice_beside_the_pdf(
    client, invoicing, edition_2022, finance_user, outsider
):
    invoice = single(edition_2022)
    url = reverse("admin:invoicing_invoice_ubl", args=[invoice.number])
    assert url.endswith("/2022-0001/xml/")

    client.force_login(outsider)
    assert client.get(url).status_code == 403
    client.force_login(finance_user)
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert 'filename="factuur-2022-0001.xml"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == ubl_bytes(invoice)
    listing = client.get(reverse("admin:invoicing_invoice_changelist")).content.decode()
    assert url in listing and "factuur-2022-0001.xml" in listing


def test_the_zip_holds_the_e_invoice_next_to_the_pdf(client, invoicing, edition_2022, finance_user):
    invoice = single(edition_2022)
    client.force_login(finance_user)
    response = client.post(
        reverse("admin:invoicing_invoice_changelist"),
        {"action": "download_zip", "_selected_action": [invoice.pk]},
    )
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == ["factuur-2022-0001.pdf", "factuur-2022-0001.xml"]
    assert archive.read("factuur-2022-0001.xml") == ubl_bytes(invoice)


def test_the_invoice_mail_attaches_the_e_invoice(invoicing, edition_2022):
    invoice = single(edition_2022)
    assert emails.send_invoice(invoice)
    (message,) = mail.outbox
    assert [(name, kind) for name, _, kind in message.attachments] == [
        ("factuur-2022-0001.pdf", "application/pdf"),
        ("factuur-2022-0001.xml", "application/xml"),
    ]
    assert message.attachments[1][1] in (ubl_bytes(invoice), ubl_bytes(invoice).decode())


def break_the_generator(monkeypatch):
    real = einvoice.render_ubl
    monkeypatch.setattr(documents, "render_ubl", lambda invoice: without_references(real(invoice)))


def test_issuing_is_refused_when_the_rules_find_a_fatal_error(
    invoicing, edition_2022, einvoice_rules, monkeypatch
):
    registration = make_registration(edition_2022)
    with monkeypatch.context() as patch:
        break_the_generator(patch)
        with pytest.raises(InvoiceRefused, match="BR-NL-2") as refusal:
            issue_invoice(registration, at=AT)

    assert str(refusal.value).startswith(f"De factuur voor {registration.reference} is niet")
    assert "Er is niets opgeslagen en geen factuurnummer gebruikt" in str(refusal.value)
    assert not Invoice.objects.exists()
    assert not InvoiceDocument.objects.exists()
    assert not InvoiceCounter.objects.filter(last_number__gt=0).exists()
    # The number was not used: the next issue gets it.
    assert issue_invoice(registration, at=AT).number == "2022-0001"


def test_a_dutch_customer_without_kvk_or_oin_is_refused_with_the_reason_it_is_held(
    invoicing, edition_2022, einvoice_rules
):
    # The order is held before an e-invoice is made (Order.invoicing_blocker), with the reason.
    registration = make_registration(edition_2022, kvk_number="")
    with pytest.raises(InvoiceRefused, match="KvK-nummer of OIN") as refusal:
        issue_invoice(registration, at=AT)
    assert str(refusal.value).startswith(f"{registration.order.reference} wacht op factuurgegevens")
    assert not Invoice.objects.exists()


def test_an_e_invoice_without_the_dutch_buyers_kvk_or_oin_is_refused_with_advice(
    invoicing, edition_2022, einvoice_rules
):
    # The rules stay the last guard: BR-NL-10 catches a document that lacks the number.
    invoice = single(edition_2022)
    broken = re.sub(
        rb"\s*<cbc:CompanyID schemeID=\"0106\">30280353</cbc:CompanyID>", b"", ubl_bytes(invoice)
    )
    assert b"30280353</cbc:CompanyID>" not in broken
    with pytest.raises(InvoiceRefused, match="BR-NL-10") as refusal:
        einvoice.refuse_when_invalid(invoice, broken)
    assert "KvK-nummer of OIN van de klant" in str(refusal.value)


def test_without_rules_configured_nothing_is_validated(
    invoicing, edition_2022, settings, monkeypatch
):
    settings.EINVOICE_RULES_DIR = ""
    break_the_generator(monkeypatch)
    invoice = issue_invoice(make_registration(edition_2022), at=AT)
    assert b"BuyerReference" not in ubl_bytes(invoice)


def test_an_invoice_from_before_e_invoices_keeps_its_pdf_alone(
    client, invoicing, edition_2022, finance_user, monkeypatch
):
    def pdf_only(invoice):
        documents._store(invoice, InvoiceDocument.Kind.PDF, documents.render_invoice(invoice))

    with monkeypatch.context() as patch:
        patch.setattr(issuing, "store_documents", pdf_only)
        invoice = single(edition_2022)
    original = stored_pdf(invoice)
    assert (invoice.ubl_sha256, documents.kinds(invoice)) == ("", ["pdf"])
    assert PdfReader(io.BytesIO(original)).attachments == {}

    # Restored as it was issued: without an e-invoice inside.
    InvoiceDocument.objects.filter(invoice=invoice).delete()
    assert documents.restore(invoice, InvoiceDocument.Kind.PDF)
    assert stored_pdf(invoice) == original
    client.force_login(finance_user)
    response = client.post(
        reverse("admin:invoicing_invoice_changelist"),
        {"action": "download_zip", "_selected_action": [invoice.pk]},
    )
    assert zipfile.ZipFile(io.BytesIO(response.content)).namelist() == ["factuur-2022-0001.pdf"]
    assert emails.send_invoice(invoice)
    assert [name for name, _, _ in mail.outbox[0].attachments] == ["factuur-2022-0001.pdf"]


def run_validation(*options):
    out = io.StringIO()
    try:
        call_command("validate_einvoices", *options, stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def test_the_validate_command_reports_each_e_invoice(invoicing, edition_2022, einvoice_rules):
    credit_note(edition_2022)
    out, error = run_validation()
    assert error is None
    assert "2022-0001: in orde; si-ubl-2.0: 0 fataal, 0 waarschuwing(en)" in out
    assert "2022-0002: in orde" in out
    assert "2 e-facturen gecontroleerd; alle voldoen aan de regels." in out


def test_the_validate_command_fails_on_a_stored_e_invoice_with_a_fatal_error(
    invoicing, edition_2022, einvoice_rules, settings, monkeypatch
):
    single(edition_2022)
    settings.EINVOICE_RULES_DIR = ""
    with monkeypatch.context() as patch:
        break_the_generator(patch)
        single(edition_2022)

    out, error = run_validation("--rules-dir", str(einvoice_rules))

    assert "2022-0001: in orde" in out
    assert "2022-0002: AFGEKEURD (BR-NL-2)" in out
    assert error and "1 van 2" in error and "2022-0002" in error


def test_the_validate_command_needs_the_rules(invoicing, settings):
    settings.EINVOICE_RULES_DIR = ""
    out, error = run_validation()
    assert error and "EINVOICE_RULES_DIR" in error


def form(edition, **overrides):
    return OrderForm(data=sign_up_data(**overrides), edition=edition)


def test_a_dutch_invoice_address_needs_no_kvk_number_or_oin_from_the_participant(open_edition):
    # Finance's concern, not the participant's: the order waits for it (Order.invoicing_blocker).
    without = form(open_edition, kvk_number="", oin="")
    assert without.is_valid(), without.errors
    assert "weet je het niet, laat het leeg" in without.fields["kvk_number"].help_text.lower()
    assert "weet je het niet, laat het leeg" in without.fields["oin"].help_text.lower()
    assert form(open_edition, kvk_number="", oin=OIN).is_valid()
    spaced = form(open_edition, kvk_number="3028 0353")
    assert spaced.is_valid()
    assert spaced.cleaned_data["kvk_number"] == "30280353"


def test_a_foreign_invoice_address_needs_no_kvk_number(open_edition):
    belgian = form(
        open_edition,
        kvk_number="",
        invoice_country="BE",
        invoice_postcode="2000",
        vat_id="BE0207500123",
    )
    assert belgian.is_valid(), belgian.errors


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("kvk_number", "1234567", "Een KvK-nummer bestaat uit 8 cijfers."),
        ("oin", "1234", "Een OIN bestaat uit precies 20 cijfers."),
        ("peppol_id", "12345678", "Een Peppol-ID heeft de vorm schema:nummer"),
        ("peppol_id", "0106:1234", "Een Peppol-ID heeft de vorm schema:nummer"),
    ],
)
def test_identifiers_in_the_wrong_format_are_refused_in_dutch(open_edition, field, value, message):
    refused = form(open_edition, **{field: value})
    assert not refused.is_valid()
    assert refused.errors[field][0].startswith(message)


def test_the_e_invoice_reads_the_invoice_lines_once(invoicing, edition_2022):
    # Without a buyer's reference the first participant's is used: from the lines already read.
    invoice = issue_invoice(make_registration(edition_2022, po_number=""), at=AT)
    with CaptureQueriesContext(connection) as queries:
        content = einvoice.render_ubl(invoice)
    lines_read = [q for q in queries.captured_queries if "registrations_invoiceline" in q["sql"]]
    assert len(lines_read) == 1
    assert b"<cbc:ID>" in content and invoice.lines.get().registration.reference.encode() in content
