"""Finance's back office: issuing from registrations, downloads, ZIP, bookkeeping CSV,
mark paid, credit notes, e-mail, and who may do which."""

import csv
import datetime
import io
import zipfile

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registrations.invoicing import documents
from registrations.invoicing.admin_views import document_key, documents_kept
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice, InvoiceDocument, InvoiceIssuer
from registrations.payments import matching
from tests.conftest import make_registration, stored_pdf

AT = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)
INVOICES = reverse("admin:invoicing_invoice_changelist")
REGISTRATIONS = reverse("admin:registrations_registration_changelist")


@pytest.fixture
def invoice(invoicing, open_edition):
    return issue_invoice(make_registration(open_edition), at=AT)


def pdf_url(invoice):
    return reverse("admin:invoicing_invoice_pdf", args=[invoice.number])


def act(client, url, action, objects, **extra):
    data = {"action": action, "_selected_action": [o.pk for o in objects], "index": 0, **extra}
    return client.post(url, data)


def test_anonymous_user_is_sent_to_the_login_page(client, invoice):
    response = client.get(pdf_url(invoice))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_permission_gets_403(client, invoice, outsider):
    client.force_login(outsider)
    assert client.get(pdf_url(invoice)).status_code == 403


@pytest.mark.parametrize("persona", ["finance_user", "staff_member"])
def test_finance_and_staff_download_the_stored_pdf(client, invoice, persona, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(pdf_url(invoice))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="factuur-2022-0001.pdf"'
    assert b"".join(response.streaming_content) == stored_pdf(invoice)


def test_download_never_renders_again(client, invoice, finance_user, monkeypatch):
    def no_render(invoice):
        raise AssertionError("a download must serve the stored file")

    monkeypatch.setattr(documents, "render_invoice", no_render)
    client.force_login(finance_user)
    assert client.get(pdf_url(invoice)).status_code == 200


def test_a_tampered_document_is_not_served(client, invoice, finance_user):
    InvoiceDocument.objects.filter(invoice=invoice).update(
        content=stored_pdf(invoice) + b"%% changed"
    )
    client.force_login(finance_user)
    response = client.get(pdf_url(invoice), follow=True)
    assert response.redirect_chain[0][0] == INVOICES
    assert "klopt niet met de controlesom" in response.content.decode()


def test_unknown_number_is_404(client, invoice, finance_user):
    client.force_login(finance_user)
    url = reverse("admin:invoicing_invoice_pdf", args=["2022-9999"])
    assert client.get(url).status_code == 404


def test_finance_issues_invoices_from_registrations_and_skips_the_rest(
    client, invoicing, open_edition, finance_user
):
    fresh = make_registration(open_edition)
    invoiced = make_registration(open_edition)
    issue_invoice(invoiced, at=AT)
    cancelled = make_registration(open_edition)
    cancelled.cancel()
    client.force_login(finance_user)
    response = act(client, REGISTRATIONS, "issue_invoices", [fresh, invoiced, cancelled])
    response = client.get(response["Location"])
    text = response.content.decode()
    assert Invoice.objects.for_registration(fresh).count() == 1
    assert Invoice.objects.for_registration(invoiced).count() == 1
    assert not Invoice.objects.for_registration(cancelled).exists()
    number = Invoice.objects.for_registration(fresh).get().number
    assert f"Aangemaakt (1): factuur {number} voor {fresh.reference}" in text
    assert f"{invoiced.reference} heeft al factuur" in text
    assert f"{cancelled.reference} is geannuleerd: alleen bevestigde deelnemers" in text
    assert Invoice.objects.for_registration(fresh).get().issued_by == "femke"


def test_staff_cannot_issue_invoices(client, invoicing, open_edition, staff_member):
    registration = make_registration(open_edition)
    client.force_login(staff_member)
    page = client.get(REGISTRATIONS)
    assert b'value="issue_invoices"' not in page.content
    act(client, REGISTRATIONS, "issue_invoices", [registration])
    assert not Invoice.objects.exists()


def test_refusal_for_missing_issuer_reaches_finance(client, db, open_edition, finance_user):
    registration = make_registration(open_edition)
    client.force_login(finance_user)
    response = act(client, REGISTRATIONS, "issue_invoices", [registration])
    text = client.get(response["Location"]).content.decode()
    assert "Factureren kan nog niet" in text
    assert not Invoice.objects.exists()


def test_registration_page_shows_its_invoices(client, invoice, finance_user):
    client.force_login(finance_user)
    url = reverse(
        "admin:registrations_registration_change", args=[invoice.lines.get().registration_id]
    )
    text = client.get(url).content.decode()
    assert invoice.number in text
    assert pdf_url(invoice) in text


def test_invoice_list_shows_amounts_status_and_link(client, invoice, finance_user):
    client.force_login(finance_user)
    text = client.get(INVOICES).content.decode()
    for fragment in ["2022-0001", "Gemeente Utrecht", "€ 1.800,00", "€ 378,00", "€ 2.178,00"]:
        assert fragment in text
    assert "te laat" in text  # due 12 October 2022, long past
    assert pdf_url(invoice) in text


def test_invoice_list_filters_and_search(client, invoicing, open_edition, finance_user):
    paid = issue_invoice(make_registration(open_edition, po_number="ZOEK-MIJ"), at=AT)
    matching.record_payment(paid, datetime.date(2022, 9, 20))
    later = issue_invoice(make_registration(open_edition), at=AT.replace(year=2023))
    client.force_login(finance_user)

    def numbers(**params):
        response = client.get(INVOICES, params)
        return {i.number for i in response.context["cl"].result_list}

    assert numbers(status="paid") == {paid.number}
    assert numbers(status="overdue") == {later.number}
    assert numbers(jaar="2023") == {later.number}
    assert numbers(q="ZOEK-MIJ") == {paid.number}
    credit = credit_invoice(later, at=AT.replace(year=2023))
    assert numbers(status="credited") == {later.number}
    assert numbers(status="credit_note") == {credit.number}
    assert numbers(**{"editie": open_edition.pk}) == {
        paid.number,
        later.number,
        credit.number,
    }


def test_zip_holds_the_stored_pdfs(client, invoicing, open_edition, finance_user):
    first = issue_invoice(make_registration(open_edition), at=AT)
    second = issue_invoice(make_registration(open_edition), at=AT)
    client.force_login(finance_user)
    response = act(client, INVOICES, "download_zip", [first, second])
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.namelist() == [
        "factuur-2022-0001.pdf",
        "factuur-2022-0001.xml",
        "factuur-2022-0002.pdf",
        "factuur-2022-0002.xml",
    ]
    assert archive.read("factuur-2022-0002.pdf") == stored_pdf(second)


def test_bookkeeping_csv_has_one_row_per_invoice_and_rate(
    client, invoicing, open_edition, finance_user
):
    single = issue_invoice(make_registration(open_edition), at=AT)
    split = issue_invoice(
        make_registration(open_edition, invoice_organisation="Gemeente Zwolle"),
        at=AT,
        lines=[("Werkplaats", 1, "1500", "21"), ("Maaltijden", 1, "300", "9")],
    )
    credit = credit_invoice(single, at=AT)
    client.force_login(finance_user)
    response = act(client, INVOICES, "export_bookkeeping", [single, split, credit])
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Factuurnummer", "Soort", "Factuurdatum"]
    body = [(r[0], r[1], r[4], r[7], r[8], r[9], r[10], r[11]) for r in rows[1:]]
    assert body == [
        ("2022-0001", "factuur", "Gemeente Utrecht", "21", "1800,00", "378,00", "2178,00", ""),
        ("2022-0002", "factuur", "Gemeente Zwolle", "21", "1500,00", "315,00", "1815,00", ""),
        ("2022-0002", "factuur", "Gemeente Zwolle", "9", "300,00", "27,00", "327,00", ""),
        (
            "2022-0003",
            "creditfactuur",
            "Gemeente Utrecht",
            "21",
            "-1800,00",
            "-378,00",
            "-2178,00",
            "2022-0001",
        ),
    ]
    assert rows[1][2] == "12-09-2022"


def test_mark_paid_asks_for_the_date_then_records_it(client, invoice, finance_user):
    client.force_login(finance_user)
    page = act(client, INVOICES, "mark_paid", [invoice])
    assert page.status_code == 200
    assert b'name="paid_on"' in page.content
    invoice.refresh_from_db()
    assert invoice.paid_on is None

    response = client.post(
        INVOICES,
        {
            "action": "mark_paid",
            "_selected_action": [invoice.pk],
            "paid_on": "2022-09-30",
            "apply": "1",
        },
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.paid_on == datetime.date(2022, 9, 30)
    assert invoice.status() == Invoice.Status.PAID


def test_mark_paid_refuses_a_future_date_and_skips_credit_notes(client, invoice, finance_user):
    credit = credit_invoice(invoice, at=AT)
    client.force_login(finance_user)
    future = (datetime.date.today() + datetime.timedelta(days=5)).isoformat()
    data = {"action": "mark_paid", "_selected_action": [credit.pk], "apply": "1"}
    page = client.post(INVOICES, {**data, "paid_on": future})
    assert "niet in de toekomst" in page.content.decode()
    client.post(INVOICES, {**data, "paid_on": "2022-09-30"})
    credit.refresh_from_db()
    assert credit.paid_on is None


def test_staff_cannot_mark_paid_or_credit(client, invoice, staff_member):
    client.force_login(staff_member)
    page = client.get(INVOICES)
    assert page.status_code == 200
    assert b'value="mark_paid"' not in page.content
    assert b'value="create_credit_notes"' not in page.content
    client.post(
        INVOICES,
        {
            "action": "mark_paid",
            "_selected_action": [invoice.pk],
            "paid_on": "2022-09-30",
            "apply": "1",
        },
    )
    act(client, INVOICES, "create_credit_notes", [invoice], apply="1")
    invoice.refresh_from_db()
    assert invoice.paid_on is None
    assert not Invoice.objects.credit_notes().exists()


def test_outsider_sees_no_invoices(client, invoice, outsider):
    client.force_login(outsider)
    assert client.get(INVOICES).status_code == 403


def test_credit_action_confirms_then_credits_once(client, invoice, finance_user):
    client.force_login(finance_user)
    page = act(client, INVOICES, "create_credit_notes", [invoice])
    assert "kan niet ongedaan worden gemaakt" in page.content.decode()
    assert not Invoice.objects.credit_notes().exists()
    data = {"action": "create_credit_notes", "_selected_action": [invoice.pk], "apply": "1"}
    client.post(INVOICES, data)
    client.post(INVOICES, data)
    assert Invoice.objects.credit_notes().count() == 1
    assert invoice.credit_note.total_incl_vat == -invoice.total_incl_vat


def test_email_action_sends_the_stored_pdf(client, invoice, finance_user):
    client.force_login(finance_user)
    act(client, INVOICES, "email_invoices", [invoice], apply="1")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["facturen@utrecht.example.nl"]
    assert message.attachments[0][0] == "factuur-2022-0001.pdf"
    assert message.attachments[0][1] == stored_pdf(invoice)
    invoice.refresh_from_db()
    assert invoice.emailed_at is not None


def test_issuer_admin_is_one_row_for_finance_only(client, invoicing, finance_user, staff_member):
    issuer = InvoiceIssuer.load()
    client.force_login(staff_member)
    change = reverse("admin:invoicing_invoiceissuer_change", args=[issuer.pk])
    assert client.get(change).status_code == 403
    client.force_login(finance_user)
    response = client.get(reverse("admin:invoicing_invoiceissuer_changelist"))
    assert response.status_code == 302 and response["Location"] == change
    assert client.get(reverse("admin:invoicing_invoiceissuer_add")).status_code == 403
    form = client.get(change).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(iban="NL91 ABNA 0417 1643 01", payment_term_days=14)
    response = client.post(change, data)
    assert response.status_code == 200  # invalid IBAN: the form comes back
    assert "Dit is geen geldig IBAN." in response.content.decode()
    data.update(iban="NL91ABNA0417164300")
    assert client.post(change, data).status_code == 302
    issuer.refresh_from_db()
    assert issuer.payment_term_days == 14


def _next_invoice_id_is(value):
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('registrations_invoice', 'id'), %s)",
                [value - 1],
            )
        else:
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = 'registrations_invoice'")
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('registrations_invoice', %s)",
                [value - 1],
            )


