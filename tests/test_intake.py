"""Each participant's own case: asked on the personal page after confirmation, editable until
the deadline, one reminder, read by staff (page, PDF, CSV) and by nobody else, erased on time."""

import datetime
import email
import email.policy
import io
import re
import time

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from registrations.intake.models import Answer, Intake, case_state, with_case, without_case
from registrations.models import Registration, RetentionRecord
from tests.conftest import make_edition, make_registration, pdf_text, sign_up_data

START = datetime.date(2027, 3, 8)


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


@pytest.fixture
def edition(db):
    with time_machine.travel(at(START - datetime.timedelta(days=100)), tick=False):
        return make_edition(
            start_date=START,
            end_date=START + datetime.timedelta(days=2),
            registration_deadline=START - datetime.timedelta(days=14),
        )


def person(edition, **fields):
    with time_machine.travel(at(START - datetime.timedelta(days=60)), tick=False):
        return make_registration(edition, **fields)


def answer_data(edition, first="Onze wijk", second="Hoe houden we bewoners erbij?"):
    first_q, second_q = Intake.objects.for_edition(edition).questions.all()
    return {f"vraag_{first_q.pk}": first, f"vraag_{second_q.pk}": second}


def test_an_edition_asks_the_two_default_questions_with_a_deadline_a_week_before_the_start(
    edition,
):
    intake = Intake.objects.for_edition(edition)
    assert [q.text for q in intake.questions.all()] == [
        "Je opgave of casus",
        "Je vraag aan de werkplaats",
    ]
    assert intake.deadline_date() == START - datetime.timedelta(days=7)
    assert intake.erase_on() == START + datetime.timedelta(days=2 + 28 + 1)
    assert Intake.objects.for_edition(edition) == intake
    assert intake.questions.count() == 2


def test_the_case_from_the_sign_up_form_becomes_the_first_answer(client, edition):
    with time_machine.travel(at(START - datetime.timedelta(days=60))):
        response = client.post(
            reverse("registrations:register", args=[edition.slug]),
            sign_up_data(own_case="Hoe krijgen bewoners meer regie?"),
        )
    assert response.status_code == 302
    registration = Registration.objects.get()
    # Shown as the first answer, and a case for the reminder, before it is stored as one.
    assert list(with_case(Registration.objects.all())) == [registration]
    with time_machine.travel(at(START - datetime.timedelta(days=20))):
        page = client.get(registration.get_absolute_url()).content.decode()
        assert re.search(
            r'id="id_vraag_n1"[^>]*>Hoe krijgen bewoners meer regie\?</textarea>', page
        )
        assert not Intake.objects.exists()  # a page that only shows the questions stores nothing
        # What the page sent: the default questions by position, as shown.
        data = {"vraag_n1": "Hoe krijgen bewoners meer regie?", "vraag_n2": ""}
        client.post(reverse("intake:answer", args=[registration.token]), data)
    [answer] = Answer.objects.filter(registration=registration).exclude(text="")
    assert answer.question.text == "Je opgave of casus"
    assert answer.text == "Hoe krijgen bewoners meer regie?"
    registration.refresh_from_db()
    assert registration.own_case == ""


def test_a_colleague_signed_up_by_a_booker_answers_on_their_personal_page(client, edition):
    colleague = person(edition, first_name="Joost", email="joost@example.nl")
    with time_machine.travel(at(START - datetime.timedelta(days=20))):
        page = client.get(colleague.get_absolute_url()).content.decode()
        assert "Je eigen casus" in page and "Je vraag aan de werkplaats" in page
        response = client.post(
            reverse("intake:answer", args=[colleague.token]), answer_data(edition)
        )
        assert response.status_code == 302
        page = client.get(colleague.get_absolute_url()).content.decode()
    assert "Je casus is opgeslagen." in page
    assert sorted(colleague.case_answers.values_list("text", flat=True)) == [
        "Hoe houden we bewoners erbij?",
        "Onze wijk",
    ]
    assert case_state(colleague) == "ingevuld"


