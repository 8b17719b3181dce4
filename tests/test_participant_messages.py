"""Messages to participants: staff write to a group of an edition, see who gets it and one
rendered mail, send a test to themselves, then send: each person their own mail with their
personal link, queued, at most once; never to someone cancelled. The practical information
goes by itself a set number of days before the start, once, also to whoever is confirmed
later. Every message and who got it is kept, per edition and on the registration."""

import datetime
import email
import email.policy
import io
import threading
import time

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from registrations.attendance.models import Attendance
from registrations.coaching.models import Coach, CoachSlot
from registrations.intake.models import questions_for, save_answers
from registrations.messages import tasks
from registrations.messages.groups import GROUPS
from registrations.messages.models import Message, MessageRefused, Recipient
from registrations.messages.placeholders import PLACEHOLDERS, fill
from registrations.models import Registration
from tests.conftest import _user, make_edition, make_registration
from werkplaats.queue import atomic_with

SITE = "https://werkplaats.example.org"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def edition(db):
    return make_edition(what_to_bring="Je eigen casus op papier")


@pytest.fixture
def people(edition):
    """Two confirmed, one waiting and one cancelled participant."""
    return {
        "fatima": make_registration(edition, first_name="Fatima", email="fatima@example.nl"),
        "pieter": make_registration(
            edition, first_name="Pieter", last_name="de Vries", email="pieter@example.nl"
        ),
        "wachtend": make_registration(
            edition, first_name="Wim", email="wim@example.nl", status=Registration.Status.WAITING
        ),
        "weg": make_registration(
            edition, first_name="Gerda", email="gerda@example.nl", status="cancelled"
        ),
    }


def write(edition, group="confirmed", day=None, **fields):
    values = {
        "subject": "Wijziging in het programma",
        "body": "Beste {voornaam},\n\nDe middag begint om 13.30 uur.\n\nJe pagina: {persoonlijke_link}",
    }
    values.update(fields)
    return Message.objects.create(edition=edition, group=group, day=day, **values)


def send_url(message):
    return reverse("admin:participant_messages_message_send", args=[message.pk])


# Groups


def test_each_group_selects_its_participants_and_never_a_cancelled_one(edition, people):
    first_day = edition.start_date
    Attendance.objects.create(registration=people["fatima"], date=first_day, present=True)
    Attendance.objects.create(registration=people["pieter"], date=first_day, present=False)
    Attendance.objects.create(registration=people["weg"], date=first_day, present=True)

    def names(group, day=None):
        return {r.first_name for r in write(edition, group, day).audience()}

    assert names("all") == {"Fatima", "Pieter", "Wim"}
    assert names("confirmed") == {"Fatima", "Pieter"}
    assert names("waiting") == {"Wim"}
    assert names("present", first_day) == {"Fatima"}
    assert names("absent", first_day) == {"Pieter"}


def test_groups_and_placeholders_include_the_coach_slot_and_the_case():
    assert set(GROUPS) == {
        "all",
        "confirmed",
        "waiting",
        "with_slot",
        "without_slot",
        "without_case",
        "present",
        "absent",
    }
    assert set(PLACEHOLDERS) == {
        "voornaam",
        "naam",
        "persoonlijke_link",
        "locatie",
        "route",
        "meenemen",
        "coachgesprek",
        "casus",
        "data",
    }


def test_the_coach_slot_and_case_groups_select_by_what_each_person_did(edition, people):
    coach = Coach.objects.create(name="Marieke Smit")
    CoachSlot.objects.create(
        edition=edition,
        coach=coach,
        day=edition.start_date,
        start=datetime.time(14, 0),
        end=datetime.time(14, 45),
        room="Zaal 2",
        registration=people["fatima"],
    )
    questions = questions_for(edition)
    with time_machine.travel(edition.start_date - datetime.timedelta(days=30)):
        save_answers(people["pieter"], [(questions[0], "Een buurt waar niemand elkaar kent.")])

    def names(group):
        return {r.first_name for r in write(edition, group).audience()}

    # The waiting and the cancelled are in none of them.
    assert names("with_slot") == {"Fatima"}
    assert names("without_slot") == {"Pieter"}
    assert names("without_case") == {"Fatima"}

    filled = fill("{coachgesprek} | {casus}", people["fatima"])
    assert "14:00" in filled and "Zaal 2" in filled and "met Marieke Smit" in filled
    assert filled.endswith("| nog niet ingevuld")
    assert fill("{coachgesprek} | {casus}", people["pieter"]) == (
        "nog geen coachgesprek geboekt | ingevuld"
    )


