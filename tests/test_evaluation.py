"""The evaluation after the three days: sent only to those recorded present, answered once and
anonymously (nothing joins an answer to its person), one reminder, the link in the certificate
mail, and the results for staff beside the previous edition's, surviving the retention."""

import csv
import datetime
import email
import email.policy
import io
import time
import uuid

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, models
from django.urls import reverse
from django.utils import timezone

from registrations.attendance.models import Attendance, edition_days
from registrations.evaluation import results
from registrations.evaluation.models import (
    Answer,
    Invitation,
    Question,
    Questionnaire,
    Response,
)
from registrations.models import Registration
from registrations.retention import anonymise_on
from tests.conftest import admin_action, make_edition, make_registration, post_in_parallel

START = datetime.date(2027, 3, 8)
END = START + datetime.timedelta(days=2)
AFTER = END + datetime.timedelta(days=1)
REGISTRATIONS = reverse("admin:registrations_registration_changelist")
PROMISES = [
    "Heb je inspiratie, lol en plezier gehad?",
    "Heb je je eigen opgave herzien?",
    "Heb je anderen geholpen en geïnspireerd?",
    "Heb je nieuwe concrete handvatten voor je eigen werkpraktijk?",
]


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def new_edition(start=START, **fields):
    with time_machine.travel(at(start - datetime.timedelta(days=100)), tick=False):
        return make_edition(
            start_date=start,
            end_date=start + datetime.timedelta(days=2),
            registration_deadline=start - datetime.timedelta(days=14),
            **fields,
        )


def person(edition, days_present=(), **fields):
    with time_machine.travel(at(edition.start_date - datetime.timedelta(days=60)), tick=False):
        registration = make_registration(edition, **fields)
    for day in days_present:
        Attendance.objects.update_or_create(
            registration=registration, date=day, defaults={"present": True}
        )
    return registration


@pytest.fixture
def edition(db):
    return new_edition()


@pytest.fixture
def present(edition):
    """Sanne, present on two of the three days."""
    days = edition_days(edition)[:2]
    return person(edition, days, first_name="Sanne", last_name="de Vries", email="sanne@example.nl")


@pytest.fixture
def absent(edition):
    """Bas, recorded as not there on any day."""
    registration = person(edition, first_name="Bas", last_name="Jansen", email="bas@example.nl")
    Attendance.objects.mark_no_show(registration)
    return registration


def run(command, **options):
    out = io.StringIO()
    call_command(command, stdout=out, stderr=out, **options)
    return out.getvalue()


def send_on(day, capture):
    with time_machine.travel(at(day), tick=False), capture(execute=True):
        return run("send_evaluations")


def form_data(edition, **answers):
    """Every question answered: 4 for each promise, 8 overall, a text for the open one."""
    data = {}
    for question in Questionnaire.objects.for_edition(edition).questions.all():
        if question.kind == "open":
            data[f"vraag_{question.pk}"] = answers.get("open", "Meer lef in mijn wijk.")
        else:
            data[f"vraag_{question.pk}"] = answers.get(
                "scale", "8" if question.scale_max == 10 else "4"
            )
    return data


def answer(client, registration, day=AFTER, **answers):
    with time_machine.travel(at(day), tick=False):
        return client.post(
            reverse("evaluation:answer", args=[registration.token]),
            form_data(registration.edition, **answers),
        )


def test_the_default_evaluation_asks_the_four_promises_an_overall_mark_and_what_you_take_home(
    edition,
):
    questions = list(Questionnaire.objects.for_edition(edition).questions.all())
    assert [q.text for q in questions] == [
        *PROMISES,
        "Welk cijfer geef je de werkplaats?",
        "Wat neem je mee?",
    ]
    assert [q.kind for q in questions] == ["scale"] * 5 + ["open"]
    assert [q.scale_max for q in questions[:5]] == [5, 5, 5, 5, 10]
    assert Questionnaire.objects.for_edition(edition).questions.count() == 6


