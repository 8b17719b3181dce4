"""A refused row says which rule refused it, with its dates, not every reason there could be."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from programme.models import amsterdam_date
from registrations.attendance.models import Certificate, CertificateRefused
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.models import Registration
from registrations.payments import matching, reminders
from registrations.payments.models import InvoiceHold, Reminder, ReminderSettings
from tests.conftest import admin_action, make_edition, make_registration
from werkplaats import formats

INVOICES = reverse("admin:invoicing_invoice_changelist")


def today():
    return amsterdam_date(timezone.now())


def skipped(client, response):
    page = client.get(response["Location"])
    return [
        str(m).removeprefix("Overgeslagen: ")
        for m in page.context["messages"]
        if str(m).startswith("Overgeslagen: ")
    ]


@pytest.fixture
def edition(invoicing):
    return make_edition()


def issue(edition, name, days_ago=60):
    at = timezone.now() - datetime.timedelta(days=days_ago)
    return issue_invoice(make_registration(edition, first_name=name), at=at)


def test_each_invoice_without_a_reminder_says_why(client, finance_user, edition):
    not_due = issue(edition, "Noor", days_ago=0)
    paid = issue(edition, "Daan")
    paid_on = today() - datetime.timedelta(days=3)
    matching.record_payment(paid, paid_on)
    credited = issue(edition, "Sanne")
    credit_note = credit_invoice(credited)
    held = issue(edition, "Bram")
    hold = InvoiceHold.objects.create(invoice=held, reason="Gemeente betaalt na afloop")
    both_sent = issue(edition, "Joost")
    reminders.send(both_sent, Reminder.Level.FIRST, force=True)
    second = reminders.send(both_sent, Reminder.Level.SECOND, force=True)
    client.force_login(finance_user)

    rows = [not_due, paid, credited, credit_note, held, both_sent]
    response = admin_action(client, INVOICES, "send_reminder", rows, apply="1")

    assert sorted(skipped(client, response)) == sorted(
        [
            f"{not_due.number} krijgt geen herinnering: nog niet vervallen: vervalt op "
            f"{formats.day(not_due.due_date)}.",
            f"{paid.number} krijgt geen herinnering: al betaald op {formats.day(paid_on)}.",
            f"{credited.number} krijgt geen herinnering: gecrediteerd met {credit_note.number}.",
            f"{credit_note.number} krijgt geen herinnering: een creditfactuur krijgt geen "
            "herinnering.",
            f"{held.number} krijgt geen herinnering: herinneringen aangehouden sinds "
            f"{formats.day(timezone.localtime(hold.since))}: Gemeente betaalt na afloop.",
            f"{both_sent.number} krijgt geen herinnering: beide herinneringen zijn al verstuurd, "
            f"de tweede op {formats.day(timezone.localtime(second.sent_at))}.",
        ]
    )
    assert Reminder.objects.count() == 2


def test_the_daily_rule_names_the_day_the_next_reminder_is_due(edition):
    settings = ReminderSettings.load()
    settings.first_after_days, settings.second_after_days = 7, 21
    settings.save()
    invoice = issue(edition, "Noor", days_ago=31)  # due yesterday: a term of 30 days
    assert invoice.due_date == today() - datetime.timedelta(days=1)
    level, reason = reminders.level_or_reason(invoice, settings, today())
    first_on = invoice.due_date + datetime.timedelta(days=7)
    assert (level, reason) == (None, f"de eerste herinnering gaat pas op {formats.day(first_on)}")
    reminders.send(invoice, Reminder.Level.FIRST, force=True)
    invoice.refresh_from_db()
    level, reason = reminders.level_or_reason(invoice, settings, today())
    gap = settings.second_after_days - settings.first_after_days
    second_on = max(
        invoice.due_date + datetime.timedelta(days=settings.second_after_days),
        today() + datetime.timedelta(days=gap),
    )
    assert (level, reason) == (
        None,
        f"de tweede herinnering gaat pas op {formats.day(second_on)}",
    )


def test_marking_paid_names_the_credit_note_or_the_payment_date(client, finance_user, edition):
    paid = issue(edition, "Daan")
    paid_on = today() - datetime.timedelta(days=3)
    matching.record_payment(paid, paid_on)
    credited = issue(edition, "Sanne")
    credit_note = credit_invoice(credited)
    client.force_login(finance_user)

    response = admin_action(
        client,
        INVOICES,
        "mark_paid",
        [paid, credited, credit_note],
        apply="1",
        paid_on=today().isoformat(),
    )

    credited_on = formats.day(credit_note.invoice_date)
    assert sorted(skipped(client, response)) == sorted(
        [
            f"{paid.number} is al betaald op {formats.day(paid_on)}; er is niets te registreren.",
            f"{credited.number} is al gecrediteerd met {credit_note.number} op {credited_on}; "
            "registreer een terugbetaling op de creditfactuur.",
            f"{credit_note.number} is een creditfactuur (van {credited.number}); registreer een "
            "terugbetaling op de creditfactuur.",
        ]
    )


def test_marking_refunded_names_why_nothing_goes_back(client, finance_user, edition):
    uncredited = issue(edition, "Noor")
    unpaid = issue(edition, "Daan")
    unpaid_credit = credit_invoice(unpaid)
    refunded = issue(edition, "Sanne")
    matching.record_payment(refunded, today() - datetime.timedelta(days=5))
    refunded_credit = credit_invoice(refunded)
    refunded_on = today()
    matching.record_refund(refunded_credit, refunded_on)
    client.force_login(finance_user)

    response = admin_action(
        client,
        INVOICES,
        "mark_refunded",
        [uncredited, unpaid_credit, refunded_credit],
        apply="1",
        refunded_on=today().isoformat(),
    )

    assert sorted(skipped(client, response)) == sorted(
        [
            f"{uncredited.number} is niet gecrediteerd; een terugbetaling hoort bij een "
            "creditfactuur.",
            f"{unpaid.number} is niet betaald; er is niets terug te betalen.",
            f"{refunded_credit.number}: de terugbetaling is al geregistreerd op "
            f"{formats.day(refunded_on)}.",
        ]
    )


def test_transferring_names_which_side_has_nothing(edition):
    credited = issue(edition, "Noor")
    credit_invoice(credited)
    target = issue(edition, "Daan")
    with pytest.raises(ValidationError) as refused:
        matching.transfer(credited, target)
    assert refused.value.messages == [
        f"Er is niets te verrekenen: op {credited.number} staat geen terug te betalen bedrag."
    ]


def test_a_certificate_refusal_names_the_last_day_or_the_status(db):
    edition = make_edition()
    registration = make_registration(edition)
    with pytest.raises(CertificateRefused) as refused:
        Certificate.objects.issue(registration)
    assert str(refused.value) == (
        f"{registration.reference}: de editie is nog niet afgelopen (de laatste dag is "
        f"{formats.day(edition.end_date)}); een bewijs van deelname kan pas daarna."
    )
    waiting = make_registration(
        make_edition(
            slug="voorbij",
            start_date=today() - datetime.timedelta(days=10),
            end_date=today() - datetime.timedelta(days=8),
            registration_deadline=today() - datetime.timedelta(days=20),
        ),
        status=Registration.Status.WAITING,
    )
    with pytest.raises(CertificateRefused) as refused:
        Certificate.objects.issue(waiting)
    assert str(refused.value) == f"{waiting.reference} is geen bevestigde deelnemer: wachtlijst."
