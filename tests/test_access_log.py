"""The access log: who exported or downloaded personal data, ran a bulk action or signed in
(failed too); nobody changes or deletes it from the application; the retention job removes
entries older than the period; staff with the role read it."""

import datetime
import io
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from registrations.accesslog.admin import RecordedActionsMixin
from registrations.accesslog.log import Kind, record
from registrations.accesslog.models import AccessLogEntry
from registrations.attendance.models import Attendance, Certificate
from registrations.coaching.models import Coach, CoachSlot
from registrations.intake.models import Intake
from registrations.invoicing import jobs
from registrations.invoicing.issuing import issue_invoice
from registrations.invoicing.models import BulkJob
from registrations.models import Registration
from registrations.payments.models import Payment
from tests.conftest import PASSWORD, admin_action, make_registration

LOGIN = reverse("admin:login")
LOG = reverse("admin:accesslog_accesslogentry_changelist")


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def old_entry(months):
    """An entry written `months` ago (inserted as it was then: no UPDATE is possible)."""
    return AccessLogEntry.objects.create(
        kind=Kind.EXPORT,
        what="Deelnemerslijst (CSV)",
        at=timezone.now() - relativedelta(months=months),
    )


# Signing in


def test_a_sign_in_is_recorded_with_who_and_from_where(client, staff_member):
    response = client.post(
        LOGIN, {"username": "anna", "password": PASSWORD}, REMOTE_ADDR="192.0.2.7"
    )

    assert response.status_code == 302
    entry = AccessLogEntry.objects.get(kind=Kind.SIGN_IN)
    assert (entry.user, entry.username, entry.address) == (staff_member, "anna", "192.0.2.7")


def test_a_failed_sign_in_is_recorded_with_the_name_typed_not_the_password(client, staff_member):
    response = client.post(LOGIN, {"username": "anna", "password": "fout"}, REMOTE_ADDR="192.0.2.8")

    assert response.status_code == 200
    entry = AccessLogEntry.objects.get(kind=Kind.SIGN_IN_FAILED)
    assert (entry.user, entry.username, entry.address) == (None, "anna", "192.0.2.8")
    assert "fout" not in entry.what
    assert not AccessLogEntry.objects.filter(kind=Kind.SIGN_IN).exists()


# Bulk actions: every action of every list, with its name and the number of rows


def test_a_bulk_action_is_recorded_with_its_name_and_the_number_of_rows(
    client, staff_member, open_edition
):
    people = [make_registration(open_edition, email=f"p{n}@example.nl") for n in range(3)]
    client.force_login(staff_member)

    url = reverse("admin:registrations_registration_changelist")
    admin_action(client, url, "delete_selected", people[:2])

    entry = AccessLogEntry.objects.get(kind=Kind.BULK_ACTION)
    assert entry.user == staff_member
    assert entry.count == 2
    assert entry.reference == "registrations.registration:delete_selected"
    assert entry.what.startswith("Actie ‘")


def test_an_action_on_all_rows_of_the_list_counts_them_all(client, staff_member, open_edition):
    for n in range(4):
        make_registration(open_edition, email=f"p{n}@example.nl")
    client.force_login(staff_member)

    url = reverse("admin:registrations_registration_changelist")
    admin_action(client, url, "delete_selected", Registration.objects.all()[:1], select_across="1")

    assert AccessLogEntry.objects.get(kind=Kind.BULK_ACTION).count == 4


def test_actions_of_djangos_own_admins_are_recorded_too(client, db):
    boss = User.objects.create_superuser("baas", "baas@example.nl", PASSWORD)
    others = [User.objects.create_user(f"u{n}", is_staff=True) for n in range(2)]
    client.force_login(boss)

    admin_action(client, reverse("admin:auth_user_changelist"), "delete_selected", others)

    entry = AccessLogEntry.objects.get(kind=Kind.BULK_ACTION)
    assert (entry.count, entry.reference) == (2, "auth.user:delete_selected")


def test_every_list_of_the_back_office_records_its_actions():
    """Given by the admin site to every ModelAdmin registered, ours and other packages'."""
    unrecorded = [
        label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, RecordedActionsMixin)
        for label in [model._meta.label]
    ]
    assert unrecorded == []