def test_an_action_with_a_confirmation_page_works_past_invoice_one_thousand(
    client, invoicing, open_edition, finance_user
):
    # The Dutch locale writes 1234 as "1.234"; the confirmation page must send the id back
    # as the id, or the selection is lost from the thousandth invoice on.
    _next_invoice_id_is(1234)
    invoice = issue_invoice(make_registration(open_edition))
    assert invoice.pk == 1234
    client.force_login(finance_user)
    page = act(client, INVOICES, "mark_paid", [invoice]).content.decode()
    assert 'value="1234"' in page and 'value="1.234"' not in page
    day = invoice.invoice_date.isoformat()
    response = act(client, INVOICES, "mark_paid", [invoice], apply="1", paid_on=day)
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.paid_on == invoice.invoice_date


def test_a_second_download_reads_neither_the_invoice_nor_its_document(
    client, invoice, finance_user
):
    client.force_login(finance_user)
    first = client.get(pdf_url(invoice))
    assert b"".join(first.streaming_content) == stored_pdf(invoice)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(pdf_url(invoice))
    assert b"".join(again.streaming_content) == stored_pdf(invoice)
    assert again["Content-Disposition"] == 'attachment; filename="factuur-2022-0001.pdf"'
    read = " ".join(query["sql"] for query in queries.captured_queries)
    assert "registrations_invoice" not in read and "invoicing_invoicedocument" not in read


def test_a_kept_document_goes_only_to_who_may_see_invoices(client, invoice, finance_user, outsider):
    client.force_login(finance_user)
    assert client.get(pdf_url(invoice)).status_code == 200
    client.force_login(outsider)
    assert client.get(pdf_url(invoice)).status_code == 403
    client.logout()
    assert client.get(pdf_url(invoice)).status_code == 302


def test_a_kept_document_that_no_longer_matches_its_checksum_is_read_again(
    client, invoice, finance_user
):
    client.force_login(finance_user)
    client.get(pdf_url(invoice))
    key = document_key(invoice.number, documents.Kind.PDF)
    checksum, content, filename = documents_kept.get(key)
    documents_kept.set(key, (checksum, content + b"%% changed in the cache", filename))
    response = client.get(pdf_url(invoice))
    assert b"".join(response.streaming_content) == stored_pdf(invoice)
