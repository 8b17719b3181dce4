"""The access log: who exported or downloaded personal data, ran a bulk action or signed in
(failed too); nobody changes or deletes it from the application; the retention job removes
entries older than the period; staff with the role read it."""

import io

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from registrations.accesslog.log import Kind, record
from registrations.accesslog.models import AccessLogEntry
from registrations.models import Registration
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
