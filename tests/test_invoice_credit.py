"""Credit notes: their own number, negative amounts, a reference to the original, once."""

import datetime
from decimal import Decimal

import pytest

from registrations.invoicing.issuing import correct_and_reissue, credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice, InvoiceRefused
from registrations.payments import matching
from tests.conftest import make_registration, pdf_text, stored_pdf

ISSUED = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)
CREDITED = datetime.datetime(2022, 10, 3, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def invoice(invoicing, edition_2022):
    return issue_invoice(make_registration(edition_2022), at=ISSUED)


def test_credit_note_mirrors_the_invoice_with_negative_amounts(invoice):
    credit = credit_invoice(invoice, at=CREDITED)
    assert credit.kind == Invoice.Kind.CREDIT_NOTE
    assert credit.number == "2022-0002"
    assert credit.credited_invoice == invoice
    assert credit.invoice_date == datetime.date(2022, 10, 3)
    assert (credit.total_excl_vat, credit.total_vat, credit.total_incl_vat) == (
        Decimal("-1800.00"),
        Decimal("-378.00"),
        Decimal("-2178.00"),
    )
    line = credit.lines.get()
    assert (line.unit_price, line.amount_excl_vat) == (Decimal("-1800.00"), Decimal("-1800.00"))
    assert credit.customer_organisation == invoice.customer_organisation
    assert credit.order == invoice.order
    assert credit.lines.get().registration == invoice.lines.get().registration


def test_credit_note_pdf_names_the_original_number_and_date(invoice):
    text = pdf_text(stored_pdf(credit_invoice(invoice, at=CREDITED)))
    assert "Creditfactuur" in text
    assert "Creditfactuurnummer 2022-0002" in text
    assert "Crediteert factuur 2022-0001 van 12 september 2022" in text
    assert "Subtotaal excl. btw € -1.800,00" in text
    assert "Btw 21% over € -1.800,00 € -378,00" in text
    assert "Totaal incl. btw € -2.178,00" in text
    assert "Platform31" in text and "Gemeente Utrecht" in text


def test_an_invoice_is_credited_only_once(invoice):
    credit_invoice(invoice, at=CREDITED)
    with pytest.raises(InvoiceRefused, match="al gecrediteerd"):
        credit_invoice(invoice, at=CREDITED)
    assert Invoice.objects.credit_notes().count() == 1


def test_a_credit_note_cannot_be_credited(invoice):
    credit = credit_invoice(invoice, at=CREDITED)
    with pytest.raises(InvoiceRefused, match="zelf een creditfactuur"):
        credit_invoice(credit, at=CREDITED)


def test_status_is_derived(invoice):
    today = datetime.date(2022, 10, 1)
    assert invoice.status(today) == Invoice.Status.OPEN
    assert invoice.status(datetime.date(2022, 10, 13)) == Invoice.Status.OVERDUE
    matching.record_payment(invoice, datetime.date(2022, 9, 30), today=today)
    invoice.refresh_from_db()
    assert invoice.paid_on == datetime.date(2022, 9, 30)
    assert invoice.status(today) == Invoice.Status.PAID
    credit = credit_invoice(invoice, at=CREDITED)
    invoice.refresh_from_db()
    # The invoice was paid: it and its credit note are a refund due until the money went back
    # (one state for both, as the invoice list has always shown the invoice).
    assert invoice.status(today) == Invoice.Status.REFUND_DUE
    assert credit.status(today) == Invoice.Status.REFUND_DUE
    assert list(Invoice.objects.credited()) == [invoice]
    assert set(Invoice.objects.refund_due()) == {invoice, credit}
    matching.record_refund(credit, datetime.date(2022, 10, 4), today=datetime.date(2022, 10, 4))
    credit.refresh_from_db()
    assert credit.refunded_on == datetime.date(2022, 10, 4)
    assert credit.status(today) == Invoice.Status.REFUNDED
    assert not Invoice.objects.refund_due().exists()


def test_an_unpaid_credited_invoice_is_credited(invoice):
    credit = credit_invoice(invoice, at=CREDITED)
    invoice.refresh_from_db()
    assert invoice.status() == Invoice.Status.CREDITED
    assert credit.status() == Invoice.Status.CREDIT_NOTE
    assert list(Invoice.objects.in_state(Invoice.Status.CREDITED)) == [invoice]
    assert list(Invoice.objects.in_state(Invoice.Status.CREDIT_NOTE)) == [credit]


def test_address_correction_is_credit_note_and_new_invoice(invoice):
    registration = invoice.lines.get().registration
    credit, corrected = correct_and_reissue(
        invoice,
        {"invoice_street": "Postbus 16200", "invoice_postcode": "3500 CE"},
        at=CREDITED,
    )
    assert credit.credited_invoice == invoice
    assert corrected.number == "2022-0003"
    assert corrected.customer_street == "Postbus 16200"
    assert "Postbus 16200" in pdf_text(stored_pdf(corrected))
    invoice.refresh_from_db()
    assert invoice.customer_street == "Stadsplateau 1"
    assert list(Invoice.objects.for_registration(registration).uncredited()) == [corrected]


def test_cancelled_registration_can_still_be_credited(invoice):
    invoice.lines.get().registration.cancel()
    credit = credit_invoice(invoice, at=CREDITED)
    assert credit.total_incl_vat == Decimal("-2178.00")
