"""An issued invoice never changes: the model, the database and the admin all refuse."""

import datetime
import hashlib
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from registrations.invoicing.documents import DocumentUnavailable, ubl_bytes
from registrations.invoicing.issuing import issue_invoice
from registrations.invoicing.models import Invoice, InvoiceDocument, InvoiceIsFinal, InvoiceLine
from registrations.models import INVOICE_DETAIL_FIELDS, Registration
from tests.conftest import make_registration, pdf_text, stored_pdf

AT = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def invoice(invoicing, edition_2022):
    return issue_invoice(make_registration(edition_2022), at=AT)


def participant(invoice):
    return invoice.lines.get().registration


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_editing_the_edition_does_not_change_the_invoice(invoice):
    before = stored_pdf(invoice)
    registration = participant(invoice)
    edition = registration.edition
    edition.price_excl_vat = 2500
    edition.save()

    invoice.refresh_from_db()
    assert invoice.customer_organisation == "Gemeente Utrecht"
    assert invoice.po_number == "PO-2022-0042"
    assert str(invoice.total_excl_vat) == "1800.00"
    assert stored_pdf(invoice) == before
    assert "2.500" not in pdf_text(stored_pdf(invoice))


@pytest.mark.parametrize(
    "field, value",
    [
        ("invoice_organisation", "Gemeente Amersfoort"),
        ("invoice_street", "Stadhuisplein 1"),
        ("po_number", "ANDERS"),
        ("kvk_number", "12345678"),
        ("oin", "00000001001234567000"),
        ("last_name", "Jansen"),
        ("price_excl_vat", Decimal("1950.00")),
    ],
)
def test_what_the_invoice_froze_cannot_change_on_the_registration_or_its_order(
    invoice, field, value
):
    # The invoice details are the order's, the name and the agreed price the participant's.
    row = participant(invoice)
    if field in INVOICE_DETAIL_FIELDS:
        row = row.order
    setattr(row, field, value)
    with pytest.raises(IntegrityError, match="gefactureerd"), transaction.atomic():
        row.save()
    with pytest.raises(IntegrityError, match="gefactureerd"), transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(**{field: value})
    row.refresh_from_db()
    assert getattr(row, field) != value


def test_the_registration_moves_to_another_edition_only_by_correction(invoice, open_edition):
    registration = participant(invoice)
    with pytest.raises(IntegrityError, match="gefactureerd"), transaction.atomic():
        Registration.objects.filter(pk=registration.pk).update(edition=open_edition)
    assert participant(Invoice.objects.get(pk=invoice.pk)).edition_id != open_edition.pk


def test_fields_the_invoice_did_not_freeze_stay_editable(invoice):
    registration = participant(invoice)
    registration.dietary_needs = "veganistisch"
    registration.phone = "06 87654321"
    registration.save()
    registration.refresh_from_db()
    assert registration.dietary_needs == "veganistisch"


def test_model_refuses_to_save_changes(invoice):
    invoice.customer_organisation = "Iets anders"
    with pytest.raises(InvoiceIsFinal):
        invoice.save()
    with pytest.raises(InvoiceIsFinal):
        invoice.save(update_fields=["customer_organisation"])
    with pytest.raises(InvoiceIsFinal):
        invoice.delete()
    line = invoice.lines.get()
    line.unit_price = 1
    with pytest.raises(InvoiceIsFinal):
        line.save()
    with pytest.raises(InvoiceIsFinal):
        line.delete()
    invoice.refresh_from_db()
    assert invoice.customer_organisation == "Gemeente Utrecht"


