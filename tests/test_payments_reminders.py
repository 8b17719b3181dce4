"""Reminders out: the first and second reminder go out by themselves on their days, once each,
with the invoice attached, and never for a paid, credited or held invoice."""

import datetime
import email
import email.policy
import io
import time
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.payments import matching
from registrations.payments.models import InvoiceHold, Reminder, ReminderSettings
from tests.conftest import admin_action, make_registration, pdf_text, stored_pdf

ISSUED = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)  # due 12 October 2022


def at(day, hour=7):
    return time_machine.travel(datetime.datetime(2022, *day, hour, 0, tzinfo=datetime.UTC))


@pytest.fixture
def invoice(open_edition, invoicing):
    with time_machine.travel(ISSUED):
        return issue_invoice(make_registration(open_edition), at=ISSUED)


def run(*args):
    out = io.StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def reminders_mailed(mailoutbox, django_capture_on_commit_callbacks):
    """Run the command and send the queued e-mails (the task queue runs them at commit)."""

    def go(*args):
        with django_capture_on_commit_callbacks(execute=True):
            return run(*args)

    return go


def test_first_and_second_reminder_go_out_on_their_days_once_each(
    invoice, reminders_mailed, mailoutbox
):
    assert invoice.due_date == datetime.date(2022, 10, 12)
    with at((10, 18)):  # 6 days late: the first waits until day 7
        assert "0 herinnering(en) verstuurd" in reminders_mailed()
    with at((10, 19)):
        out = reminders_mailed()
        assert f"eerste herinnering voor {invoice.number}" in out
    with at((10, 19), hour=15):  # the second run of the day sends nothing again
        assert "0 herinnering(en) verstuurd" in reminders_mailed()
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [invoice.customer_email]
    assert "Eerste herinnering" in mail.subject and invoice.number in mail.subject
    assert "€ 2.178,00" in mail.body
    assert ReminderSettings.load().first_text[:40] in mail.body
    names = [name for name, _content, _type in mail.attachments]
    assert invoice.filename in names
    assert invoice.ubl_filename in names  # the e-invoice, when the invoice has one
    with at((11, 2)):  # 21 days late
        assert f"tweede herinnering voor {invoice.number}" in reminders_mailed()
    with at((12, 30)):
        assert "0 herinnering(en) verstuurd" in reminders_mailed()
    assert list(Reminder.objects.values_list("level", flat=True)) == [1, 2]
    assert len(mailoutbox) == 2


def test_dry_run_lists_what_would_go_out_and_sends_nothing(invoice, reminders_mailed, mailoutbox):
    with at((10, 20)):
        out = reminders_mailed("--dry-run")
    assert f"zou versturen: eerste herinnering voor {invoice.number}" in out
    assert not Reminder.objects.exists() and not mailoutbox


def test_no_reminder_for_a_paid_credited_or_held_invoice(
    open_edition, invoicing, invoice, reminders_mailed, mailoutbox
):
    with time_machine.travel(ISSUED):
        paid = issue_invoice(make_registration(open_edition), at=ISSUED)
        credited = issue_invoice(make_registration(open_edition), at=ISSUED)
        credit_invoice(credited, at=ISSUED)
    matching.record_payment(paid, datetime.date(2022, 10, 1), today=datetime.date(2022, 10, 2))
    InvoiceHold.objects.create(invoice=invoice, reason="Gemeente betaalt na afloop")
    with at((11, 30)):
        assert "0 herinnering(en) verstuurd" in reminders_mailed()
    assert not mailoutbox
    InvoiceHold.objects.all().delete()
    with at((12, 1)):
        assert "1 herinnering(en) verstuurd" in reminders_mailed()


def test_a_partly_paid_invoice_is_reminded_of_what_is_still_open(
    invoice, reminders_mailed, mailoutbox
):
    matching.record_payment(
        invoice, datetime.date(2022, 10, 1), amount="1000.00", today=datetime.date(2022, 10, 2)
    )
    with at((10, 20)):
        reminders_mailed()
    assert Reminder.objects.get().outstanding == Decimal("1178.00")
    assert "€ 1.178,00" in mailoutbox[0].body


def test_finance_sets_the_days_and_the_text(invoice, reminders_mailed, mailoutbox):
    settings = ReminderSettings.load()
    settings.first_after_days = 3
    settings.first_text = "Wij missen nog uw betaling."
    settings.full_clean()
    settings.save()
    with at((10, 15)):
        reminders_mailed()
    assert "Wij missen nog uw betaling." in mailoutbox[0].body


def test_the_admin_action_sends_the_next_reminder_at_once_and_records_it(
    client, finance_user, invoice, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(finance_user)
    url = reverse("admin:invoicing_invoice_changelist")
    with at((10, 13)), django_capture_on_commit_callbacks(execute=True):
        admin_action(client, url, "send_reminder", [invoice], apply="1")
        admin_action(client, url, "send_reminder", [invoice], apply="1")
        admin_action(client, url, "send_reminder", [invoice], apply="1")  # both sent: no more
    assert list(Reminder.objects.values_list("level", "by")) == [(1, "femke"), (2, "femke")]
    assert len(mailoutbox) == 2
    page = client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    assert "tweede herinnering" in page.content.decode()


def test_finance_holds_an_invoice_with_a_reason(client, finance_user, invoice):
    client.force_login(finance_user)
    url = reverse("admin:invoicing_invoice_changelist")
    page = admin_action(client, url, "hold_reminders", [invoice], apply="1", reason="")
    assert "Schrijf op waarom" in page.content.decode()
    assert not InvoiceHold.objects.exists()
    admin_action(client, url, "hold_reminders", [invoice], apply="1", reason="Betaalt na afloop")
    assert InvoiceHold.objects.get().reason == "Betaalt na afloop"
    with at((12, 1)):
        assert "0 herinnering(en)" in run()


def test_the_reminder_survives_a_real_smtp_round_trip_with_the_stored_invoice_attached(
    smtp_server, invoice, settings, django_capture_on_commit_callbacks
):
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    with at((10, 19)), django_capture_on_commit_callbacks(execute=True):
        run()
    deadline = time.monotonic() + 5
    while not inbox.envelopes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.rcpt_tos == [invoice.customer_email]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "Eerste herinnering" in message["Subject"]
    attachments = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert attachments[invoice.filename] == stored_pdf(invoice)
    assert invoice.number in pdf_text(attachments[invoice.filename])