def test_a_group_about_one_day_needs_a_day_of_the_edition(edition):
    message = Message(edition=edition, subject="x", body="y", group="present")
    with pytest.raises(Exception, match="Kies de dag"):
        message.full_clean()
    message.day = edition.end_date + datetime.timedelta(days=1)
    with pytest.raises(Exception, match="buiten de editie"):
        message.full_clean()


# Placeholders


def test_placeholders_are_filled_in_per_person(edition, people):
    text = "{voornaam} {naam}: {persoonlijke_link} | {locatie} | {route} | {meenemen} | {data}"
    filled = fill(text, people["pieter"])
    assert filled.startswith(
        f"Pieter Pieter de Vries: {SITE}/inschrijving/{people['pieter'].token}/"
    )
    assert "Kaap Doorn Conferentiecentrum" in filled
    assert "https://www.openstreetmap.org/directions?to=" in filled
    assert "Je eigen casus op papier" in filled
    assert "09:30–17:00 uur" in filled
    assert "{" not in filled


def test_a_message_with_an_unknown_placeholder_is_refused(client, staff_member, edition):
    client.force_login(staff_member)
    response = client.post(
        reverse("admin:participant_messages_message_add"),
        {
            "edition": edition.pk,
            "kind": "message",
            "subject": "Hallo {voornaam}",
            "body": "Beste {vooornaam}, tot {datum}.",
            "group": "confirmed",
        },
    )
    assert response.status_code == 200
    assert "Onbekend invulveld {vooornaam}, {datum}" in response.content.decode()
    assert not Message.objects.exists()


def test_saving_a_new_message_leads_to_its_preview(client, staff_member, edition):
    client.force_login(staff_member)
    response = client.post(
        reverse("admin:participant_messages_message_add"),
        {
            "edition": edition.pk,
            "kind": "message",
            "subject": "Hallo {voornaam}",
            "body": "Beste {voornaam}.",
            "group": "confirmed",
        },
    )
    message = Message.objects.get()
    assert response.status_code == 302
    assert response["Location"] == send_url(message)
    assert message.created_by == staff_member
    assert message.sent_at is None


# Preview, test, send


def test_staff_see_how_many_get_it_and_one_rendered_mail_before_sending(
    client, staff_member, edition, people, mailoutbox
):
    message = write(edition)
    client.force_login(staff_member)
    response = client.get(send_url(message))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Wie het krijgt: 2 deelnemers" in page
    assert "Beste Fatima," in page
    assert f"{SITE}/inschrijving/{people['fatima'].token}/" in page
    assert "Gerda" not in page  # cancelled
    assert "Versturen aan 2 deelnemers" in page
    assert mailoutbox == []
    assert not Recipient.objects.exists()


def test_staff_send_a_test_to_themselves_only(client, staff_member, edition, people, mailoutbox):
    message = write(edition)
    client.force_login(staff_member)
    response = client.post(send_url(message), {"action": "test"})
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [[staff_member.email]]
    assert mailoutbox[0].subject == "[Test] Wijziging in het programma"
    assert "Beste Fatima," in mailoutbox[0].body
    message.refresh_from_db()
    assert message.sent_at is None
    assert not Recipient.objects.exists()


def test_sending_mails_each_person_their_own_mail_with_their_own_link(
    client, staff_member, edition, people, mailoutbox
):
    message = write(edition)
    client.force_login(staff_member)
    response = client.post(send_url(message), {"action": "send"})
    assert response.status_code == 302
    by_address = {m.to[0]: m for m in mailoutbox}
    assert set(by_address) == {"fatima@example.nl", "pieter@example.nl"}
    for name in ("fatima", "pieter"):
        mail = by_address[f"{name}@example.nl"]
        registration = people[name]
        assert f"Beste {registration.first_name}," in mail.body
        assert f"{SITE}/inschrijving/{registration.token}/" in mail.body
        html = mail.alternatives[0][0]
        assert f'href="{SITE}/inschrijving/{registration.token}/"' in html
    message.refresh_from_db()
    assert message.sent_at is not None
    assert sorted(Recipient.objects.values_list("registration__first_name", "status")) == [
        ("Fatima", "sent"),
        ("Pieter", "sent"),
    ]


