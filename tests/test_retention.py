"""Personal data leaves on time by itself: `manage.py apply_retention`, run daily, with the
clock moved (time-machine)."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from registrations.invoicing.issuing import issue_invoice
from registrations.invoicing.models import Invoice
from registrations.models import Registration, RetentionRecord
from tests.conftest import make_edition, make_registration

START = datetime.date(2027, 3, 8)  # a Monday; the edition runs 8 to 10 March 2027


def at(day, hour=3):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 15)))


def run(**options):
    out = io.StringIO()
    call_command("apply_retention", stdout=out, stderr=out, **options)
    return out.getvalue()


@pytest.fixture
def edition(db):
    with time_machine.travel(at(START - datetime.timedelta(days=100)), tick=False):
        edition = make_edition(
            start_date=START,
            end_date=START + datetime.timedelta(days=2),
            registration_deadline=START - datetime.timedelta(days=14),
            retention_months=12,
        )
        for name in ("Fatima", "Joost"):
            make_registration(
                edition,
                first_name=name,
                dietary_needs="glutenvrij",
                accessibility_needs="rolstoel",
                own_case="Onze wijk",
                vat_id="NL000099998B57",
            )
    return edition


def test_diet_and_accessibility_stay_until_the_last_day_and_go_the_day_after(edition):
    with time_machine.travel(at(START + datetime.timedelta(days=2), hour=23), tick=False):
        run()
    assert Registration.objects.exclude(dietary_needs="").count() == 2
    with time_machine.travel(at(START + datetime.timedelta(days=3)), tick=False):
        output = run()
    assert "dieet- en toegankelijkheidswensen gewist bij 2" in output
    assert not Registration.objects.exclude(dietary_needs="").exists()
    assert not Registration.objects.exclude(accessibility_needs="").exists()
    # Only the special categories: the rest stays until the retention period ends.
    assert Registration.objects.filter(first_name="Fatima", own_case="Onze wijk").exists()
    record = RetentionRecord.objects.get()
    assert (record.action, record.registrations) == (RetentionRecord.Action.NEEDS_ERASED, 2)


def test_staff_are_told_30_days_ahead_once_even_when_the_job_runs_twice_a_day(
    edition, mailoutbox, settings
):
    settings.STAFF_NOTIFICATION_EMAIL = "werkplaats@platform31.example.nl"
    due = datetime.date(2028, 3, 11)  # 12 months after the last day, 10 March 2027
    with time_machine.travel(at(due - datetime.timedelta(days=31)), tick=False):
        run()
    assert not mailoutbox
    with time_machine.travel(at(due - datetime.timedelta(days=30)), tick=False):
        run()
        run()
    with time_machine.travel(at(due - datetime.timedelta(days=29), hour=15), tick=False):
        run()
    notices = [m for m in mailoutbox if "geanonimiseerd" in m.subject]
    assert len(notices) == 1
    assert notices[0].to == ["werkplaats@platform31.example.nl"]
    assert "11 maart 2028" in notices[0].body
    assert RetentionRecord.objects.filter(action=RetentionRecord.Action.NOTICE).count() == 1


def test_anonymised_when_the_retention_period_has_passed_and_not_a_day_before(edition):
    due = datetime.date(2028, 3, 11)
    with time_machine.travel(at(due - datetime.timedelta(days=1), hour=23), tick=False):
        run()
    assert not Registration.objects.filter(anonymised_at__isnull=False).exists()
    with time_machine.travel(at(due), tick=False):
        output = run()
        again = run()
    assert "2 inschrijving(en) geanonimiseerd" in output
    assert "0 inschrijving(en) geanonimiseerd" in again
    for registration in Registration.objects.all():
        assert registration.first_name == "Geanonimiseerd"
        assert registration.last_name == ""
        assert registration.email == f"geanonimiseerd-{registration.pk}@invalid"
        assert registration.phone == registration.own_case == registration.order.vat_id == ""
        assert registration.order.invoice_street == ""
        # Kept for statistics and the invoices' record of what was agreed.
        assert registration.organisation == "Gemeente Utrecht"
        assert registration.sector == "gemeente"
        assert registration.status == Registration.Status.CONFIRMED
        assert registration.price_excl_vat == Decimal("1800.00")
    anonymised = RetentionRecord.objects.get(action=RetentionRecord.Action.ANONYMISED)
    assert (anonymised.registrations, anonymised.due_on) == (2, due)


def test_a_longer_retention_period_keeps_the_data_longer(edition):
    edition.retention_months = 24
    edition.save()
    with time_machine.travel(at(datetime.date(2028, 6, 1)), tick=False):
        run()
    assert not Registration.objects.filter(anonymised_at__isnull=False).exists()
    with time_machine.travel(at(datetime.date(2029, 3, 11)), tick=False):
        run()
    assert Registration.objects.filter(anonymised_at__isnull=False).count() == 2


def test_invoices_survive_anonymisation_untouched(edition, invoicing):
    registration = Registration.objects.get(first_name="Fatima")
    with time_machine.travel(at(START - datetime.timedelta(days=20)), tick=False):
        invoice = issue_invoice(registration)
    before = Invoice.objects.filter(pk=invoice.pk).values().get()
    with time_machine.travel(at(datetime.date(2028, 3, 11)), tick=False):
        run()
    registration.refresh_from_db()
    assert registration.anonymised_at is not None
    assert Invoice.objects.filter(pk=invoice.pk).values().get() == before
    assert invoice.customer_street == "Stadsplateau 1"


def test_dry_run_changes_nothing(edition, mailoutbox):
    with time_machine.travel(at(datetime.date(2028, 3, 11)), tick=False):
        before = list(Registration.objects.order_by("pk").values())
        output = run(dry_run=True)
    assert "Dry run: 2 inschrijving(en)" in output
    assert list(Registration.objects.order_by("pk").values()) == before
    assert not RetentionRecord.objects.exists()
    assert not mailoutbox


def test_a_refused_notice_is_tried_again_the_next_day(edition, mailoutbox, monkeypatch):
    from registrations import emails

    due = datetime.date(2028, 3, 11)
    monkeypatch.setattr(emails, "notify_staff_of_retention", lambda *args: False)
    with time_machine.travel(at(due - datetime.timedelta(days=30)), tick=False):
        output = run()
    assert "niet verstuurd" in output
    assert not RetentionRecord.objects.filter(action=RetentionRecord.Action.NOTICE).exists()
    monkeypatch.undo()
    with time_machine.travel(at(due - datetime.timedelta(days=29)), tick=False):
        run()
    assert RetentionRecord.objects.filter(action=RetentionRecord.Action.NOTICE).count() == 1
