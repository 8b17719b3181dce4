"""Coach conversations: slots per edition, one per participant and one participant per slot,
booked, changed and cancelled on the personal page until the day before, freed by a
cancellation; staff assign, move and free; a coach sees only their own schedule."""

import datetime
import email
import email.policy
import time

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from registrations.coaching.models import (
    Coach,
    CoachSlot,
    SlotRefused,
    slot_text,
    with_coach_slot,
    without_coach_slot,
)
from registrations.intake.models import Intake
from registrations.models import Registration
from tests.conftest import _user, admin_action, make_edition, make_registration, pdf_text

START = datetime.date(2027, 3, 8)


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


BEFORE = at(START - datetime.timedelta(days=20))


@pytest.fixture
def edition(db):
    with time_machine.travel(at(START - datetime.timedelta(days=100)), tick=False):
        return make_edition(
            start_date=START,
            end_date=START + datetime.timedelta(days=2),
            registration_deadline=START - datetime.timedelta(days=14),
        )


@pytest.fixture
def coach(db):
    return Coach.objects.create(name="Marieke Smit", about="Twintig jaar wijkaanpak")


def make_slot(edition, coach, hour=14, room="Zaal 2", day=START):
    return CoachSlot.objects.create(
        edition=edition,
        coach=coach,
        day=day,
        start=datetime.time(hour, 0),
        end=datetime.time(hour, 45),
        room=room,
    )


def person(edition, **fields):
    with time_machine.travel(at(START - datetime.timedelta(days=60)), tick=False):
        return make_registration(edition, **fields)


def test_a_participant_books_a_slot_on_the_personal_page_and_gets_a_mail_with_an_ics(
    client, edition, coach, mailoutbox
):
    slot = make_slot(edition, coach)
    registration = person(edition)
    with time_machine.travel(BEFORE):
        page = client.get(registration.get_absolute_url()).content.decode()
        assert "Je coachgesprek" in page and "maandag 8 maart 2027, 14:00–14:45 uur" in page
        response = client.post(
            reverse("coaching:book", args=[registration.token]), {"slot": slot.pk}
        )
        assert response.status_code == 302
        page = client.get(registration.get_absolute_url()).content.decode()
    slot.refresh_from_db()
    assert slot.registration == registration
    assert "Je gesprek: <strong>maandag 8 maart 2027, 14:00–14:45 uur, Zaal 2</strong>" in page
    [mail] = mailoutbox
    assert mail.to == [registration.email]
    assert "Marieke Smit" in mail.body and "14:00–14:45" in mail.body
    [(name, content, kind)] = mail.attachments
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert (name, kind) == ("coachgesprek.ics", "text/calendar")
    assert event.decoded("dtstart") == at(START, 14)
    assert (
        slot_text(registration) == "maandag 8 maart 2027, 14:00–14:45 uur, Zaal 2, met Marieke Smit"
    )


def test_changing_the_slot_frees_the_old_one(client, edition, coach):
    first, second = make_slot(edition, coach, 14), make_slot(edition, coach, 15)
    registration = person(edition)
    with time_machine.travel(BEFORE):
        CoachSlot.objects.book(registration, first.pk)
        client.post(reverse("coaching:book", args=[registration.token]), {"slot": second.pk})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.registration, second.registration) == (None, registration)


def test_a_taken_slot_is_refused_and_the_free_ones_are_shown_with_a_clear_message(
    client, edition, coach
):
    taken = make_slot(edition, coach, 14)
    make_slot(edition, coach, 15, room="Zaal 9")
    first, second = person(edition), person(edition, email="twee@example.nl")
    with time_machine.travel(BEFORE):
        CoachSlot.objects.book(first, taken.pk)
        with pytest.raises(SlotRefused, match="bezet"):
            CoachSlot.objects.book(second, taken.pk)
        response = client.post(reverse("coaching:book", args=[second.token]), {"slot": taken.pk})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Dit tijdstip is niet (meer) vrij. Kies een ander." in html
    assert "Zaal 9" in html
    taken.refresh_from_db()
    assert taken.registration == first


def test_the_database_holds_one_slot_per_participant_and_one_participant_per_slot(edition, coach):
    one, two = make_slot(edition, coach, 14), make_slot(edition, coach, 15)
    registration = person(edition)
    CoachSlot.objects.filter(pk=one.pk).update(registration=registration)
    with pytest.raises(IntegrityError), transaction.atomic():
        CoachSlot.objects.filter(pk=two.pk).update(registration=registration)