def test_a_message_is_sent_once_however_often_send_is_posted(
    client, staff_member, edition, people, mailoutbox
):
    message = write(edition)
    client.force_login(staff_member)
    client.post(send_url(message), {"action": "send"})
    response = client.post(send_url(message), {"action": "send"}, follow=True)
    assert "al verstuurd op" in response.content.decode()
    assert len(mailoutbox) == 2
    assert Recipient.objects.count() == 2
    with pytest.raises(MessageRefused):
        message.send()


def test_the_database_allows_one_mail_per_message_and_person(edition, people):
    message = write(edition)
    Recipient.objects.create(
        message=message, registration=people["fatima"], queued_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Recipient.objects.create(
            message=message, registration=people["fatima"], queued_at=timezone.now()
        )


def test_resending_is_deliberate_a_new_message_to_check_and_send(
    client, staff_member, edition, people, mailoutbox
):
    message = write(edition)
    client.force_login(staff_member)
    client.post(send_url(message), {"action": "send"})
    people["pieter"].cancel()
    newcomer = make_registration(
        edition, first_name="Nadia", email="nadia@example.nl", status="confirmed"
    )
    response = client.post(send_url(message), {"action": "resend"})
    copy = Message.objects.exclude(pk=message.pk).get()
    assert response["Location"] == send_url(copy)
    assert (copy.resent_from, copy.sent_at, copy.body) == (message, None, message.body)
    assert len(mailoutbox) == 2  # nothing sent yet by asking to resend

    client.post(send_url(copy), {"action": "send"})
    assert sorted(m.to[0] for m in mailoutbox[2:]) == ["fatima@example.nl", newcomer.email]


def test_someone_cancelled_after_the_mail_was_queued_gets_nothing(edition, people, mailoutbox):
    message = write(edition)
    recipients = message.send()
    pieter = next(r for r in recipients if r.registration_id == people["pieter"].pk)
    people["pieter"].cancel()

    tasks.send_participant_message.call(pieter.pk)

    pieter.refresh_from_db()
    assert pieter.status == Recipient.Status.SKIPPED
    assert mailoutbox == []


def test_a_recipient_queued_twice_is_mailed_once(edition, people, mailoutbox):
    message = write(edition, group="waiting")
    (recipient,) = message.send()
    tasks.send_participant_message.call(recipient.pk)
    tasks.send_participant_message.call(recipient.pk)
    assert [m.to for m in mailoutbox] == [["wim@example.nl"]]


def test_a_sent_message_is_kept_as_it_went_out(client, staff_member, edition, people):
    message = write(edition)
    message.send()
    client.force_login(staff_member)
    change = client.post(
        reverse("admin:participant_messages_message_change", args=[message.pk]),
        {"edition": edition.pk, "kind": "message", "subject": "Anders", "body": "x"},
    )
    delete = client.post(
        reverse("admin:participant_messages_message_delete", args=[message.pk]), {"post": "yes"}
    )
    assert (change.status_code, delete.status_code) == (403, 403)
    message.refresh_from_db()
    assert message.subject == "Wijziging in het programma"


def test_finance_may_not_send_a_message(client, finance_user, edition, people, mailoutbox):
    message = write(edition)
    client.force_login(finance_user)
    assert client.post(send_url(message), {"action": "send"}).status_code == 403
    assert client.post(send_url(message), {"action": "test"}).status_code == 403
    assert mailoutbox == []
    assert not Recipient.objects.exists()


def test_every_message_is_shown_per_edition_and_on_the_registration(
    client, staff_member, edition, people
):
    message = write(edition, subject="Route gewijzigd")
    message.send()
    client.force_login(staff_member)
    edition_page = client.get(reverse("admin:programme_edition_change", args=[edition.pk]))
    assert "Route gewijzigd" in edition_page.content.decode()
    assert "aan 2" in edition_page.content.decode()
    registration_page = client.get(
        reverse("admin:registrations_registration_change", args=[people["fatima"].pk])
    )
    assert "berichten aan deze deelnemer" in registration_page.content.decode().lower()
    assert "Route gewijzigd" in registration_page.content.decode()
    other = client.get(
        reverse("admin:registrations_registration_change", args=[people["wachtend"].pk])
    )
    assert "Route gewijzigd" not in other.content.decode()
    message_page = client.get(
        reverse("admin:participant_messages_message_change", args=[message.pk])
    )
    assert people["pieter"].reference in message_page.content.decode()


# Queued: the database queue and one worker


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_message_is_queued_and_sent_by_the_worker(client, settings, mailoutbox):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    edition = make_edition()
    staff = _user("anna", "Medewerkers")
    for n in range(3):
        make_registration(edition, first_name=f"P{n}", email=f"p{n}@example.nl")
    message = write(edition)
    client.force_login(staff)
    client.post(send_url(message), {"action": "send"})
    assert mailoutbox == []
    assert DBTaskResult.objects.filter(status="READY").count() == 3

    call_command("db_worker", batch=True, startup_delay=False, reload=False, stdout=io.StringIO())

    assert sorted(m.to[0] for m in mailoutbox) == [
        "p0@example.nl",
        "p1@example.nl",
        "p2@example.nl",
    ]
    assert set(Recipient.objects.values_list("status", flat=True)) == {"sent"}


# The practical information


def practical(edition, **fields):
    values = {
        "kind": Message.Kind.PRACTICAL,
        "subject": "Praktische informatie",
        "body": "Beste {voornaam}, we zien je in {locatie}. Route: {route}. Neem mee: {meenemen}.",
    }
    values.update(fields)
    return write(edition, **values)


def run_job(**options):
    out = io.StringIO()
    call_command("send_scheduled_messages", stdout=out, **options)
    return out.getvalue()


def at(day, hour=8):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def test_practical_information_waits_for_its_day(edition, people, mailoutbox):
    practical(edition)
    day = edition.start_date - datetime.timedelta(days=edition.practical_information_days + 1)
    with time_machine.travel(at(day), tick=False):
        run_job()
    assert mailoutbox == []
    assert not Recipient.objects.exists()


def test_practical_information_goes_to_each_confirmed_participant_once(edition, people, mailoutbox):
    message = practical(edition)
    day = edition.start_date - datetime.timedelta(days=7)
    with time_machine.travel(at(day), tick=False):
        out = run_job()
        run_job()
    assert sorted(m.to[0] for m in mailoutbox) == ["fatima@example.nl", "pieter@example.nl"]
    assert "aan 2 deelnemers" in out
    assert "Neem mee: Je eigen casus op papier." in mailoutbox[0].body
    message.refresh_from_db()
    assert message.sent_at is not None


def test_someone_confirmed_later_gets_the_practical_information_too(edition, people, mailoutbox):
    practical(edition)
    day = edition.start_date - datetime.timedelta(days=3)
    with time_machine.travel(at(day), tick=False):
        run_job()
        people["wachtend"].confirm_from_waiting_list()
        run_job()
        run_job()
    assert sorted(m.to[0] for m in mailoutbox) == [
        "fatima@example.nl",
        "pieter@example.nl",
        "wim@example.nl",
    ]


def test_the_days_before_the_start_are_an_edition_setting(edition, people, mailoutbox):
    edition.practical_information_days = 14
    edition.save()
    practical(edition)
    with time_machine.travel(at(edition.start_date - datetime.timedelta(days=14)), tick=False):
        run_job(dry_run=True)
        assert mailoutbox == []
        run_job()
    assert len(mailoutbox) == 2


def test_an_edition_has_one_practical_information_mail(edition):
    practical(edition)
    with pytest.raises(Exception, match="al een mail met praktische informatie"):
        Message(edition=edition, kind="practical", subject="x", body="y").full_clean()


def test_practical_information_is_not_sent_by_hand(client, staff_member, edition, people):
    message = practical(edition)
    client.force_login(staff_member)
    page = client.get(send_url(message)).content.decode()
    assert "Versturen aan" not in page
    assert "gaat vanzelf" in page
    with pytest.raises(MessageRefused):
        message.send()


# Read back from a real SMTP server


def smtp(settings, controller):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = controller.hostname
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


def received(inbox, count):
    deadline = time.monotonic() + 5
    while len(inbox.envelopes) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return [
        email.message_from_bytes(envelope.content, policy=email.policy.default)
        for envelope in inbox.envelopes
    ]


def test_a_group_message_survives_a_real_smtp_round_trip(smtp_server, settings, edition, people):
    controller, inbox = smtp_server
    smtp(settings, controller)
    message = write(edition, group="waiting", subject="Je staat nog op de wachtlijst, {voornaam}")
    (recipient,) = message.send()
    tasks.send_participant_message.call(recipient.pk)

    (mail,) = received(inbox, 1)
    assert inbox.envelopes[0].rcpt_tos == ["wim@example.nl"]
    assert mail["Subject"].strip() == "Je staat nog op de wachtlijst, Wim"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Beste Wim," in text
    assert f"{SITE}/inschrijving/{people['wachtend'].token}/" in text
    assert f'href="{SITE}/inschrijving/{people["wachtend"].token}/"' in html
    recipient.refresh_from_db()
    assert recipient.status == Recipient.Status.SENT


def test_the_practical_information_survives_a_real_smtp_round_trip(
    smtp_server, settings, edition, people
):
    controller, inbox = smtp_server
    smtp(settings, controller)
    practical(edition)
    with time_machine.travel(at(edition.start_date - datetime.timedelta(days=1)), tick=False):
        run_job()
    mails = received(inbox, 2)
    assert sorted(e.rcpt_tos[0] for e in inbox.envelopes) == [
        "fatima@example.nl",
        "pieter@example.nl",
    ]
    text = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "we zien je in Kaap Doorn Conferentiecentrum" in text
    assert "https://www.openstreetmap.org/directions?to=" in text


# At the same moment, on PostgreSQL


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_staff_sending_the_same_message_at_once_send_it_once(postgres, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    edition = make_edition()
    for n in range(5):
        make_registration(edition, first_name=f"P{n}", email=f"p{n}@example.nl")
    message = write(edition)
    start = threading.Barrier(6)
    outcomes = []

    def press_send():
        try:
            start.wait()
            with atomic_with(tasks.send_participant_message) as queue:
                for recipient in Message.objects.get(pk=message.pk).send():
                    queue(recipient.pk)
            outcomes.append("sent")
        except MessageRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=press_send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused"] * 5 + ["sent"]
    assert Recipient.objects.count() == 5
    assert DBTaskResult.objects.count() == 5


def test_the_practical_information_names_each_persons_coach_slot_and_case(
    smtp_server, settings, edition, people
):
    controller, inbox = smtp_server
    smtp(settings, controller)
    coach = Coach.objects.create(name="Marieke Smit")
    CoachSlot.objects.create(
        edition=edition,
        coach=coach,
        day=edition.start_date,
        start=datetime.time(14, 0),
        end=datetime.time(14, 45),
        room="Zaal 2",
        registration=people["fatima"],
    )
    practical(edition, body="Beste {voornaam}. Je coachgesprek: {coachgesprek}. Je casus: {casus}.")
    with time_machine.travel(at(edition.start_date - datetime.timedelta(days=1)), tick=False):
        run_job()
    mails = {
        envelope.rcpt_tos[0]: mail.get_body(preferencelist=("plain",)).get_content()
        for envelope, mail in zip(inbox.envelopes, received(inbox, 2), strict=True)
    }
    assert "Je coachgesprek: " in mails["fatima@example.nl"]
    assert "14:00–14:45 uur, Zaal 2, met Marieke Smit" in mails["fatima@example.nl"]
    assert "Je casus: nog niet ingevuld." in mails["fatima@example.nl"]
    assert "Je coachgesprek: nog geen coachgesprek geboekt." in mails["pieter@example.nl"]
