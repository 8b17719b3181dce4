"""A database that answers but refuses to write (read-only storage, SQLSTATE 42501, raised as
ProgrammingError; a full disk, 53100, raised as OperationalError): every admin action and job
says per row, in Dutch, what was not made, and nothing is half-made. No 500, no 503 in the
back office; the public pages keep their 503."""

import datetime
import io

import psycopg.errors
import pytest
import time_machine
from django.contrib.admin import ModelAdmin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import OperationalError, ProgrammingError, connection
from django.urls import reverse

from registrations.invoicing import documents, jobs
from registrations.invoicing.issuing import issue_invoice
from registrations.invoicing.models import BulkJob, Invoice, InvoiceCounter, InvoiceDocument
from registrations.models import Registration, WaitingListOffer
from registrations.payments.models import BankStatement, Payment, Reminder
from tests.conftest import (
    admin_action,
    camt053,
    camt_transaction,
    make_registration,
    sign_up_data,
)
from werkplaats.refusals import is_write_refused

AT = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)
REGISTRATIONS = reverse("admin:registrations_registration_changelist")
INVOICES = reverse("admin:invoicing_invoice_changelist")
REFUSED = "de database kan nu niet schrijven"
# Django raises the driver's error as its own class, with the driver's as __cause__.
FAULTS = {"42501": ProgrammingError, "53100": OperationalError}


def refusal(sqlstate):
    error = FAULTS[sqlstate]("refused")
    error.__cause__ = psycopg.errors.lookup(sqlstate)("refused")
    return error


@pytest.fixture(params=sorted(FAULTS))
def sqlstate(request):
    return request.param


@pytest.fixture
def documents_refused(monkeypatch, sqlstate):
    """Storing an invoice document fails as the database would: after the number was taken
    and the invoice row written, inside the issuing transaction."""

    def store(invoice, kind, content):
        raise refusal(sqlstate)

    monkeypatch.setattr(documents, "_store", store)


def nothing_issued():
    return (
        not Invoice.objects.exists()
        and not InvoiceDocument.objects.exists()
        and not InvoiceCounter.objects.filter(last_number__gt=0).exists()
    )


def shown(response):
    return [str(message) for message in response.context["messages"]]


def test_both_sqlstates_read_as_a_database_that_refuses_to_write():
    assert is_write_refused(refusal("42501"))
    assert is_write_refused(refusal("53100"))
    other = ProgrammingError("syntax")
    other.__cause__ = psycopg.errors.lookup("42601")("syntax")
    assert not is_write_refused(other)
    assert not is_write_refused(OperationalError("connection refused"))


def test_issuing_while_the_database_refuses_to_write_tells_finance_per_row(
    client, invoicing, open_edition, finance_user, documents_refused
):
    first, second = make_registration(open_edition), make_registration(open_edition)
    client.force_login(finance_user)

    response = admin_action(client, REGISTRATIONS, "issue_invoices", [first, second])

    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    messages = shown(page)
    assert any(
        m.startswith(f"Factuur voor {first.order.reference} ({first.reference})")
        or m.startswith(f"Factuur voor {first.reference} is niet gemaakt: {REFUSED}")
        for m in messages
    ), messages
    assert any("Er is niets van vastgelegd" in m for m in messages)
    assert any(m == "Niet geprobeerd: de andere 1." for m in messages), messages
    assert nothing_issued()


def test_issuing_after_the_fault_takes_the_first_number(
    client, invoicing, open_edition, finance_user, monkeypatch, sqlstate
):
    registration = make_registration(open_edition)
    client.force_login(finance_user)
    with monkeypatch.context() as patch:
        patch.setattr(documents, "_store", lambda *args: (_ for _ in ()).throw(refusal(sqlstate)))
        admin_action(client, REGISTRATIONS, "issue_invoices", [registration])
    assert nothing_issued()

    admin_action(client, REGISTRATIONS, "issue_invoices", [registration])

    invoice = Invoice.objects.get()
    assert invoice.sequence == 1
    assert InvoiceCounter.objects.get().last_number == 1


def test_crediting_while_the_database_refuses_to_write_makes_no_credit_note(
    client, invoicing, open_edition, finance_user, monkeypatch, sqlstate
):
    invoice = issue_invoice(make_registration(open_edition), at=AT)
    counters = list(InvoiceCounter.objects.values_list("series", "last_number"))
    monkeypatch.setattr(documents, "_store", lambda *args: (_ for _ in ()).throw(refusal(sqlstate)))
    client.force_login(finance_user)

    response = admin_action(client, INVOICES, "create_credit_notes", [invoice], apply="1")

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert f"Creditfactuur voor {invoice.number} is niet gemaakt: {REFUSED}" in " ".join(
        shown(page)
    )
    assert Invoice.objects.count() == 1
    assert list(InvoiceCounter.objects.values_list("series", "last_number")) == counters


def test_a_job_stops_at_the_row_the_database_refused_and_records_why(
    client, invoicing, open_edition, finance_user, documents_refused, monkeypatch
):
    monkeypatch.setattr(jobs, "INLINE_LIMIT", 2)
    registrations = [make_registration(open_edition) for _ in range(3)]
    client.force_login(finance_user)

    response = admin_action(client, REGISTRATIONS, "issue_invoices", registrations)

    assert response.status_code == 302
    job = BulkJob.objects.get()
    items = list(job.items.all())
    assert len(items) == 1
    assert not items[0].succeeded
    assert items[0].message.startswith("Factuur voor ")
    assert REFUSED in items[0].message
    assert job.finished_at is None  # started again, it goes on where it stopped
    assert nothing_issued()
    assert client.get(response["Location"]).status_code == 200