# Nobody changes or deletes it from the application


def test_the_model_refuses_to_change_or_delete_an_entry(db):
    entry = record(Kind.EXPORT, "Deelnemerslijst (CSV)", count=3)

    entry.what = "iets anders"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()


def test_the_database_refuses_an_update_through_the_orm(db):
    entry = record(Kind.EXPORT, "Deelnemerslijst (CSV)", count=3)

    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).update(count=0)

    entry.refresh_from_db()
    assert entry.count == 3


def test_the_database_refuses_a_delete_through_the_orm(db):
    entry = record(Kind.EXPORT, "Deelnemerslijst (CSV)", count=3)

    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).delete()

    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accesslog_accesslogentry SET what = 'weg' WHERE id = %s",
        "UPDATE accesslog_accesslogentry SET at = '2000-01-01 00:00:00' WHERE id = %s",
        "DELETE FROM accesslog_accesslogentry WHERE id = %s",
    ],
    ids=["update", "backdate", "delete"],
)
def test_the_database_refuses_raw_sql_that_changes_or_deletes_an_entry(db, sql):
    entry = record(Kind.SIGN_IN, "Aangemeld", username="anna")

    with pytest.raises((IntegrityError, DatabaseError)):
        raw(sql, [entry.pk])

    entry.refresh_from_db()
    assert (entry.what, entry.at.year) == ("Aangemeld", timezone.now().year)


def test_postgresql_refuses_to_truncate_the_log(postgres):
    record(Kind.SIGN_IN, "Aangemeld", username="anna")

    with pytest.raises((IntegrityError, DatabaseError)):
        raw("TRUNCATE accesslog_accesslogentry")

    assert AccessLogEntry.objects.count() == 1


def test_postgresql_refuses_a_young_entry_even_just_inside_the_period(postgres):
    young = old_entry(months=23)

    with pytest.raises((IntegrityError, DatabaseError)):
        raw("DELETE FROM accesslog_accesslogentry WHERE id = %s", [young.pk])

    assert AccessLogEntry.objects.filter(pk=young.pk).exists()


def test_deleting_the_user_keeps_the_entry_and_their_name(db):
    gone = User.objects.create_user("gert", is_staff=True)
    entry = record(Kind.SIGN_IN, "Aangemeld", user=gone)

    gone.delete()

    entry.refresh_from_db()
    assert (entry.user, entry.username) == (None, "gert")


# Kept for the period, then removed by the retention job


def test_the_retention_job_removes_entries_older_than_the_period_only(db):
    expired = old_entry(months=25)
    kept = old_entry(months=23)
    today = record(Kind.SIGN_IN, "Aangemeld", username="anna")

    call_command("apply_retention", stdout=(out := io.StringIO()))

    assert not AccessLogEntry.objects.filter(pk=expired.pk).exists()
    assert set(AccessLogEntry.objects.values_list("pk", flat=True)) == {kept.pk, today.pk}
    assert "Toegangslog: 1 regel(s) ouder dan de bewaartermijn verwijderd." in out.getvalue()


def test_a_longer_period_keeps_older_entries(db, settings):
    settings.ACCESS_LOG_RETENTION_MONTHS = 36
    entry = old_entry(months=25)

    call_command("apply_retention", stdout=io.StringIO())

    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


def test_the_dry_run_of_the_retention_job_removes_nothing(db):
    entry = old_entry(months=30)

    call_command("apply_retention", "--dry-run", stdout=(out := io.StringIO()))

    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()
    assert "Dry run: 1 regel(s) van het toegangslog te verwijderen." in out.getvalue()


# Every export or download of personal data, with how many people it concerned


@pytest.fixture
def confirmed_three(open_edition):
    return [
        make_registration(open_edition, first_name=name, email=f"{name.lower()}@example.nl")
        for name in ("Fatima", "Joost", "Sanne")
    ]


def only_export():
    return AccessLogEntry.objects.get(kind=Kind.EXPORT)


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    assert "attachment" in response["Content-Disposition"]
    return response


