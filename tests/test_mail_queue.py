"""With DJANGO_TASKS_BACKEND=database, sign-ups queue their e-mail and db_worker sends it."""

import datetime
import io
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from registrations import emails
from registrations.models import Registration
from tests.conftest import closed_port, make_edition, make_registration, sign_up_data

# The worker opens and closes its own transactions (and closes a connection it finds inside
# one), as in production; so these tests run outside pytest-django's wrapping transaction.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_worker():
    call_command("db_worker", batch=True, startup_delay=False, reload=False, stdout=io.StringIO())


def register_url(edition):
    return reverse("registrations:register", args=[edition.slug])


def test_sign_up_queues_its_mail_and_the_worker_sends_it(
    client, open_edition, database_queue, mailoutbox
):
    response = client.post(register_url(open_edition), sign_up_data())
    assert response.status_code == 302
    registration = Registration.objects.get()
    # Nothing is sent during the request: the participant never waits for the mail server.
    assert mailoutbox == []
    queued = DBTaskResult.objects.get()
    assert queued.status == "READY"
    assert queued.task_path == "registrations.tasks.send_order_emails"
    assert queued.args_kwargs == {"args": [registration.order_id], "kwargs": {}}

    run_worker()

    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        [registration.email, "werkplaats@example.org"]
    )
    confirmation = next(m for m in mailoutbox if m.to == [registration.email])
    assert confirmation.attachments[0][0].endswith(".ics")
    registration.refresh_from_db()
    assert registration.confirmation_sent_at is not None


def test_a_refused_sign_up_queues_nothing(client, open_edition, database_queue):
    make_registration(open_edition, email="fatima@gemeente.example.nl")
    duplicate = client.post(register_url(open_edition), sign_up_data())
    assert duplicate.status_code == 200
    invalid = client.post(register_url(open_edition), sign_up_data(email="geen-adres"))
    assert invalid.status_code == 200
    closed = make_edition(slug="gesloten", registration_deadline=datetime.date(2020, 1, 1))
    assert client.post(register_url(closed), sign_up_data()).status_code == 403
    assert DBTaskResult.objects.count() == 0


def test_cancelling_queues_both_cancellation_mails(
    client, open_edition, database_queue, mailoutbox
):
    registration = make_registration(open_edition)
    response = client.post(reverse("registrations:cancel", args=[registration.token]))
    assert response.status_code == 302
    assert mailoutbox == []
    run_worker()
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert {message.to[0] for message in mailoutbox} == {
        registration.email,
        "werkplaats@example.org",
    }
    assert all("annul" in message.subject.lower() for message in mailoutbox)


def test_a_mail_server_outage_fails_the_task_without_personal_data(
    client, open_edition, database_queue, settings, mailoutbox
):
    client.post(register_url(open_edition), sign_up_data())
    registration = Registration.objects.get()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 5

    run_worker()

    failed = DBTaskResult.objects.get()
    assert failed.status == "FAILED"
    assert failed.exception_class_path == "werkplaats.queue.MailNotSent"
    order = registration.order.reference
    assert (
        f"{order}: confirmation {registration.reference}, staff_notification not sent"
        in failed.traceback
    )
    # What the queue stores about the failure carries the reference, not who it was.
    for personal in [registration.email, registration.first_name, registration.last_name]:
        assert personal not in failed.traceback
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.confirmation_sent_at is None


def test_without_the_queue_mail_is_sent_after_the_sign_up_commits(open_edition, mailoutbox):
    # The immediate backend sends as the task is queued: inside the transaction that would be
    # with the edition locked, and a slow mail server would hold up every other sign-up.
    real_send = emails.send_confirmation
    sent_inside_a_transaction = []

    def send(registration):
        sent_inside_a_transaction.append(connection.in_atomic_block)
        return real_send(registration)

    with mock.patch.object(emails, "send_confirmation", send):
        response = Client().post(register_url(open_edition), sign_up_data())
    assert response.status_code == 302
    assert sent_inside_a_transaction == [False]
    assert len(mailoutbox) == 2


def test_with_the_queue_the_task_is_stored_inside_the_sign_up_transaction(
    open_edition, database_queue
):
    with CaptureQueriesContext(connection) as queries:
        assert Client().post(register_url(open_edition), sign_up_data()).status_code == 302
    statements = [query["sql"] for query in queries.captured_queries]
    queued = next(n for n, sql in enumerate(statements) if "dbtaskresult" in sql)
    committed = max(n for n, sql in enumerate(statements) if sql.upper().startswith("COMMIT"))
    assert queued < committed