def test_a_change_form_saved_while_the_database_refuses_to_write_says_nothing_was_saved(
    client, staff_member, open_edition, monkeypatch, sqlstate
):
    def save_model(self, request, obj, form, change):
        raise refusal(sqlstate)

    monkeypatch.setattr(ModelAdmin, "save_model", save_model)
    url = reverse("admin:auth_group_change", args=[staff_member.groups.get().pk])
    client.force_login(staff_member)
    staff_member.is_superuser = True
    staff_member.save()

    response = client.post(url, {"name": "Anders"})

    assert response.status_code == 302
    assert response["Location"] == url
    page = client.get(url)
    assert page.status_code == 200
    assert any(m.startswith(f"Niet opgeslagen: {REFUSED}") for m in shown(page))
    assert staff_member.groups.get().name != "Anders"


def test_the_public_sign_up_answers_its_503_page_when_the_database_refuses_to_write(
    client, open_edition, monkeypatch, sqlstate
):
    def place(*args, **kwargs):
        raise refusal(sqlstate)

    monkeypatch.setattr(Registration.objects, "place", place)
    url = reverse("registrations:register", args=[open_edition.slug])

    response = client.post(url, sign_up_data())

    assert response.status_code == 503
    assert "Even niet beschikbaar" in response.content.decode()
    assert not Registration.objects.exists()


@pytest.mark.usefixtures("postgres")
@pytest.mark.parametrize("code", sorted(FAULTS))
def test_a_real_postgresql_refusal_while_storing_the_document_is_reported(
    client, invoicing, open_edition, finance_user, code
):
    """The database itself refuses: a trigger on the documents' table raises the SQLSTATE,
    as read-only storage (42501) or a full disk (53100) would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_document() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION 'refused' USING ERRCODE = '{code}'; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_document BEFORE INSERT ON {InvoiceDocument._meta.db_table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_document()"
        )
    registration = make_registration(open_edition)
    client.force_login(finance_user)

    response = admin_action(client, REGISTRATIONS, "issue_invoices", [registration])

    assert response.status_code == 302
    messages = shown(client.get(response["Location"]))
    assert any(REFUSED in m and "is niet gemaakt" in m for m in messages), messages
    assert nothing_issued()


def test_the_reminder_job_stops_at_the_invoice_the_database_refused_and_says_so(
    open_edition, invoicing, monkeypatch, sqlstate
):
    with time_machine.travel(AT):
        invoice = issue_invoice(make_registration(open_edition), at=AT)

    def create(**fields):
        raise refusal(sqlstate)

    monkeypatch.setattr(Reminder.objects, "create", create)
    with time_machine.travel(datetime.datetime(2022, 10, 19, 7, 0, tzinfo=datetime.UTC)):
        with pytest.raises(CommandError) as stopped:
            call_command("send_reminders", stdout=io.StringIO())

    assert str(stopped.value).startswith(
        f"Herinnering voor {invoice.number} is niet verstuurd: {REFUSED}"
    )
    assert not Reminder.objects.exists()


def test_the_waiting_list_job_stops_when_the_database_refuses_to_write(
    open_edition, monkeypatch, sqlstate
):
    open_edition.capacity = 1
    open_edition.save()
    make_registration(open_edition)
    make_registration(open_edition, status=Registration.Status.WAITING)

    def offer_free_places(edition, at=None):
        raise refusal(sqlstate)

    monkeypatch.setattr(WaitingListOffer.objects, "offer_free_places", offer_free_places)
    with pytest.raises(CommandError) as stopped:
        call_command("expire_waiting_list_offers", stdout=io.StringIO())

    assert f"is niet bijgewerkt: {REFUSED}" in str(stopped.value)
    assert not WaitingListOffer.objects.exists()


def test_a_database_error_that_is_no_refusal_to_write_is_not_hidden(open_edition, monkeypatch):
    def offer_free_places(edition, at=None):
        error = ProgrammingError("syntax")
        error.__cause__ = psycopg.errors.lookup("42601")("syntax")
        raise error

    make_registration(open_edition, status=Registration.Status.WAITING)
    monkeypatch.setattr(WaitingListOffer.objects, "offer_free_places", offer_free_places)
    with pytest.raises(ProgrammingError):
        call_command("expire_waiting_list_offers", stdout=io.StringIO())


def test_reading_in_a_statement_while_the_database_refuses_to_write_stores_nothing(
    client, finance_user, open_edition, invoicing, monkeypatch, sqlstate
):
    invoice = issue_invoice(make_registration(open_edition))

    def create(**fields):
        raise refusal(sqlstate)

    monkeypatch.setattr(BankStatement.objects, "create", create)
    upload = reverse("admin:payments_bankstatement_upload")
    client.force_login(finance_user)
    content = camt053(
        [
            {
                "amount": invoice.total_incl_vat,
                "transactions": [camt_transaction(remittance=invoice.number)],
            }
        ]
    )

    response = client.post(upload, {"file": SimpleUploadedFile("afschrift.xml", content)})

    assert response.status_code == 302
    assert response["Location"] == upload
    page = client.get(upload)
    assert any(m.startswith(f"Niet opgeslagen: {REFUSED}") for m in shown(page))
    assert not BankStatement.objects.exists() and not Payment.objects.exists()