@pytest.mark.parametrize(
    ("action", "what"),
    [
        ("export_participants", "Deelnemerslijst (CSV)"),
        ("export_venue_list", "Lijst voor de locatie: dieet en toegankelijkheid (CSV)"),
        ("name_badges", "Naambadges (PDF)"),
    ],
)
def test_a_participant_export_from_the_list_is_recorded_with_its_count(
    client, staff_member, open_edition, confirmed_three, action, what
):
    client.force_login(staff_member)

    url = reverse("admin:registrations_registration_changelist")
    response = admin_action(client, url, action, confirmed_three[:2])

    assert response.status_code == 200
    entry = only_export()
    assert (entry.what, entry.count, entry.edition) == (what, 2, open_edition)
    assert entry.user == staff_member
    # The action itself is in the log as well, with the rows it was run on.
    assert AccessLogEntry.objects.get(kind=Kind.BULK_ACTION).count == 2


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("programme_edition_attendance_pdf", "Presentielijst {} (PDF)"),
        ("programme_edition_attendance_csv", "Presentielijst {} (CSV)"),
    ],
)
def test_an_attendance_list_download_is_recorded_with_its_count(
    client, staff_member, open_edition, confirmed_three, name, what
):
    client.force_login(staff_member)
    day = open_edition.start_date

    download(client, reverse(f"admin:{name}", args=[open_edition.pk, day.isoformat()]))

    entry = only_export()
    assert entry.what == what.format(day.strftime("%d-%m-%Y"))
    assert (entry.count, entry.edition) == (3, open_edition)


def test_the_badges_of_an_edition_are_recorded_with_their_count(
    client, staff_member, open_edition, confirmed_three
):
    client.force_login(staff_member)

    download(client, reverse("admin:programme_edition_badges", args=[open_edition.pk]))

    assert (only_export().what, only_export().count) == ("Naambadges (PDF)", 3)


def test_a_certificate_download_is_recorded_for_its_person(client, staff_member, ended_edition):
    attended = make_registration(ended_edition)
    Attendance.objects.create(registration=attended, date=ended_edition.start_date, present=True)
    certificate = Certificate.objects.issue(attended)
    client.force_login(staff_member)

    download(client, reverse("admin:attendance_certificate_pdf", args=[certificate.pk]))

    entry = only_export()
    assert (entry.what, entry.count, entry.reference) == (
        "Bewijs van deelname (PDF)",
        1,
        attended.reference,
    )


@pytest.mark.parametrize(
    ("name", "what"),
    [("intake_intake_cases_pdf", "Casussen (PDF)"), ("intake_intake_cases_csv", "Casussen (CSV)")],
)
def test_a_cases_download_is_recorded_with_its_count(
    client, staff_member, open_edition, confirmed_three, name, what
):
    intake = Intake.objects.for_edition(open_edition)
    client.force_login(staff_member)

    download(client, reverse(f"admin:{name}", args=[intake.pk]))

    entry = only_export()
    assert (entry.what, entry.count, entry.edition) == (what, 3, open_edition)


def test_a_coachs_schedule_download_is_recorded(
    client, staff_member, open_edition, confirmed_three
):
    coach = Coach.objects.create(name="Marieke Smit")
    CoachSlot.objects.create(
        edition=open_edition,
        coach=coach,
        day=open_edition.start_date,
        start=datetime.time(14),
        end=datetime.time(14, 45),
        registration=confirmed_three[0],
    )
    client.force_login(staff_member)

    download(
        client,
        reverse("admin:coaching_coachslot_schedule_csv", args=[coach.pk, open_edition.pk]),
    )

    entry = only_export()
    assert (entry.what, entry.count, entry.reference) == (
        "Casussen (CSV)",
        1,
        f"rooster van coach {coach.pk}",
    )


@pytest.fixture
def invoices(invoicing, open_edition):
    return [
        issue_invoice(make_registration(open_edition, email=f"f{n}@example.nl")) for n in range(2)
    ]


def test_an_invoice_pdf_download_is_recorded_by_its_number(client, finance_user, invoices):
    client.force_login(finance_user)

    download(client, reverse("admin:invoicing_invoice_pdf", args=[invoices[0].number]))

    entry = only_export()
    assert (entry.what, entry.count, entry.reference) == ("Factuur (PDF)", 1, invoices[0].number)


