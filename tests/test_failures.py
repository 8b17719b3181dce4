"""When the database or the mail server is away: friendly pages, nothing lost, no restart."""

import json
import logging
import time
import urllib.error
import urllib.request
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, ProgrammingError, connections
from django.urls import reverse

from registrations.models import Registration
from tests.conftest import closed_port, make_edition, make_registration, sign_up_data


def _database_down(error=OperationalError):
    # Every query fails as it does when the server is gone, whichever database runs the tests.
    return mock.patch(
        "django.db.backends.utils.CursorWrapper.execute",
        side_effect=error("connection to server failed: Connection refused"),
    )


def _assert_friendly_503(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert "Even niet beschikbaar" in page
    assert "Probeer het over een paar minuten opnieuw" in page
    for leak in ("Traceback", "OperationalError", "InterfaceError", "Connection refused"):
        assert leak not in page


def test_pages_answer_a_friendly_503_while_the_database_is_down(client, open_edition, caplog):
    registration = make_registration(open_edition)
    urls = [
        reverse("programme:home"),
        open_edition.get_absolute_url(),
        reverse("registrations:register", args=[open_edition.slug]),
        registration.get_absolute_url(),
        reverse("registrations:cancel", args=[registration.token]),
    ]
    with _database_down():
        for url in urls:
            _assert_friendly_503(client.get(url))
        _assert_friendly_503(
            client.post(reverse("registrations:register", args=[open_edition.slug]), sign_up_data())
        )
        health = client.get(reverse("healthz"))
    assert health.status_code == 503
    assert health.json() == {"status": "database unavailable"}
    assert "Database unavailable (OperationalError) in registrations:detail" in caplog.text

    for url in urls:
        assert client.get(url).status_code == 200
    assert client.get(reverse("healthz")).status_code == 200


def test_admin_answers_a_friendly_503_while_the_database_is_down(client, staff_member):
    client.force_login(staff_member)
    with _database_down():
        _assert_friendly_503(client.get(reverse("admin:registrations_registration_changelist")))
    assert client.get(reverse("admin:registrations_registration_changelist")).status_code == 200


def test_a_closed_connection_also_gets_the_503(client, open_edition):
    with _database_down(InterfaceError):
        _assert_friendly_503(client.get(open_edition.get_absolute_url()))


def test_other_database_errors_are_not_hidden_as_an_outage(client, open_edition):
    # A broken query is a bug: it must reach the error log as a 500, not look like downtime.
    with _database_down(ProgrammingError), pytest.raises(ProgrammingError):
        client.get(open_edition.get_absolute_url())


def _get(url, data=None):
    try:
        with urllib.request.urlopen(url, data=data, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_site_works_again_without_restart_when_postgresql_is_back(postgres, live_server):
    edition = make_edition()
    page = live_server.url + edition.get_absolute_url()
    health = live_server.url + reverse("healthz")
    assert _get(page)[0] == 200

    # Every new connection (the server opens one per request) now goes to a closed port,
    # as when PostgreSQL is stopped or unreachable.
    database = connections["default"].settings_dict
    real_host, real_port = database["HOST"], database["PORT"]
    database["HOST"], database["PORT"] = "127.0.0.1", str(closed_port())
    try:
        status, body = _get(page)
        assert status == 503
        assert "Even niet beschikbaar" in body
        assert "Traceback" not in body
        status, body = _get(health)
        assert status == 503
        assert json.loads(body) == {"status": "database unavailable"}
    finally:
        database["HOST"], database["PORT"] = real_host, real_port

    assert _get(page)[0] == 200
    assert _get(health) == (200, '{"status": "ok"}')


def test_a_connection_the_server_closed_costs_a_reconnect_not_an_error(postgres):
    # A worker's persistent connection, checked at the start of a request the way Django does
    # (CONN_HEALTH_CHECKS), here by looking at its socket instead of asking the server.
    worker = connections.create_connection("default")
    try:
        with worker.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        assert worker.is_usable()
        # The server ends that session, as a restart or an idle timeout does.
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while worker.is_usable() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not worker.is_usable()
        # The next request's check drops it, and the query runs on a new connection.
        worker.health_check_done = False
        worker.close_if_health_check_failed()
        with worker.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone()[0] != pid
    finally:
        worker.close()


@pytest.fixture
def mail_server_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    settings.EMAIL_TIMEOUT = 5


def test_sign_up_is_stored_and_confirmed_while_the_mail_server_is_down(
    client, open_edition, mail_server_down, caplog
):
    caplog.set_level(logging.WARNING)
    response = client.post(
        reverse("registrations:register", args=[open_edition.slug]), sign_up_data(), follow=True
    )
    assert response.status_code == 200
    assert "Je bent ingeschreven" in response.content.decode()
    registration = Registration.objects.get()
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.confirmation_sent_at is None
    failures = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"Could not send confirmation for {registration.reference}" in " ".join(failures)
    order = registration.order.reference
    assert f"Could not send staff notification for {order}" in " ".join(failures)


def test_cancelling_works_while_the_mail_server_is_down(
    client, open_edition, mail_server_down, caplog
):
    registration = make_registration(open_edition)
    response = client.post(reverse("registrations:cancel", args=[registration.token]), follow=True)
    assert response.status_code == 200
    assert "Je inschrijving is geannuleerd" in response.content.decode()
    registration.refresh_from_db()
    assert registration.is_cancelled
    assert f"Could not send cancellation confirmation for {registration.reference}" in (caplog.text)


def test_confirmation_can_be_resent_from_admin_once_the_mail_server_is_back(
    client, open_edition, staff_member, settings, mailoutbox
):
    down = closed_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", down
    client.post(reverse("registrations:register", args=[open_edition.slug]), sign_up_data())
    registration = Registration.objects.get()
    assert registration.confirmation_sent_at is None

    client.force_login(staff_member)
    changelist = reverse("admin:registrations_registration_changelist")
    resend = {
        "action": "resend_confirmation",
        "_selected_action": [registration.pk],
        "apply": "1",
    }
    response = client.post(changelist, resend, follow=True)
    assert "1 niet verstuurd, de mailserver weigerde" in response.content.decode()
    registration.refresh_from_db()
    assert registration.confirmation_sent_at is None

    # The mail server is back.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(changelist, resend, follow=True)
    assert "Bevestiging: 1 verstuurd." in response.content.decode()
    registration.refresh_from_db()
    assert registration.confirmation_sent_at is not None
    assert [message.to for message in mailoutbox] == [[registration.email]]