def test_booking_changing_and_cancelling_end_the_day_before_the_start(client, edition, coach):
    slot, other = make_slot(edition, coach, 14), make_slot(edition, coach, 15)
    registration = person(edition)
    with time_machine.travel(at(START - datetime.timedelta(days=1), hour=23)):
        CoachSlot.objects.book(registration, slot.pk)
    with time_machine.travel(at(START, hour=8)):
        with pytest.raises(SlotRefused, match="tot de dag voor de werkplaats"):
            CoachSlot.objects.book(registration, other.pk)
        response = client.post(reverse("coaching:cancel", args=[registration.token]))
        assert response.status_code == 409
        page = client.get(registration.get_absolute_url()).content.decode()
    assert "Coachgesprek boeken" not in page and "Je gesprek:" in page
    slot.refresh_from_db()
    assert slot.registration == registration


def test_the_participant_cancels_the_conversation_and_the_slot_is_free(client, edition, coach):
    slot = make_slot(edition, coach)
    registration = person(edition)
    with time_machine.travel(BEFORE):
        CoachSlot.objects.book(registration, slot.pk)
        assert client.post(reverse("coaching:cancel", args=[registration.token])).status_code == 302
    slot.refresh_from_db()
    assert slot.registration is None


@pytest.mark.parametrize("how", ["participant's page", "staff action", "model"])
def test_a_cancelled_registration_frees_its_slot(client, staff_member, edition, coach, how):
    slot = make_slot(edition, coach)
    registration = person(edition)
    with time_machine.travel(BEFORE):
        CoachSlot.objects.book(registration, slot.pk)
        if how == "participant's page":
            client.post(reverse("registrations:cancel", args=[registration.token]))
        elif how == "staff action":
            client.force_login(staff_member)
            admin_action(
                client,
                reverse("admin:registrations_registration_changelist"),
                "cancel_registrations",
                [registration],
                apply="1",
            )
        else:
            registration.cancel()
    slot.refresh_from_db()
    assert slot.registration is None
    assert Registration.objects.get(pk=registration.pk).is_cancelled


def test_someone_waiting_cannot_book(edition, coach):
    slot = make_slot(edition, coach)
    waiting = person(edition, status=Registration.Status.WAITING)
    with time_machine.travel(BEFORE), pytest.raises(SlotRefused, match="bevestigd"):
        CoachSlot.objects.book(waiting, slot.pk)


def test_booking_needs_a_post(client, edition):
    registration = person(edition)
    assert client.get(reverse("coaching:book", args=[registration.token])).status_code == 405


def test_who_has_a_slot_and_who_has_not(edition, coach):
    slot = make_slot(edition, coach)
    booked, without = person(edition), person(edition, email="zonder@example.nl")
    with time_machine.travel(BEFORE):
        CoachSlot.objects.book(booked, slot.pk)
    confirmed = Registration.objects.confirmed()
    assert list(with_coach_slot(confirmed)) == [booked]
    assert list(without_coach_slot(confirmed)) == [without]
    assert slot_text(without) == "nog geen coachgesprek geboekt"


@pytest.fixture
def staff_client(client, staff_member):
    client.force_login(staff_member)
    return client


def test_staff_assign_move_and_free_slots_in_the_admin(staff_client, edition, coach):
    first, second = make_slot(edition, coach, 14), make_slot(edition, coach, 15)
    registration = person(edition)
    change = reverse("admin:coaching_coachslot_change", args=[first.pk])
    data = {
        "edition": edition.pk,
        "coach": coach.pk,
        "day": START.isoformat(),
        "start": "14:00",
        "end": "14:45",
        "room": "Zaal 2",
        "registration": registration.pk,
    }
    assert staff_client.post(change, data).status_code == 302
    first.refresh_from_db()
    assert first.registration == registration
    move = reverse("admin:coaching_coachslot_change", args=[second.pk])
    assert staff_client.post(move, {**data, "start": "15:00", "end": "15:45"}).status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.registration, second.registration) == (None, registration)
    admin_action(
        staff_client, reverse("admin:coaching_coachslot_changelist"), "free_slots", [second]
    )
    second.refresh_from_db()
    assert second.registration is None


