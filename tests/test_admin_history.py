"""A person's record shows who changed it and when: the admin's "Geschiedenis" page of a
registration (and of the other records with personal data) shows what every path did,
the participant's own pages, admin actions and jobs, not only the admin's change forms."""

import datetime
import io

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from registrations.accesslog.changes import PARTICIPANT, SYSTEM, log_change
from registrations.coaching.models import Coach, CoachSlot
from registrations.intake.models import Intake
from tests.conftest import admin_action, make_edition, make_registration

START = datetime.date(2027, 3, 8)


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def edition(db):
    with time_machine.travel(at(START - datetime.timedelta(days=100)), tick=False):
        edition = make_edition(
            start_date=START,
            end_date=START + datetime.timedelta(days=2),
            registration_deadline=START - datetime.timedelta(days=14),
            retention_months=12,
        )
        make_registration(edition, first_name="Fatima", dietary_needs="glutenvrij")
    return edition


@pytest.fixture
def registration(edition):
    return edition.registrations.get()


def history(client, obj):
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk])
    response = client.get(url)
    assert response.status_code == 200
    return [
        (action.user.get_username(), action.get_change_message())
        for action in response.context["action_list"]
    ]


def test_a_change_on_the_participants_own_page_shows_in_the_registrations_history(
    client, staff_member, registration
):
    with time_machine.travel(at(START - datetime.timedelta(days=30))):
        response = client.post(
            reverse("registrations:change_choices", args=[registration.token]),
            {
                "keuzes-overnight_stay": "",
                "keuzes-dietary_needs": "halal",
                "keuzes-accessibility_needs": "",
            },
        )
    assert response.status_code == 302
    client.force_login(staff_member)

    shown = history(client, registration)

    assert any(message.startswith("keuzes gewijzigd") for _, message in shown)


def test_a_case_saved_on_the_participants_own_page_is_in_the_history_as_the_participant(
    client, staff_member, registration, edition
):
    first, second = Intake.objects.for_edition(edition).questions.all()
    with time_machine.travel(at(START - datetime.timedelta(days=20))):
        client.post(
            reverse("intake:answer", args=[registration.token]),
            {f"vraag_{first.pk}": "Onze wijk", f"vraag_{second.pk}": ""},
        )
    client.force_login(staff_member)

    assert (PARTICIPANT, "Casus opgeslagen") in history(client, registration)


def test_a_coach_conversation_booked_by_the_participant_is_in_the_slots_history(
    client, staff_member, registration, edition
):
    slot = CoachSlot.objects.create(
        edition=edition,
        coach=Coach.objects.create(name="Marieke Smit"),
        day=START,
        start=datetime.time(14),
        end=datetime.time(14, 45),
    )
    with time_machine.travel(at(START - datetime.timedelta(days=20))):
        response = client.post(
            reverse("coaching:book", args=[registration.token]), {"slot": slot.pk}
        )
    assert response.status_code == 302
    client.force_login(staff_member)

    assert (PARTICIPANT, "Coachgesprek geboekt") in history(client, slot)
    assert (PARTICIPANT, "Coachgesprek geboekt") in history(client, registration)


def test_an_admin_bulk_action_is_in_the_history_of_each_row_by_the_staff_member(
    client, staff_member, edition
):
    others = [make_registration(edition, email=f"p{n}@example.nl") for n in range(2)]
    client.force_login(staff_member)

    url = reverse("admin:registrations_registration_changelist")
    admin_action(client, url, "export_participants", others)

    for person in others:
        assert ("anna", "Actie ‘Exporteer deelnemerslijst (CSV)’") in history(client, person)


def test_a_command_is_in_the_history_as_the_system(client, staff_member, registration):
    with time_machine.travel(at(START + datetime.timedelta(days=3)), tick=False):
        call_command("apply_retention", stdout=io.StringIO())
    client.force_login(staff_member)

    shown = history(client, registration)

    assert (SYSTEM, "Dieet- en toegankelijkheidswensen gewist (bewaartermijn)") in shown


def test_anonymisation_is_in_the_history_of_the_registration_and_the_order(
    client, staff_member, registration
):
    with time_machine.travel(at(START + datetime.timedelta(days=400)), tick=False):
        call_command("apply_retention", stdout=io.StringIO())
    client.force_login(staff_member)

    assert (SYSTEM, "Geanonimiseerd (bewaartermijn)") in history(client, registration)
    assert (SYSTEM, "Geanonimiseerd (bewaartermijn)") in history(client, registration.order)


def test_the_history_names_the_record_by_reference_not_by_name(registration):
    [entry] = log_change(registration, "Keuzes gewijzigd", actor_name=PARTICIPANT)

    assert entry.object_repr == registration.reference
    assert LogEntry.objects.get().get_edited_object() == registration


def test_the_participant_and_the_system_cannot_sign_in(registration):
    log_change(registration, "Casus opgeslagen", actor_name=PARTICIPANT)
    log_change(registration, "Geanonimiseerd (bewaartermijn)")

    for name in (PARTICIPANT, SYSTEM):
        assert authenticate(username=name, password="") is None
        assert authenticate(username=name, password=name) is None


def test_attendance_saved_on_the_checkin_page_is_in_each_changed_persons_history(
    client, staff_member, ended_edition
):
    there = make_registration(ended_edition, email="er@example.nl")
    away = make_registration(ended_edition, email="weg@example.nl")
    url = reverse("admin:programme_edition_checkin", args=[ended_edition.pk])
    client.force_login(staff_member)

    client.post(url, {"present": [f"{there.pk}:{ended_edition.start_date}"]})
    client.post(url, {"present": [f"{there.pk}:{ended_edition.start_date}"]})

    assert history(client, there).count(("anna", "Aanwezigheid vastgelegd")) == 1
    assert history(client, away).count(("anna", "Aanwezigheid vastgelegd")) == 1


def test_linking_an_order_to_an_organisation_is_in_the_organisations_history(
    client, finance_user, open_edition
):
    order = make_registration(open_edition).order
    client.force_login(finance_user)

    url = reverse("admin:registrations_order_changelist")
    admin_action(client, url, "link_debtors", [order])

    order.refresh_from_db()
    who = finance_user.username
    assert (who, f"Gekoppeld aan {order.reference}") in history(client, order.debtor)
    assert (who, "Actie ‘Organisatie koppelen (voorstel) of aanmaken’") in history(client, order)
