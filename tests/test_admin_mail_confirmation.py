"""Every admin action that e-mails people shows first what it will send, to how many and to
whom, with one message as it will be sent; only the confirmation sends, exactly that many."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from registrations.attendance.models import Attendance, Certificate
from registrations.invoicing.issuing import issue_invoice
from registrations.models import Registration
from registrations.payments.models import Reminder
from tests.conftest import admin_action, make_edition, make_ended_edition, make_registration

REGISTRATIONS = reverse("admin:registrations_registration_changelist")
INVOICES = reverse("admin:invoicing_invoice_changelist")


@pytest.fixture
def mailing(client, mailoutbox, django_capture_on_commit_callbacks):
    """`first, sent = mailing(url, action, rows)`: the first POST (checked to send and queue
    nothing) and the confirming one, with whatever it queued run."""

    def run(url, action, rows):
        with django_capture_on_commit_callbacks(execute=True) as queued:
            first = admin_action(client, url, action, rows)
        assert first.status_code == 200
        assert queued == [] and mailoutbox == []
        with django_capture_on_commit_callbacks(execute=True):
            done = admin_action(client, url, action, rows, apply="1")
        assert done.status_code == 302
        return first, list(mailoutbox)

    return run


def preview_of(response):
    return response.context["mail"]


def assert_preview_is_the_message_sent(preview, sent):
    same = [m for m in sent if (m.to, m.subject) == (preview.message.to, preview.message.subject)]
    assert len(same) == 1
    assert preview.message.body == same[0].body
    same = same[0]
    assert preview.attachment_names == [attachment[0] for attachment in same.attachments]


def test_certificates_are_mailed_only_after_the_confirmation_page(client, staff_member, mailing):
    edition = make_ended_edition()
    present = [
        make_registration(edition, first_name=name, last_name="de Vries")
        for name in ["Sanne", "Bram"]
    ]
    for registration in present:
        Attendance.objects.create(registration=registration, date=edition.end_date, present=True)
    absent = make_registration(edition, first_name="Niet", last_name="Gekomen")
    client.force_login(staff_member)

    page, sent = mailing(REGISTRATIONS, "send_certificates", [*present, absent])

    preview = preview_of(page)
    html = page.content.decode()
    assert "Het bewijs van deelname gaat naar 2 mensen" in html
    for registration in present:
        assert f"{registration.full_name} &lt;{registration.email}&gt;" in html
    assert preview.skipped == [
        f"{absent.reference} was op geen enkele dag aanwezig; geen bewijs van deelname."
    ]
    assert preview.message.to == [present[0].email]
    assert preview.message.subject == f"Je bewijs van deelname: {edition.title}"
    assert preview.message.subject in html
    assert "Beste Sanne," in html
    assert sorted(m.to[0] for m in sent) == sorted(r.email for r in present)
    assert Certificate.objects.count() == 2
    [same] = [m for m in sent if m.to == preview.message.to]
    assert preview.message.subject == same.subject
    # The verification code is made when the certificate is issued, at sending.
    code = Certificate.objects.get(registration=present[0]).code
    assert preview.message.body.split("/certificaat/")[0] == same.body.split("/certificaat/")[0]
    assert code in same.body


def test_invoices_are_mailed_only_after_the_confirmation_page(
    client, finance_user, invoicing, mailing
):
    edition = make_edition()
    invoices = [
        issue_invoice(make_registration(edition, first_name=name)) for name in ["Noor", "Daan"]
    ]
    client.force_login(finance_user)

    page, sent = mailing(INVOICES, "email_invoices", invoices)

    preview = preview_of(page)
    html = page.content.decode()
    assert "De factuur gaat naar 2 mensen" in html
    assert f"{invoices[0].number}: Gemeente Utrecht &lt;facturen@utrecht.example.nl&gt;" in html
    assert preview.message.subject == f"Factuur {invoices[0].number} van Platform31"
    assert preview.attachment_names == [invoices[0].filename, invoices[0].ubl_filename]
    assert len(sent) == 2
    assert preview.message.subject == sent[0].subject
    assert preview.message.body == sent[0].body


def test_reminders_are_sent_only_after_the_confirmation_page(
    client, finance_user, invoicing, mailing
):
    edition = make_edition()
    long_ago = timezone.now() - datetime.timedelta(days=60)
    late = [
        issue_invoice(make_registration(edition, first_name=name), at=long_ago)
        for name in ["Noor", "Daan"]
    ]
    not_due = issue_invoice(make_registration(edition, first_name="Sanne"))
    client.force_login(finance_user)

    page, sent = mailing(INVOICES, "send_reminder", [*late, not_due])

    preview = preview_of(page)
    assert preview.count == 2
    assert "De betalingsherinnering gaat naar 2 mensen" in page.content.decode()
    assert preview.recipients[0] == (
        f"eerste herinnering voor {late[0].number}: Gemeente Utrecht <facturen@utrecht.example.nl>"
    )
    assert len(preview.skipped) == 1 and preview.skipped[0].startswith(
        f"{not_due.number} krijgt geen herinnering: nog niet vervallen: vervalt op "
    )
    assert len(sent) == 2
    assert Reminder.objects.filter(invoice__in=late).count() == 2
    assert_preview_is_the_message_sent(preview, sent)


def test_confirmations_are_resent_only_after_the_confirmation_page(
    client, staff_member, mailing, mailoutbox
):
    edition = make_edition()
    active = [make_registration(edition, first_name=name) for name in ["Noor", "Daan"]]
    cancelled = make_registration(edition, first_name="Zoë", status=Registration.Status.CANCELLED)
    mailoutbox.clear()
    client.force_login(staff_member)

    page, sent = mailing(REGISTRATIONS, "resend_confirmation", [*active, cancelled])

    preview = preview_of(page)
    assert "De bevestiging gaat naar 2 mensen" in page.content.decode()
    assert preview.skipped == [
        f"{cancelled.reference} is geannuleerd; daar hoort geen bevestiging bij."
    ]
    assert preview.message.subject == f"Bevestiging van je inschrijving: {edition.title}"
    assert sorted(m.to[0] for m in sent) == sorted(r.email for r in active)
    assert_preview_is_the_message_sent(preview, sent)


def test_confirming_from_the_waiting_list_mails_only_after_the_confirmation_page(
    client, staff_member, mailing, mailoutbox
):
    edition = make_edition(capacity=3)
    confirmed = make_registration(edition)
    waiting = [
        make_registration(edition, first_name=name, status=Registration.Status.WAITING)
        for name in ["Noor", "Daan"]
    ]
    mailoutbox.clear()
    client.force_login(staff_member)

    page, sent = mailing(REGISTRATIONS, "confirm_from_waiting_list", [*waiting, confirmed])

    preview = preview_of(page)
    assert preview.count == 2
    assert preview.skipped == [f"{confirmed.reference} staat niet op de wachtlijst: bevestigd."]
    # Previewed as it goes out: after the confirmation.
    assert preview.message.subject.startswith("Er is een plaats voor je")
    assert "Status: bevestigd" in preview.message.body
    for registration in waiting:
        registration.refresh_from_db()
        assert registration.status == Registration.Status.CONFIRMED
    assert sorted(m.to[0] for m in sent) == sorted(r.email for r in waiting)
    assert_preview_is_the_message_sent(preview, sent)


def test_a_selection_nobody_would_get_mail_for_offers_no_send_button(
    client, staff_member, mailoutbox
):
    cancelled = make_registration(make_edition(), status=Registration.Status.CANCELLED)
    mailoutbox.clear()
    client.force_login(staff_member)
    page = admin_action(client, REGISTRATIONS, "resend_confirmation", [cancelled])
    html = page.content.decode()
    assert "De bevestiging gaat naar 0 mensen" in html
    assert 'name="apply"' not in html
    assert mailoutbox == []