def test_answers_can_change_until_the_deadline_and_are_read_only_after_it(client, edition):
    registration = person(edition)
    deadline = START - datetime.timedelta(days=7)
    with time_machine.travel(at(deadline, hour=23)):
        client.post(reverse("intake:answer", args=[registration.token]), answer_data(edition))
    with time_machine.travel(at(deadline + datetime.timedelta(days=1))):
        response = client.post(
            reverse("intake:answer", args=[registration.token]),
            answer_data(edition, first="Iets anders"),
        )
        assert response.status_code == 409
        assert "De deadline voor je casus is voorbij" in response.content.decode()
        page = client.get(registration.get_absolute_url()).content.decode()
    assert (
        "Onze wijk" in page
        and 'action="/inschrijving/' + registration.token + '/casus/"' not in page
    )
    assert registration.case_answers.get(question__position=1).text == "Onze wijk"


def test_someone_waiting_or_cancelled_is_not_asked_and_cannot_answer(client, edition):
    waiting = person(edition, status=Registration.Status.WAITING)
    with time_machine.travel(at(START - datetime.timedelta(days=20))):
        assert "Je eigen casus" not in client.get(waiting.get_absolute_url()).content.decode()
        response = client.post(reverse("intake:answer", args=[waiting.token]), answer_data(edition))
    assert response.status_code == 409
    assert not Answer.objects.exists()


def test_an_answer_longer_than_2000_characters_is_refused(client, edition):
    registration = person(edition)
    with time_machine.travel(at(START - datetime.timedelta(days=20))):
        response = client.post(
            reverse("intake:answer", args=[registration.token]),
            answer_data(edition, first="x" * 2001),
        )
    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_answering_needs_a_post(client, edition):
    registration = person(edition)
    assert client.get(reverse("intake:answer", args=[registration.token])).status_code == 405


def test_a_substitute_starts_without_the_previous_persons_case(client, edition):
    registration = person(edition)
    with time_machine.travel(at(START - datetime.timedelta(days=20))):
        client.post(reverse("intake:answer", args=[registration.token]), answer_data(edition))
        assert registration.case_answers.exists()
        registration.name_substitute(
            first_name="Sanne",
            last_name="de Vries",
            email="sanne@example.nl",
            phone="",
            job_title="",
        )
    assert not Answer.objects.filter(registration=registration).exists()
    assert list(without_case(Registration.objects.all())) == [registration]


def run(command, **options):
    out = io.StringIO()
    call_command(command, stdout=out, stderr=out, **options)
    return out.getvalue()


def test_one_reminder_goes_to_confirmed_participants_without_a_case_however_often_it_runs(
    edition, mailoutbox, django_capture_on_commit_callbacks
):
    answered = person(edition, email="klaar@example.nl", own_case="Mijn wijk")
    silent = person(edition, email="stil@example.nl")
    person(edition, email="wacht@example.nl", status=Registration.Status.WAITING)
    reminder_day = START - datetime.timedelta(days=10)
    with time_machine.travel(at(reminder_day - datetime.timedelta(days=1))):
        assert "0 herinnering(en)" in run("send_case_reminders")
    assert mailoutbox == []
    with time_machine.travel(at(reminder_day)):
        assert "Dry run" in run("send_case_reminders", dry_run=True)
        assert mailoutbox == []
        with django_capture_on_commit_callbacks(execute=True):
            assert "herinnering aan 1 deelnemer(s)" in run("send_case_reminders")
            run("send_case_reminders")
    [mail] = mailoutbox
    assert mail.to == [silent.email]
    assert "je eigen casus" in mail.subject
    assert f"{silent.get_absolute_url()}#casus" in mail.body
    assert list(with_case(Registration.objects.all())) == [answered]
    assert Intake.objects.get().reminder_sent_at is not None


@pytest.fixture
def staff_client(client, staff_member):
    client.force_login(staff_member)
    return client