@pytest.mark.parametrize(
    "column, value",
    [
        ("number", "2022-9999"),
        ("customer_organisation", "Iets anders"),
        ("issuer_iban", "NL02ABNA0123456789"),
        ("total_excl_vat", "1.00"),
        ("total_vat", "0"),
        ("total_incl_vat", "1.00"),
        ("invoice_date", "2022-01-01"),
        ("po_number", ""),
        ("vat_exemption_text", "vrijgesteld"),
        ("customer_kvk_number", "12345678"),
        ("customer_oin", "00000001001234567000"),
        ("customer_peppol_id", "0106:12345678"),
        # The layout says how the PDF is made again: another one could not restore it.
        ("layout", 1),
    ],
)
def test_database_refuses_raw_updates_of_the_snapshot(invoice, column, value):
    with pytest.raises(IntegrityError):
        raw(f"UPDATE registrations_invoice SET {column} = %s WHERE id = %s", [value, invoice.pk])
    assert Invoice.objects.filter(pk=invoice.pk, number="2022-0001").exists()


def test_database_refuses_queryset_update_and_delete(invoice):
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(total_vat=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        raw("DELETE FROM registrations_invoice WHERE id = %s", [invoice.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.filter(invoice=invoice).update(unit_price=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        raw("DELETE FROM registrations_invoiceline WHERE invoice_id = %s", [invoice.pk])
    invoice.refresh_from_db()
    assert str(invoice.total_vat) == "378.00"
    assert invoice.lines.count() == 1


def test_payment_and_email_dates_may_change(invoice):
    Invoice.objects.filter(pk=invoice.pk).update(paid_on=datetime.date(2022, 10, 1), emailed_at=AT)
    invoice.refresh_from_db()
    assert invoice.paid_on == datetime.date(2022, 10, 1)
    invoice.paid_on = None
    invoice.save(update_fields=["paid_on"])
    invoice.refresh_from_db()
    assert invoice.paid_on is None


def test_the_stored_pdf_cannot_be_swapped(invoice):
    issued = invoice.pdf_sha256
    other = b"%PDF-1.7 een andere pdf"
    # The checksum taken at issue is set once: neither emptied nor replaced.
    for value in ["", hashlib.sha256(other).hexdigest()]:
        with pytest.raises(IntegrityError):
            raw(
                "UPDATE registrations_invoice SET pdf_sha256 = %s WHERE id = %s",
                [value, invoice.pk],
            )
    # So a document swapped in the database is refused, not served.
    InvoiceDocument.objects.filter(invoice=invoice).update(content=other)
    with pytest.raises(DocumentUnavailable):
        stored_pdf(invoice)
    invoice.refresh_from_db()
    assert invoice.pdf_sha256 == issued


def test_the_stored_e_invoice_cannot_be_swapped(invoice):
    issued = invoice.ubl_sha256
    assert issued
    for value in ["", hashlib.sha256(b"<Invoice/>").hexdigest()]:
        with pytest.raises(IntegrityError):
            raw(
                "UPDATE registrations_invoice SET ubl_sha256 = %s WHERE id = %s",
                [value, invoice.pk],
            )
    InvoiceDocument.objects.filter(invoice=invoice, kind=InvoiceDocument.Kind.UBL).update(
        content=b"<Invoice/>"
    )
    with pytest.raises(DocumentUnavailable, match="e-factuur"):
        ubl_bytes(invoice)
    invoice.refresh_from_db()
    assert invoice.ubl_sha256 == issued


def test_admin_offers_no_way_to_change_or_delete(invoice, client, django_user_model):
    admin = django_user_model.objects.create_superuser("baas", "baas@example.org", "x" * 20)
    client.force_login(admin)
    change_url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert b'name="customer_organisation"' not in page.content  # read-only, not an input
    response = client.post(change_url, {"customer_organisation": "Iets anders"})
    assert response.status_code == 403
    delete_url = reverse("admin:invoicing_invoice_delete", args=[invoice.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:invoicing_invoice_add")).status_code == 403
    changelist = client.get(reverse("admin:invoicing_invoice_changelist"))
    assert b"delete_selected" not in changelist.content
    invoice.refresh_from_db()
    assert invoice.customer_organisation == "Gemeente Utrecht"