@pytest.mark.parametrize(
    ("action", "what"),
    [
        ("download_zip", "Facturen (ZIP)"),
        ("export_bookkeeping", "Facturen voor de boekhouding (CSV)"),
    ],
)
def test_an_invoice_export_from_the_list_is_recorded_with_its_count(
    client, finance_user, invoices, action, what
):
    client.force_login(finance_user)

    url = reverse("admin:invoicing_invoice_changelist")
    response = admin_action(client, url, action, invoices)

    assert response.status_code == 200
    assert (only_export().what, only_export().count) == (what, 2)


def test_a_payments_export_is_recorded_with_its_count(client, finance_user, db):
    payments = [
        Payment.objects.create(
            amount=Decimal("12.50"), booking_date=datetime.date(2027, 1, 4), counterparty_name=n
        )
        for n in ("Piet", "Gemeente Zwolle")
    ]
    client.force_login(finance_user)

    url = reverse("admin:payments_payment_changelist")
    admin_action(client, url, "export_payments", payments)

    assert (only_export().what, only_export().count) == ("Betalingen voor de boekhouding (CSV)", 2)


def test_a_finished_zip_jobs_download_is_recorded_with_its_count(client, finance_user, invoices):
    job, _ = jobs.start(BulkJob.Kind.ZIP, [i.pk for i in invoices], by=finance_user)
    client.force_login(finance_user)

    download(client, reverse("admin:invoicing_bulkjob_download", args=[job.pk]))

    entry = only_export()
    assert (entry.what, entry.count) == ("Facturen (ZIP van een taak)", 2)


@pytest.mark.parametrize(
    "name", ["programme_edition_statistics_csv", "programme_edition_statistics_all_csv"]
)
def test_a_statistics_export_is_recorded_too(client, staff_member, open_edition, name):
    client.force_login(staff_member)
    args = [open_edition.pk] if name == "programme_edition_statistics_csv" else []

    download(client, reverse(f"admin:{name}", args=args))

    assert only_export().what.startswith("Statistieken")


def test_a_refused_download_records_nothing(client, finance_user, open_edition):
    intake = Intake.objects.for_edition(open_edition)
    client.force_login(finance_user)

    assert client.get(reverse("admin:intake_intake_cases_csv", args=[intake.pk])).status_code == 403

    assert not AccessLogEntry.objects.filter(kind=Kind.EXPORT).exists()


# Staff with the role read it; nobody changes it here


def test_staff_read_search_and_filter_the_log_but_cannot_change_it(client, staff_member):
    record(Kind.EXPORT, "Deelnemerslijst (CSV)", username="femke", count=12)
    record(Kind.SIGN_IN_FAILED, "Aanmelding mislukt", username="mallory")
    client.force_login(staff_member)

    found = client.get(LOG, {"q": "mallory"})
    filtered = client.get(LOG, {"kind__exact": "export"})
    by_user = client.get(LOG, {"username": "femke"})

    assert [e.username for e in found.context["cl"].result_list] == ["mallory"]
    assert [e.username for e in filtered.context["cl"].result_list] == ["femke"]
    assert [e.username for e in by_user.context["cl"].result_list] == ["femke"]
    assert 'name="action"' not in filtered.content.decode()  # no actions, not even delete
    entry = AccessLogEntry.objects.get(username="femke")
    change = reverse("admin:accesslog_accesslogentry_change", args=[entry.pk])
    assert client.post(change, {"what": "weg"}).status_code == 403
    delete = reverse("admin:accesslog_accesslogentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert AccessLogEntry.objects.get(pk=entry.pk).what == "Deelnemerslijst (CSV)"


def test_finance_and_outsiders_cannot_read_the_log(client, finance_user, outsider):
    for user in (finance_user, outsider):
        client.force_login(user)
        assert client.get(LOG).status_code == 403


def test_a_superuser_reads_the_log(client, db):
    client.force_login(User.objects.create_superuser("baas", "baas@example.nl", PASSWORD))

    assert client.get(LOG).status_code == 200