def test_after_the_last_day_only_those_recorded_present_get_the_evaluation(
    edition, present, absent, django_capture_on_commit_callbacks
):
    not_recorded = person(edition, first_name="Kim", email="kim@example.nl")
    send_on(END, django_capture_on_commit_callbacks)  # the last day itself: not yet
    assert mail.outbox == []
    output = send_on(AFTER, django_capture_on_commit_callbacks)
    assert "1 uitnodiging(en)" in output
    [message] = mail.outbox
    assert message.to == ["sanne@example.nl"]
    assert "evaluatie" in message.subject
    link = reverse("evaluation:answer", args=[present.token])
    assert link in message.body
    assert "anoniem" in message.body
    assert list(Invitation.objects.values_list("registration", flat=True)) == [present.pk]
    assert not Invitation.objects.filter(registration__in=[absent, not_recorded]).exists()
    # Every day after: nobody twice.
    send_on(AFTER + datetime.timedelta(days=1), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert Invitation.objects.count() == 1


def test_a_dry_run_counts_and_sends_nothing(edition, present, django_capture_on_commit_callbacks):
    with (
        time_machine.travel(at(AFTER), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        output = run("send_evaluations", dry_run=True)
    assert "evaluatie aan 1 deelnemer(s)" in output
    assert mail.outbox == []
    assert not Invitation.objects.exists()


def test_present_on_two_days_of_three_answers_once_and_a_second_try_is_refused(client, present):
    response = answer(client, present)
    assert response.status_code == 200
    assert "Bedankt voor je antwoorden" in response.content.decode()
    stored = Response.objects.get()
    assert stored.answered_on == AFTER
    assert stored.answers.count() == 6
    assert Invitation.objects.get(registration=present).answered is True
    again = answer(client, present, scale="1", open="Toch anders")
    assert again.status_code == 409
    assert "Je hebt de evaluatie al ingevuld. Dat kan één keer" in again.content.decode()
    assert Response.objects.count() == 1
    assert not Answer.objects.filter(text="Toch anders").exists()
    # The form itself is not shown again either.
    with time_machine.travel(at(AFTER), tick=False):
        page = client.get(reverse("evaluation:answer", args=[present.token]))
    assert page.status_code == 409
    assert "al ingevuld" in page.content.decode()


def test_the_form_says_in_one_sentence_that_the_answers_are_anonymous(client, present):
    with time_machine.travel(at(AFTER), tick=False):
        page = client.get(reverse("evaluation:answer", args=[present.token]))
    assert page.status_code == 200
    assert "Je antwoorden worden anoniem bewaard" in page.content.decode()


def test_someone_absent_cannot_answer(client, absent):
    with time_machine.travel(at(AFTER), tick=False):
        page = client.get(reverse("evaluation:answer", args=[absent.token]))
    assert page.status_code == 409
    assert "voor wie op de werkplaats aanwezig was" in page.content.decode()
    assert answer(client, absent).status_code == 409
    assert not Response.objects.exists()
    assert not Invitation.objects.exists()


def test_nobody_answers_before_the_last_day_has_passed(client, present):
    with time_machine.travel(at(END), tick=False):
        page = client.get(reverse("evaluation:answer", args=[present.token]))
    assert page.status_code == 409
    assert not Response.objects.exists()


def test_answers_cannot_be_joined_to_the_people_who_gave_them(client, edition, present):
    """Two participants answer on the same day; then try every way to tie an answer to one."""
    second = person(edition, edition_days(edition)[1:], first_name="Noor", email="noor@example.nl")
    answer(client, present, open="Van Sanne")
    answer(client, second, open="Van Noor")
    # The answer tables point at nothing personal: only the questionnaire and its questions.
    for model in (Response, Answer):
        targets = {
            f.related_model for f in model._meta.get_fields() if f.is_relation and f.concrete
        }
        assert targets <= {Questionnaire, Question, Response}
        assert not any(isinstance(f, models.DateTimeField) for f in model._meta.concrete_fields)
        assert isinstance(model._meta.pk, models.UUIDField)
    # The "answered" record holds a yes, no date or anything of the answers.
    assert not any(
        f.name.startswith("answer") and not isinstance(f, models.BooleanField)
        for f in Invitation._meta.concrete_fields
    )
    # Random ids: their order is not the order of answering.
    assert all(r.pk.version == 4 for r in Response.objects.all())
    # No value in the answer rows appears in a person's or an invitation's row.
    personal = set()
    for table in (Registration, Invitation):
        for row in table.objects.values_list():
            personal |= {str(value) for value in row if value not in (None, "", True, False)}
    with connection.cursor() as cursor:
        for table in (Response._meta.db_table, Answer._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 -- our own table names
            for row in cursor.fetchall():
                values = {str(v) for v in row if v not in (None, "")}
                shared = {v for v in values & personal if not _is_questionnaire_key(v, edition)}
                assert shared == set(), f"{table} shares {shared} with a person's rows"
    # Joining on the only thing left, the day, cannot tell the two apart.
    days = {r.answered_on for r in Response.objects.all()}
    assert len(days) == 1
    assert Invitation.objects.filter(answered=True).count() == 2


def _is_questionnaire_key(value, edition):
    """The questionnaire's and its questions' ids, the answered day, and a scale value are
    shared by everyone who answered; they say nothing about who."""
    questionnaire = Questionnaire.objects.for_edition(edition)
    common = {str(questionnaire.pk), AFTER.isoformat(), str(AFTER)}
    common |= {str(pk) for pk in questionnaire.questions.values_list("pk", flat=True)}
    common |= {str(n) for n in range(1, 11)}
    return value in common


def test_the_reminder_goes_once_to_those_who_have_not_answered(
    client, edition, present, django_capture_on_commit_callbacks
):
    silent = person(edition, edition_days(edition)[:1], first_name="Kim", email="kim@example.nl")
    send_on(AFTER, django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mail.outbox) == ["kim@example.nl", "sanne@example.nl"]
    answer(client, present)
    mail.outbox.clear()
    send_on(AFTER + datetime.timedelta(days=6), django_capture_on_commit_callbacks)
    assert mail.outbox == []  # a week after the invitation, not sooner
    output = send_on(AFTER + datetime.timedelta(days=7), django_capture_on_commit_callbacks)
    assert "1 herinnering(en)" in output
    [reminder] = mail.outbox
    assert reminder.to == ["kim@example.nl"]
    assert reminder.subject.startswith("Herinnering: de evaluatie")
    assert reverse("evaluation:answer", args=[silent.token]) in reminder.body
    send_on(AFTER + datetime.timedelta(days=8), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert Invitation.objects.get(registration=silent).reminded_at is not None
    assert Invitation.objects.get(registration=present).reminded_at is None


def test_the_certificate_mail_carries_the_evaluation_link(
    client, staff_member, present, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(at(AFTER), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.force_login(staff_member)
        admin_action(client, REGISTRATIONS, "send_certificates", [present], apply="1")
    [message] = mail.outbox
    link = reverse("evaluation:answer", args=[present.token])
    assert link in message.body
    assert link in message.alternatives[0][0]


def test_the_personal_page_links_to_the_evaluation_until_answered(client, present):
    with time_machine.travel(at(AFTER), tick=False):
        page = client.get(present.get_absolute_url()).content.decode()
    assert reverse("evaluation:answer", args=[present.token]) in page
    answer(client, present)
    with time_machine.travel(at(AFTER), tick=False):
        page = client.get(present.get_absolute_url()).content.decode()
    assert reverse("evaluation:answer", args=[present.token]) not in page


def _previous_with_answers(client):
    """The edition a year before, two present, one answered."""
    before = new_edition(START - datetime.timedelta(days=364), slug="vorig-jaar")
    days = edition_days(before)
    one = person(before, days, email="een@example.nl")
    person(before, days, email="twee@example.nl")
    Questionnaire.objects.for_edition(before)
    for registration in before.registrations.all():
        Invitation.objects.create(registration=registration, invited_at=at(before.end_date))
    answer(
        client, one, day=before.end_date + datetime.timedelta(days=1), scale="2", open="Vorig jaar"
    )
    return before


def test_results_show_the_response_rate_and_charts_beside_the_previous_editions(
    client, staff_member, edition, present, absent, django_capture_on_commit_callbacks
):
    before = _previous_with_answers(client)
    third = person(edition, edition_days(edition), email="drie@example.nl")
    send_on(AFTER, django_capture_on_commit_callbacks)
    answer(client, present, open="Meer lef")
    assert Invitation.objects.filter(registration=third).exists()
    questionnaire = Questionnaire.objects.for_edition(edition)
    figures = results.edition_results(questionnaire)
    assert figures["rate"] == (2, 1, 50)
    assert figures["previous"].edition == before
    assert figures["previous_rate"] == (2, 1, 50)
    first = figures["questions"][0]
    assert first["chart"].rows == [["1", "0"], ["2", "0"], ["3", "0"], ["4", "1"], ["5", "0"]]
    assert first["previous_chart"].rows == [
        ["1", "0"],
        ["2", "1"],
        ["3", "0"],
        ["4", "0"],
        ["5", "0"],
    ]
    assert figures["questions"][-1]["texts"] == ["Meer lef"]
    client.force_login(staff_member)
    page = client.get(reverse("admin:evaluation_questionnaire_results", args=[questionnaire.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "50%" in html
    assert html.count("chart chart-bars") == 10  # five scale questions, each beside last year's
    assert PROMISES[0] in html
    assert str(before) in html
    assert "Meer lef" in html
    assert "Vorig jaar" not in html  # last year's open answers are last year's page


def test_the_results_csv_holds_the_answers_and_nothing_personal(
    client, staff_member, edition, present
):
    answer(client, present, open="Meer lef")
    client.force_login(staff_member)
    questionnaire = Questionnaire.objects.for_edition(edition)
    response = client.get(
        reverse("admin:evaluation_questionnaire_results_csv", args=[questionnaire.pk])
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    rows = list(
        csv.reader(io.StringIO(text), delimiter=";" if ";" in text.splitlines()[0] else ",")
    )
    assert rows[0] == ["Nr", *PROMISES, "Welk cijfer geef je de werkplaats?", "Wat neem je mee?"]
    assert rows[1] == ["1", "4", "4", "4", "4", "8", "Meer lef"]
    for personal in ("Sanne", "de Vries", "sanne@example.nl", present.reference, present.token):
        assert personal not in text


def test_results_survive_the_editions_retention(client, edition, present):
    answer(client, present, open="Meer lef")
    questionnaire = Questionnaire.objects.for_edition(edition)
    before = results.edition_results(questionnaire)
    due = anonymise_on(edition)
    with time_machine.travel(at(due), tick=False):
        output = run("apply_retention")
    assert "1 inschrijving(en) geanonimiseerd" in output
    present.refresh_from_db()
    assert present.anonymised_at is not None
    after = results.edition_results(questionnaire)
    assert after["rate"] == before["rate"] == (1, 1, 100)
    assert [q.get("chart") and q["chart"].rows for q in after["questions"]] == [
        q.get("chart") and q["chart"].rows for q in before["questions"]
    ]
    assert after["questions"][-1]["texts"] == ["Meer lef"]
    assert Response.objects.count() == 1


def test_staff_edit_the_questions_and_a_question_with_answers_cannot_be_deleted(
    client, staff_member, edition, present
):
    answer(client, present)
    questionnaire = Questionnaire.objects.for_edition(edition)
    client.force_login(staff_member)
    url = reverse("admin:evaluation_questionnaire_change", args=[questionnaire.pk])
    page = client.get(url)
    assert page.status_code == 200
    questions = list(questionnaire.questions.all())
    data = {
        "remind_after_days": "5",
        "open_weeks": "6",
        "questions-TOTAL_FORMS": str(len(questions) + 1),
        "questions-INITIAL_FORMS": str(len(questions)),
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    for n, q in enumerate(questions):
        data.update(
            {
                f"questions-{n}-id": str(q.pk),
                f"questions-{n}-questionnaire": str(questionnaire.pk),
                f"questions-{n}-position": str(q.position),
                f"questions-{n}-kind": q.kind,
                f"questions-{n}-text": q.text,
                f"questions-{n}-help_text": q.help_text,
                f"questions-{n}-scale_max": str(q.scale_max),
                f"questions-{n}-choices": "",
            }
        )
    n = len(questions)
    data.update(
        {
            f"questions-{n}-position": "7",
            f"questions-{n}-kind": "choice",
            f"questions-{n}-text": "Kom je volgend jaar terug?",
            f"questions-{n}-help_text": "",
            f"questions-{n}-scale_max": "5",
            f"questions-{n}-choices": "Ja\nMisschien\nNee",
        }
    )
    saved = client.post(url, data)
    assert saved.status_code == 302
    added = questionnaire.questions.get(position=7)
    assert added.options() == ["Ja", "Misschien", "Nee"]
    questionnaire.refresh_from_db()
    assert questionnaire.remind_after_days == 5
    refused = client.post(url, {**data, "questions-0-DELETE": "on"})
    assert refused.status_code == 200  # the form again, with the reason
    assert questionnaire.questions.filter(pk=questions[0].pk).exists()


def test_the_invitation_survives_a_real_smtp_round_trip(
    edition, present, smtp_server, settings, django_capture_on_commit_callbacks
):
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    send_on(AFTER, django_capture_on_commit_callbacks)
    send_on(AFTER + datetime.timedelta(days=7), django_capture_on_commit_callbacks)
    deadline = time.monotonic() + 5
    while len(inbox.envelopes) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    invitation, reminder = inbox.envelopes
    assert invitation.rcpt_tos == reminder.rcpt_tos == ["sanne@example.nl"]
    link = reverse("evaluation:answer", args=[present.token])
    for envelope in (invitation, reminder):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert "evaluatie" in message["Subject"]
        assert link in message.get_body(preferencelist=("plain",)).get_content()


def test_the_transaction_stamp_of_an_answer_does_not_single_out_its_person(
    postgres, client, edition, present
):
    """PostgreSQL stamps every row with the id of the transaction that wrote it (xmin): the
    stamp of a response matches every invitation of the edition or none, never one."""
    second = person(edition, edition_days(edition)[1:], email="noor@example.nl")
    person(edition, edition_days(edition)[:1], email="kim@example.nl")
    for registration in edition.registrations.all():
        Invitation.objects.get_or_create(registration=registration)
    answer(client, present)
    answer(client, second)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.id, count(i.id) FROM {Response._meta.db_table} r "  # noqa: S608
            f"LEFT JOIN {Invitation._meta.db_table} i ON i.xmin = r.xmin GROUP BY r.id"
        )
        matches = sorted(count for _id, count in cursor.fetchall())
    assert matches == [0, 3]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_answers_at_once_store_one(postgres):
    """Two submissions of one person at the same moment: the row lock lets one through."""
    edition = new_edition()
    registration = person(edition, edition_days(edition)[:2])
    data = form_data(edition)
    url = reverse("evaluation:answer", args=[registration.token])
    with time_machine.travel(at(AFTER), tick=False):
        statuses = post_in_parallel(url, lambda n: data, 4)
    assert sorted(statuses) == [200, 409, 409, 409]
    assert Response.objects.count() == 1
    assert uuid.UUID(str(Response.objects.get().pk)).version == 4


def test_a_choice_question_needs_two_answers_that_fit(edition):
    questionnaire = Questionnaire.objects.for_edition(edition)
    too_few = Question(questionnaire=questionnaire, kind="choice", text="Terug?", choices="Ja")
    too_long = Question(
        questionnaire=questionnaire, kind="choice", text="Terug?", choices=f"{'a' * 201}\nNee"
    )
    for question in (too_few, too_long):
        with pytest.raises(ValidationError) as refused:
            question.full_clean()
        assert "choices" in refused.value.message_dict
    Question(
        questionnaire=questionnaire, kind="choice", text="Terug?", choices="Ja\nNee"
    ).full_clean()
