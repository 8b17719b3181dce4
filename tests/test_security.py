"""Production-safe settings, security headers, the Content-Security-Policy, the admin login
lockout, password rules and logs without personal data."""

import datetime
import logging
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from csp.utils import build_policy
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from registrations.models import Registration
from tests.conftest import PASSWORD, closed_port, make_edition, make_registration, sign_up_data

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "werkplaats.example.nl",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "DATABASE_URL": "postgres://werkplaats:secret@db.example.nl:5432/werkplaats",
}


def _run_django(args, **env):
    """Run manage.py in a fresh process, so settings are read from exactly this environment."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "EMAIL_"))
    }
    # A key as production would have one: long and random (check --deploy tests both).
    environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)[:50]
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _setting(name, **env):
    result = _run_django(
        ["shell", "-c", f"from django.conf import settings; print(repr(settings.{name}))"], **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_check_deploy_reports_nothing_with_production_settings():
    result = _run_django(["check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_when_production_forgets_https():
    env = {**PRODUCTION_ENV, "DJANGO_SECURE_PROXY_SSL_HEADER": ""}
    result = _run_django(["check", "--deploy", "--fail-level", "WARNING"], **env)
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_secure_settings_are_on_in_production_and_each_can_be_switched_off():
    assert _setting("SECURE_SSL_REDIRECT", **PRODUCTION_ENV) == "True"
    assert _setting("SECURE_PROXY_SSL_HEADER", **PRODUCTION_ENV) == (
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )
    assert _setting("SESSION_COOKIE_SECURE", **PRODUCTION_ENV) == "True"
    assert _setting("SECURE_HSTS_SECONDS", **PRODUCTION_ENV) == "31536000"
    plain_http = {
        **PRODUCTION_ENV,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SESSION_COOKIE_SECURE": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
    }
    assert _setting("SECURE_SSL_REDIRECT", **plain_http) == "False"
    assert _setting("SESSION_COOKIE_SECURE", **plain_http) == "False"
    assert _setting("SECURE_HSTS_SECONDS", **plain_http) == "0"


def test_a_bad_boolean_in_a_security_variable_stops_start_up():
    result = _run_django(["check"], **PRODUCTION_ENV, DJANGO_SECURE_SSL_REDIRECT="misschien")
    assert result.returncode != 0
    assert "DJANGO_SECURE_SSL_REDIRECT must be a boolean" in result.stderr


def test_admin_address_is_moved_by_setting():
    result = _run_django(
        ["shell", "-c", "from django.urls import reverse; print(reverse('admin:index'))"],
        DJANGO_ADMIN_URL="achter-de-schermen/",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "/achter-de-schermen/"


def test_common_admin_address_is_not_the_admin(client, db):
    assert client.get("/admin/").status_code == 404
    assert reverse("admin:index") != "/admin/"


def test_public_pages_send_the_security_headers(client, open_edition):
    response = client.get(open_edition.get_absolute_url())
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_https_requests_get_hsts_for_a_year(client, open_edition):
    response = client.get(open_edition.get_absolute_url(), secure=True)
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")


def test_plain_http_is_redirected_to_https_behind_the_proxy(settings, open_edition):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client()  # SecurityMiddleware reads its settings when the client loads it
    url = open_edition.get_absolute_url()
    response = client.get(url)
    assert response.status_code == 301
    assert response["Location"] == f"https://testserver{url}"
    proxied = client.get(url, headers={"X-Forwarded-Proto": "https"})
    assert proxied.status_code == 200
    assert "Strict-Transport-Security" in proxied


def test_cookies_are_secure_http_only_and_same_site(client, open_edition, staff_member):
    response = client.get(reverse("registrations:register", args=[open_edition.slug]))
    cookie = response.cookies["csrftoken"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    # Signing up needs no session (the form's own key recognises a double click) ...
    response = client.post(
        reverse("registrations:register", args=[open_edition.slug]), sign_up_data()
    )
    assert response.status_code == 302
    assert "sessionid" not in response.cookies
    # ... so the session cookie is the staff login's.
    response = client.post(
        reverse("admin:login"),
        {"username": staff_member.username, "password": PASSWORD},
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"


class _PolicyReader(HTMLParser):
    """Finds what a strict Content-Security-Policy would block: inline styles and scripts."""

    def __init__(self):
        super().__init__()
        self.style_attributes = []
        self.style_elements = 0
        self.event_handlers = []
        self.inline_scripts = []  # the nonce of every <script> without src
        self.javascript_urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.style_attributes.append(tag)
        self.event_handlers += [name for name in attrs if name.startswith("on")]
        self.javascript_urls += [
            value
            for name, value in attrs.items()
            if name in ("href", "src", "action") and (value or "").lower().startswith("javascript:")
        ]
        if tag == "style":
            self.style_elements += 1
        if tag == "script" and not attrs.get("src"):
            self.inline_scripts.append(attrs.get("nonce"))


def assert_strict_policy(response):
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in (p.strip() for p in policy.split(";")) if part
    )
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert directives["default-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    if "text/html" not in response["Content-Type"]:
        return
    page = _PolicyReader()
    page.feed(response.content.decode())
    assert page.style_attributes == [], "inline style attributes"
    assert page.style_elements == 0, "inline <style> elements"
    assert page.event_handlers == [], "inline event handlers"
    assert page.javascript_urls == []
    nonces = set(re.findall(r"'nonce-([^']+)'", directives.get("script-src", "")))
    for nonce in page.inline_scripts:
        assert nonce, "an inline <script> without a nonce"
        assert nonce in nonces, "an inline <script> whose nonce is not in the header"


def _public_urls(edition, registration):
    return [
        reverse("programme:home"),
        edition.get_absolute_url(),
        reverse("programme:edition_ics", args=[edition.slug]),
        reverse("registrations:register", args=[edition.slug]),
        registration.get_absolute_url(),
        reverse("registrations:cancel", args=[registration.token]),
        reverse("programme:privacy"),
        reverse("healthz"),
        "/bestaat-niet/",
    ]


def test_every_public_page_sends_a_strict_content_security_policy(client, open_edition):
    registration = make_registration(open_edition)
    for url in _public_urls(open_edition, registration):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_strict_policy(response)


def test_closed_form_error_pages_and_form_errors_keep_the_policy(client, db):
    closed = make_edition(registration_deadline=datetime.date(2020, 1, 1))
    assert_strict_policy(client.get(reverse("registrations:register", args=[closed.slug])))
    edition = make_edition()
    url = reverse("registrations:register", args=[edition.slug])
    with_errors = client.post(url, sign_up_data(email="geen-adres", invoice_postcode="x"))
    assert with_errors.status_code == 200
    assert_strict_policy(with_errors)
    too_big = client.post(url, {"own_case": "x" * 600_000})
    assert too_big.status_code == 413
    assert_strict_policy(too_big)


def test_json_ld_carries_the_nonce_of_the_policy(client, open_edition):
    response = client.get(open_edition.get_absolute_url())
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<script type="application/ld+json" nonce="{nonce}">' in response.content.decode()
    # A fresh nonce for every response.
    again = client.get(open_edition.get_absolute_url())
    assert nonce not in again["Content-Security-Policy"]


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("beheer", "beheer@platform31.example.nl", PASSWORD)


def test_admin_works_under_the_policy(client, superuser, open_edition):
    registration = make_registration(open_edition)
    client.force_login(superuser)
    urls = [
        reverse("admin:index"),
        reverse("admin:programme_edition_changelist"),
        reverse("admin:programme_edition_change", args=[open_edition.pk]),
        reverse("admin:programme_edition_add"),
        reverse("admin:registrations_registration_changelist"),
        reverse("admin:registrations_registration_change", args=[registration.pk]),
        reverse("admin:auth_user_add"),
        reverse("admin:auth_user_password_change", args=[superuser.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)
    client.logout()
    login = client.get(reverse("admin:login"))
    assert login.status_code == 200
    assert_strict_policy(login)


def _login(client, password, address="192.0.2.10"):
    return client.post(
        reverse("admin:login"),
        {"username": "beheer", "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=address,
    )


def test_admin_login_is_locked_after_five_wrong_passwords(client, superuser, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _login(client, "verkeerd-wachtwoord").status_code == 200
    locked = _login(client, "verkeerd-wachtwoord")
    assert locked.status_code == 429
    assert "Inloggen tijdelijk geblokkeerd" in locked.content.decode()
    # Even the right password does not get in from that address now.
    assert _login(client, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # Staff elsewhere can still log in.
    elsewhere = Client()
    assert _login(elsewhere, PASSWORD, address="198.51.100.7").status_code == 302


def test_admin_lockout_ends_after_the_cool_off(client, superuser, settings):
    for _ in range(5):
        _login(client, "verkeerd-wachtwoord")
    assert _login(client, PASSWORD).status_code == 429
    later = datetime.datetime.now(tz=datetime.UTC) + settings.AXES_COOLOFF_TIME
    with time_machine.travel(later + datetime.timedelta(minutes=1)):
        response = _login(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(superuser.pk)


def test_a_successful_login_resets_the_failure_count(client, superuser):
    for _ in range(4):
        _login(client, "verkeerd-wachtwoord")
    assert _login(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert _login(client, "verkeerd-wachtwoord").status_code == 200


@pytest.mark.parametrize(
    "password",
    ["kort123", "password1234", "qwertyuiop12", "123456789012345", "beheer-platform31"],
)
def test_weak_passwords_are_refused(password, db):
    user = User(username="beheer", email="beheer@platform31.example.nl")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_strong_password_is_accepted(db):
    validate_password("tulpen-regen-fiets-kanaal-31", User(username="beheer"))


def test_admin_refuses_to_create_a_staff_account_with_a_weak_password(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "nieuw",
            "usable_password": "true",
            "password1": "wachtwoord1",
            "password2": "wachtwoord1",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="nieuw").exists()


def test_confirmation_tokens_are_long_and_random(open_edition):
    first = make_registration(open_edition)
    second = make_registration(open_edition)
    assert len(first.token) >= 43  # 32 random bytes
    assert first.token != second.token
    assert str(first.pk) not in first.get_absolute_url().split("/")


PERSONAL = ["Fatima", "El Amrani", "fatima@", "12345678", "Kanaleneiland", "utrecht.example"]


def _assert_no_personal_data(records):
    for record in records:
        # As written to the log, tracebacks included.
        line = logging.Formatter().format(record)
        for value in PERSONAL:
            assert value not in line, f"personal data in log line: {line!r}"


def test_sign_up_and_cancel_are_logged_by_reference_without_personal_data(
    client, open_edition, caplog
):
    caplog.set_level(logging.DEBUG)
    client.post(reverse("registrations:register", args=[open_edition.slug]), sign_up_data())
    registration = Registration.objects.get()
    client.post(reverse("registrations:cancel", args=[registration.token]))
    registration.refresh_from_db()
    assert registration.is_cancelled
    lines = [record.getMessage() for record in caplog.records]
    assert [line for line in lines if registration.reference in line and "cancel" in line.lower()]
    assert [line for line in lines if registration.reference in line and "cancel" not in line]
    _assert_no_personal_data(caplog.records)


def test_mail_failures_are_logged_by_reference_without_personal_data(
    client, open_edition, settings, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = closed_port()
    caplog.set_level(logging.DEBUG)
    client.post(reverse("registrations:register", args=[open_edition.slug]), sign_up_data())
    registration = Registration.objects.get()
    failures = [r for r in caplog.records if r.levelno >= logging.WARNING]
    # Two warnings (one per e-mail) and the failed task's error, whose exception names it.
    assert len(failures) == 3
    as_written = [logging.Formatter().format(record) for record in failures]
    # Each names the registration or its order by reference.
    references = (registration.reference, registration.order.reference)
    assert all(any(ref in line for ref in references) for line in as_written)
    assert registration.reference == f"INS-{registration.pk:05d}"
    _assert_no_personal_data(caplog.records)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_chromium_reports_no_policy_violations_and_admin_scripts_still_run(open_page):
    from playwright.sync_api import expect

    edition = make_edition()
    registration = make_registration(edition)
    User.objects.create_superuser("beheer", "beheer@platform31.example.nl", PASSWORD)
    page = open_page()
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    for url in [
        edition.get_absolute_url(),
        reverse("registrations:register", args=[edition.slug]),
        registration.get_absolute_url(),
    ]:
        page.goto(url)

    page.goto(reverse("admin:login"))
    page.get_by_label("Gebruikersnaam").fill("beheer")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    for url in [
        reverse("admin:programme_edition_change", args=[edition.pk]),
        reverse("admin:registrations_registration_change", args=[registration.pk]),
        reverse("admin:registrations_registration_changelist"),
    ]:
        page.goto(url)
        expect(page.locator("#content")).to_be_visible()
    # The admin's own scripts run under the policy: the slug follows the title as it is typed.
    page.goto(reverse("admin:programme_edition_add"))
    page.locator("#id_title").press_sequentially("Werkplaats Zuid 2030")
    assert violations == []
    expect(page.locator("#id_slug")).to_have_value("werkplaats-zuid-2030")


def test_the_policy_built_once_is_the_one_django_csp_builds(client, open_edition):
    page = client.get(open_edition.get_absolute_url())
    nonce = re.search(r"'nonce-([^']+)'", page["Content-Security-Policy"]).group(1)
    assert page["Content-Security-Policy"] == build_policy(nonce=nonce)
    without_nonce = client.get(reverse("programme:privacy"))
    assert without_nonce["Content-Security-Policy"] == build_policy()
    assert "nonce" not in without_nonce["Content-Security-Policy"]