def test_staff_read_the_cases_of_an_edition_as_a_page_a_pdf_and_a_csv(staff_client, edition):
    person(edition, first_name="Fatima", last_name="El Amrani", own_case="Kanaleneiland")
    person(edition, first_name="Joost", last_name="de Vries", email="j@example.nl")
    intake = Intake.objects.for_edition(edition)
    page = staff_client.get(reverse("admin:intake_intake_cases", args=[intake.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Kanaleneiland" in html and "Joost de Vries" in html
    pdf = staff_client.get(reverse("admin:intake_intake_cases_pdf", args=[intake.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(b"".join(pdf.streaming_content))
    assert "Kanaleneiland" in text and "Fatima El Amrani" in text
    csv = staff_client.get(reverse("admin:intake_intake_cases_csv", args=[intake.pk]))
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Tijdstip;Naam;Organisatie;Je opgave of casus;Je vraag aan de werkplaats"
    assert ";Fatima El Amrani;Gemeente Utrecht;Kanaleneiland;" in lines[1]


@pytest.mark.parametrize("kind", ["cases", "cases_pdf", "cases_csv"])
def test_finance_and_outsiders_cannot_read_the_cases(client, edition, finance_user, outsider, kind):
    intake = Intake.objects.for_edition(edition)
    url = reverse(f"admin:intake_intake_{kind}", args=[intake.pk])
    for user in (finance_user, outsider):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302


def test_cases_are_erased_four_weeks_after_the_event_and_recorded(client, edition):
    # One case as typed into the sign-up form, one saved on the personal page, one nobody.
    person(edition, own_case="Bewoner X aan de Kade")
    saved = person(edition, email="b@example.nl")
    person(edition, email="c@example.nl")
    with time_machine.travel(at(START - datetime.timedelta(days=20))):
        client.post(reverse("intake:answer", args=[saved.token]), answer_data(edition))
    erase_on = START + datetime.timedelta(days=2 + 28 + 1)
    with time_machine.travel(at(erase_on - datetime.timedelta(days=1), hour=23)):
        run("apply_retention")
    assert Answer.objects.exclude(text="").count() == 2
    assert Registration.objects.exclude(own_case="").count() == 1
    with time_machine.travel(at(erase_on, hour=3)):
        assert "Dry run: casussen van" in run("apply_retention", dry_run=True)
        assert Answer.objects.count() == 2
        assert "casussen gewist bij 2" in run("apply_retention")
        run("apply_retention")
    assert not Answer.objects.exists()
    assert not Registration.objects.exclude(own_case="").exists()
    assert not with_case(Registration.objects.all()).exists()
    record = RetentionRecord.objects.get(action=RetentionRecord.Action.CASES_ERASED)
    assert (record.registrations, record.due_on) == (2, erase_on)


def test_the_privacy_statement_says_who_reads_a_case_and_when_it_goes(client, db):
    page = client.get(reverse("programme:privacy")).content.decode()
    assert "bewoners" in page and "je coach" in page and "4 weken" in page


def test_a_new_intake_in_the_admin_starts_with_the_default_questions(staff_client, edition):
    html = staff_client.get(reverse("admin:intake_intake_add")).content.decode()
    assert 'value="Je opgave of casus"' in html
    assert 'value="Je vraag aan de werkplaats"' in html


def test_staff_change_the_questions_and_the_page_asks_them(client, staff_member, edition):
    intake = Intake.objects.for_edition(edition)
    intake.questions.filter(position=2).update(text="Wat neem je mee terug?")
    registration = person(edition)
    with time_machine.travel(at(START - datetime.timedelta(days=20))):
        page = client.get(registration.get_absolute_url()).content.decode()
    assert "Wat neem je mee terug?" in page and "Je vraag aan de werkplaats" not in page


def test_the_case_reminder_survives_a_real_smtp_round_trip(
    edition, smtp_server, settings, django_capture_on_commit_callbacks
):
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    silent = person(edition, email="stil@example.nl")
    with time_machine.travel(at(START - datetime.timedelta(days=10))):
        with django_capture_on_commit_callbacks(execute=True):
            run("send_case_reminders")
    deadline = time.monotonic() + 5
    while not inbox.envelopes and time.monotonic() < deadline:
        time.sleep(0.01)
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["stil@example.nl"]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "je eigen casus" in mail["Subject"]
    assert (
        f"{silent.get_absolute_url()}#casus"
        in mail.get_body(preferencelist=("plain",)).get_content()
    )