def test_staff_see_the_confirmed_participants_without_a_slot(staff_client, edition, coach):
    slot = make_slot(edition, coach)
    booked = person(edition, first_name="Fatima", last_name="Geboekt")
    person(edition, first_name="Joost", last_name="Zonder", email="z@example.nl")
    person(edition, last_name="Wachtend", email="w@example.nl", status="waiting")
    with time_machine.travel(BEFORE):
        CoachSlot.objects.book(booked, slot.pk)
    page = staff_client.get(reverse("admin:coaching_coachslot_without_slot", args=[edition.pk]))
    html = page.content.decode()
    assert "Joost Zonder" in html
    assert "Geboekt" not in html and "Wachtend" not in html


@pytest.fixture
def coach_user(db, coach):
    user = _user("marieke", "Coaches")
    coach.user = user
    coach.save()
    return user


def test_a_coach_sees_their_own_schedule_with_each_persons_case(client, edition, coach, coach_user):
    other = Coach.objects.create(name="Ander")
    mine, theirs = make_slot(edition, coach, 14), make_slot(edition, other, 14)
    fatima = person(edition, first_name="Fatima", own_case="Kanaleneiland")
    joost = person(edition, first_name="Joost", email="j@example.nl", own_case="Overvecht")
    with time_machine.travel(BEFORE):
        CoachSlot.objects.book(fatima, mine.pk)
        CoachSlot.objects.book(joost, theirs.pk)
    client.force_login(coach_user)
    assert client.get(reverse("admin:coaching_coachslot_changelist")).status_code == 302
    html = client.get(reverse("admin:coaching_coachslot_own_schedule")).content.decode()
    assert "Kanaleneiland" in html and "14:00–14:45" in html
    assert "Overvecht" not in html
    pdf = client.get(reverse("admin:coaching_coachslot_own_schedule_pdf"))
    text = pdf_text(b"".join(pdf.streaming_content))
    assert "Kanaleneiland" in text and "Overvecht" not in text


def test_the_coaches_group_holds_only_the_own_schedule(db):
    held = {p.codename for p in Group.objects.get(name="Coaches").permissions.all()}
    assert held == {"view_own_schedule"}


def test_a_coach_gets_nothing_else_of_the_admin(client, edition, coach, coach_user):
    client.force_login(coach_user)
    intake_pk = Intake.objects.for_edition(edition).pk
    for url in [
        reverse("admin:registrations_registration_changelist"),
        reverse("admin:programme_edition_changelist"),
        reverse("admin:coaching_coach_changelist"),
        reverse("admin:coaching_coachslot_add"),
        reverse("admin:coaching_coachslot_without_slot", args=[edition.pk]),
        reverse("admin:coaching_coachslot_schedule", args=[coach.pk, edition.pk]),
        reverse("admin:intake_intake_cases", args=[intake_pk]),
    ]:
        assert client.get(url).status_code == 403, url


def test_someone_in_no_group_has_no_own_schedule_even_when_linked(client, coach, outsider):
    coach.user = outsider
    coach.save()
    client.force_login(outsider)
    assert client.get(reverse("admin:coaching_coachslot_own_schedule")).status_code == 403


def test_staff_read_a_coachs_schedule_with_the_cases_as_a_csv(staff_client, edition, coach):
    slot = make_slot(edition, coach)
    fatima = person(edition, first_name="Fatima", own_case="Kanaleneiland")
    with time_machine.travel(BEFORE):
        CoachSlot.objects.book(fatima, slot.pk)
    csv = staff_client.get(
        reverse("admin:coaching_coachslot_schedule_csv", args=[coach.pk, edition.pk])
    )
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("maandag 8 maart 2027, 14:00–14:45 uur, Zaal 2;Fatima El Amrani;")
    assert "Kanaleneiland" in lines[1]


def test_the_booking_mail_with_its_ics_survives_a_real_smtp_round_trip(
    client, edition, coach, smtp_server, settings
):
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    slot = make_slot(edition, coach)
    registration = person(edition)
    with time_machine.travel(BEFORE):
        client.post(reverse("coaching:book", args=[registration.token]), {"slot": slot.pk})

    deadline = time.monotonic() + 5
    while not inbox.envelopes and time.monotonic() < deadline:
        time.sleep(0.01)
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == [registration.email]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Marieke Smit" in text and "14:00–14:45" in text
    [ics] = [part for part in mail.iter_attachments() if part.get_filename() == "coachgesprek.ics"]
    event = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")[0]
    assert event.decoded("dtstart") == at(START, 14)
    assert "Zaal 2" in str(event.get("location"))
