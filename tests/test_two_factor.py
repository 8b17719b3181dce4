"""Two-factor sign-in for the back office (werkplaats/twofactor): after the password, a code
from an authenticator app, a recovery code or a passkey; nothing before. The passkey itself
is proven in Chromium (tests/test_browser_two_factor.py).

These tests sign in as a person must: `real_second_factor` switches off the test convenience
of tests/conftest.py, which gives a staff sign-in its second factor for free.
"""

import datetime
import io
import re

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from registrations.accesslog.models import AccessLogEntry
from registrations.models import Registration
from tests.conftest import PASSWORD, _user, make_edition, make_registration
from werkplaats.twofactor import devices

pytestmark = pytest.mark.real_second_factor

LOGIN = reverse("admin:login")
VERIFY = reverse("admin:twofactor_verify")
SETUP = reverse("admin:twofactor_setup")
RECOVERY = reverse("admin:twofactor_recovery_codes")
INDEX = reverse("admin:index")
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ADDRESS = "192.0.2.20"


def code(device):
    """The code the person's app shows now (time-machine's now inside a travel), as
    django-otp computes it."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{value:0{device.digits}d}"


def sign_in(client, username="anna", password=PASSWORD, next_url=INDEX, address=ADDRESS):
    return client.post(
        LOGIN,
        {"username": username, "password": password, "next": next_url},
        REMOTE_ADDR=address,
    )


def give_code(client, value, next_url=INDEX, address=ADDRESS):
    return client.post(VERIFY, {"code": value, "next": next_url}, REMOTE_ADDR=address)


@pytest.fixture
def anna(db):
    """Anna (Medewerkers) with her authenticator app set up."""
    user = _user("anna", "Medewerkers")
    devices.add_app(user, SECRET)
    return user


@pytest.fixture
def app(anna):
    return TOTPDevice.objects.get(user=anna)


def _back_office_urls():
    """Every address under /beheer/, its parameters filled in (any value: a refusal comes
    before a view looks anything up)."""

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.name

    for route, name in walk(get_resolver().url_patterns, ""):
        if not route.startswith("beheer/"):
            continue
        if name == "app_list":
            yield "/beheer/registrations/", name
        elif name is None and "(?P<url>" in route:
            yield "/beheer/bestaat-niet/", "catch_all"
        else:
            yield "/" + re.sub(r"<(?:\w+:)?\w+>", "1", route), name


# The pages of the second step itself, as a half-signed-in person gets them; every other
# address under /beheer/ sends them to the login page.
SECOND_STEP = {
    "twofactor_verify": 200,
    "twofactor_setup": 302,  # a second factor exists: to the step above
    "twofactor_recovery_codes": 302,  # not verified: to the step above
    "twofactor_sign_out": 405,  # a POST only
    "login": 302,  # to the second step
    "logout": 302,  # the admin's: to its front page, i.e. back to the login
    # Passkeys' JSON endpoints: adding one needs the second factor first (a password alone
    # cannot add its own); signing in with one is a POST of this step. The catalogue of
    # their script's texts is public.
    "credential-registration-begin": 403,
    "credential-registration-complete": 403,
    "credential-authentication-begin": 405,
    "credential-authentication-complete": 405,
    "js-i18n-catalog": 200,
}


def test_a_password_alone_opens_no_admin_page_no_export_and_no_api(client, anna):
    registration = make_registration(make_edition(), first_name="Geheimnaam")
    response = sign_in(client)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert "_auth_user_id" in client.session

    urls = list(_back_office_urls())
    assert len(urls) > 200
    names = {name for _url, name in urls}
    # The exports and downloads are among them.
    assert {"invoicing_invoice_pdf", "attendance_certificate_pdf", "autocomplete"} <= names
    for url, name in urls:
        response = client.get(url)
        assert "Geheimnaam" not in response.content.decode(errors="replace"), url
        if name in SECOND_STEP:
            assert response.status_code == SECOND_STEP[name], url
            continue
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith(f"{LOGIN}?next="), url
        # And the login page sends them on to the second step, not into the admin.
        assert client.get(response["Location"])["Location"].startswith(VERIFY)

    # Nor does a POST: an admin action, a change, an API call.
    changelist = reverse("admin:registrations_registration_changelist")
    response = client.post(
        changelist, {"action": "delete_selected", "_selected_action": [registration.pk]}
    )
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert Registration.objects.filter(pk=registration.pk).exists()
    response = client.post(reverse("admin:programme_edition_add"), {"title": "Nep"})
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    # Passkeys: one cannot be added to an account that has a second factor without it.
    response = client.post(
        reverse("otp_webauthn:credential-registration-begin"), content_type="application/json"
    )
    assert response.status_code == 403
    assert not WebAuthnCredential.objects.exists()


def test_the_code_from_the_app_opens_the_back_office(client, anna, app):
    registrations = reverse("admin:registrations_registration_changelist")
    response = sign_in(client, next_url=registrations)
    assert response["Location"] == f"{VERIFY}?next={registrations.replace('/', '%2F')}"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()

    response = give_code(client, code(app), next_url=registrations)
    assert response.status_code == 302 and response["Location"] == registrations
    assert client.get(registrations).status_code == 200
    assert client.get(INDEX).status_code == 200


def test_a_code_with_spaces_as_the_app_shows_it_is_accepted(client, anna, app):
    sign_in(client)
    value = code(app)
    response = give_code(client, f"{value[:3]} {value[3:]}")
    assert response.status_code == 302 and response["Location"] == INDEX


def test_a_wrong_code_opens_nothing_and_says_so(client, anna, app):
    sign_in(client)
    wrong = f"{(int(code(app)) + 1) % 1_000_000:06d}"
    response = give_code(client, wrong)
    assert response.status_code == 200
    assert "Deze code klopt niet" in response.content.decode()
    assert client.get(INDEX).status_code == 302
    # The access log has the password's sign-in and the wrong code as a failed one.
    kinds = list(AccessLogEntry.objects.order_by("at", "pk").values_list("kind", "username"))
    assert kinds[-1] == (AccessLogEntry.Kind.SIGN_IN_FAILED, anna.username)


def test_a_code_of_another_account_does_not_count(client, anna):
    other = _user("femke", "Financiën")
    other_app = devices.add_app(other)
    sign_in(client)
    response = give_code(client, code(other_app))
    assert response.status_code == 200
    assert client.get(INDEX).status_code == 302


def test_a_recovery_code_works_once(client, anna):
    codes = devices.new_recovery_codes(anna)
    assert len(codes) == 10 and len(set(codes)) == 10
    sign_in(client)
    assert give_code(client, codes[0])["Location"] == INDEX
    assert client.get(INDEX).status_code == 200
    assert StaticToken.objects.filter(device__user=anna).count() == 9

    again = Client()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(again)
        response = give_code(again, codes[0])
        assert response.status_code == 200
        assert "Deze code klopt niet" in response.content.decode()
        assert again.get(INDEX).status_code == 302
        # After a wrong code django-otp waits a moment before it takes the next.
        traveller.shift(datetime.timedelta(seconds=5))
        assert give_code(again, codes[1])["Location"] == INDEX


def test_a_new_account_sets_up_the_app_first_and_sees_its_recovery_codes_once(
    client, db, time_machine
):
    time_machine.move_to(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False)
    user = _user("nina", "Medewerkers")
    response = sign_in(client, username="nina")
    assert client.get(response["Location"])["Location"] == f"{SETUP}?next=%2Fbeheer%2F"
    # Nothing else before the set-up: every page sends her back to it.
    for url in [INDEX, reverse("admin:registrations_registration_changelist"), RECOVERY]:
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0].startswith(SETUP), url
    page = client.get(SETUP)
    html = page.content.decode()
    assert "<svg" in html and "QR-code voor je authenticator-app" in html
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = devices.secret(device)
    assert secret in html
    # A reload shows the same secret: the QR code just scanned stays valid.
    assert secret in client.get(SETUP).content.decode()
    assert TOTPDevice.objects.filter(user=user).count() == 1

    wrong = client.post(SETUP, {"code": "000000" if code(device) != "000000" else "111111"})
    assert "Deze code klopt niet" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    time_machine.shift(datetime.timedelta(seconds=5))  # django-otp's pause after a wrong code
    device.refresh_from_db()
    response = client.post(SETUP, {"code": code(device)})
    assert response["Location"] == RECOVERY
    device.refresh_from_db()
    assert device.confirmed
    shown = client.get(RECOVERY)
    codes = re.findall(r"<li><code>(\w+)</code></li>", shown.content.decode())
    assert len(codes) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    )
    # Once: the next visit does not show them again, and offers new ones instead.
    later = client.get(RECOVERY).content.decode()
    assert not any(c in later for c in codes)
    assert "Nieuwe herstelcodes maken" in later
    assert client.get(INDEX).status_code == 200
    # New ones replace the old.
    renewed = client.post(RECOVERY).content.decode()
    new_codes = re.findall(r"<li><code>(\w+)</code></li>", renewed)
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    assert StaticDevice.objects.filter(user=user).count() == 1


def test_five_wrong_codes_lock_the_address_like_five_wrong_passwords(client, anna, app, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    sign_in(client)
    wrong = f"{(int(code(app)) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert give_code(client, wrong).status_code == 200
    locked = give_code(client, wrong)
    assert locked.status_code == 429
    assert "Inloggen tijdelijk geblokkeerd" in locked.content.decode()
    # Recorded in the database, which every worker and server shares.
    assert AccessAttempt.objects.get(ip_address=ADDRESS).failures_since_start == 5
    # The half-signed-in session is over, and the right password does not get in again.
    assert "_auth_user_id" not in client.session
    assert sign_in(client).status_code == 429
    # From elsewhere Anna still signs in.
    elsewhere = Client()
    assert sign_in(elsewhere, address="192.0.2.99")["Location"].startswith(VERIFY)


def test_wrong_passwords_and_wrong_codes_count_together(client, anna, app, settings):
    """Failures since the last good sign-in: a right password clears the count (axes'
    AXES_RESET_ON_SUCCESS), so an attacker who has it still gets five tries at the code."""
    sign_in(client)
    wrong = f"{(int(code(app)) + 1) % 1_000_000:06d}"
    for _ in range(3):
        give_code(client, wrong)
    client.post(LOGIN, {"username": "anna", "password": "fout"}, REMOTE_ADDR=ADDRESS)
    client.post(LOGIN, {"username": "anna", "password": "fout"}, REMOTE_ADDR=ADDRESS)
    assert AccessAttempt.objects.get(ip_address=ADDRESS).failures_since_start == 5
    assert sign_in(client).status_code == 429


def test_a_back_office_session_ends_after_the_idle_time(client, anna, app, settings):
    assert settings.BACKOFFICE_IDLE_MINUTES == 30
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        sign_in(client)
        give_code(client, code(app))
        assert client.get(INDEX).status_code == 200
        # Working on: every request within the idle time keeps the session.
        for _ in range(3):
            traveller.shift(datetime.timedelta(minutes=29))
            assert client.get(INDEX).status_code == 200
        traveller.shift(datetime.timedelta(minutes=31))
        response = client.get(INDEX)
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)
        assert "_auth_user_id" not in client.session


def test_the_idle_time_comes_from_the_setting(client, anna, app, settings):
    settings.BACKOFFICE_IDLE_MINUTES = 5
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        sign_in(client)
        give_code(client, code(app))
        traveller.shift(datetime.timedelta(minutes=4))
        assert client.get(INDEX).status_code == 200
        traveller.shift(datetime.timedelta(minutes=6))
        assert client.get(INDEX).status_code == 302


def test_a_participants_page_keeps_working_whatever_the_time(client, db):
    registration = make_registration(make_edition())
    start = datetime.datetime.now(datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        assert client.get(registration.get_absolute_url()).status_code == 200
        traveller.shift(datetime.timedelta(hours=5))
        assert client.get(registration.get_absolute_url()).status_code == 200


def test_signing_out_ends_every_session_of_the_account_on_every_device(anna, app):
    laptop, phone, colleague = Client(), Client(), Client()
    sign_in(laptop)
    give_code(laptop, code(app))
    sign_in(phone)
    give_code(phone, devices.new_recovery_codes(anna)[0])
    femke = _user("femke", "Financiën")
    femke_app = devices.add_app(femke)
    sign_in(colleague, username="femke")
    give_code(colleague, code(femke_app))
    for browser in (laptop, phone, colleague):
        assert browser.get(INDEX).status_code == 200

    response = laptop.post(reverse("admin:logout"))
    assert response.status_code == 200
    assert laptop.get(INDEX).status_code == 302
    assert phone.get(INDEX).status_code == 302
    assert colleague.get(INDEX).status_code == 200
    owners = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(anna.pk) not in owners


def test_signing_out_at_the_second_step_ends_the_session(client, anna):
    sign_in(client)
    assert client.get(reverse("admin:twofactor_sign_out")).status_code == 405
    response = client.post(reverse("admin:twofactor_sign_out"))
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


@pytest.fixture
def superuser(db):
    user = User.objects.create_superuser("beheer", "beheer@example.nl", PASSWORD)
    devices.add_app(user, SECRET)
    return user


def test_a_superuser_resets_a_second_factor_which_is_recorded(client, anna, app, superuser):
    devices.new_recovery_codes(anna)
    WebAuthnCredential.objects.create(
        user=anna, name="Telefoon", credential_id=b"x", public_key=b"y", sign_count=0
    )
    annas = Client()
    sign_in(annas)
    give_code(annas, code(app))
    assert annas.get(INDEX).status_code == 200

    sign_in(client, username="beheer", address="192.0.2.30")
    give_code(client, code(TOTPDevice.objects.get(user=superuser)), address="192.0.2.30")
    change = reverse("admin:auth_user_change", args=[anna.pk])
    assert reverse("admin:twofactor_reset", args=[anna.pk]) in client.get(change).content.decode()
    reset = reverse("admin:twofactor_reset", args=[anna.pk])
    assert client.get(reset).status_code == 200
    assert TOTPDevice.objects.filter(user=anna).exists()  # a GET changes nothing

    response = client.post(reset)
    assert response["Location"] == change
    assert not TOTPDevice.objects.filter(user=anna).exists()
    assert not StaticDevice.objects.filter(user=anna).exists()
    assert not WebAuthnCredential.objects.filter(user=anna).exists()
    entry = LogEntry.objects.get(object_id=str(anna.pk))
    assert entry.user == superuser
    assert entry.content_type.model == "user"
    assert "Tweede factor gewist" in entry.get_change_message()
    # And in the access log, which nobody can alter.
    (logged,) = AccessLogEntry.objects.filter(kind=AccessLogEntry.Kind.SECOND_FACTOR_RESET)
    assert (logged.user, logged.reference) == (superuser, f"account {anna.pk}")
    assert (
        "Tweede factor gewist"
        in client.get(reverse("admin:auth_user_history", args=[anna.pk])).content.decode()
    )
    # Anna's open session is over; at her next sign-in she sets up a new one.
    assert annas.get(INDEX).status_code == 302
    response = sign_in(annas)
    assert annas.get(response["Location"])["Location"].startswith(SETUP)


def test_create_backoffice_user_makes_an_account_that_signs_in_with_its_secret(
    client, db, monkeypatch
):
    monkeypatch.setenv("BACKOFFICE_PASSWORD", PASSWORD)
    out = io.StringIO()
    call_command(
        "create_backoffice_user",
        "sanne",
        "sanne@platform31.example.nl",
        "Financiën",
        totp_secret="jbsw y3dp ehpk 3pxp",
        stdout=out,
    )
    user = User.objects.get(username="sanne")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["Financiën"]
    assert "JBSWY3DPEHPK3PXP" in out.getvalue()
    assert "otpauth://totp/" in out.getvalue()
    assert PASSWORD not in out.getvalue()

    sign_in(client, username="sanne")
    app = TOTPDevice.objects.get(user=user)
    assert devices.secret(app) == "JBSWY3DPEHPK3PXP"
    assert give_code(client, code(app))["Location"] == INDEX
    assert client.get(INDEX).status_code == 200


def test_create_backoffice_user_refuses_what_it_cannot_make(db, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="Groep 'Baas' bestaat niet"):
        call_command("create_backoffice_user", "x", "x@example.nl", "Baas", stdout=io.StringIO())
    with pytest.raises(CommandError, match="base32"):
        call_command(
            "create_backoffice_user",
            "x",
            "x@example.nl",
            "Medewerkers",
            totp_secret="kort",
            stdout=io.StringIO(),
        )
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "123")
    with pytest.raises(CommandError):
        call_command("create_backoffice_user", "x", "x@example.nl", "Medewerkers")
    out = io.StringIO()
    monkeypatch.setenv("BACKOFFICE_PASSWORD", PASSWORD)
    call_command(
        "create_backoffice_user", "x", "x@example.nl", "Medewerkers", dry_run=True, stdout=out
    )
    assert "Proef" in out.getvalue()
    assert not User.objects.filter(username="x").exists()
    assert not TOTPDevice.objects.exists()
    assert Group.objects.filter(name="Medewerkers").exists()


def test_create_local_admin_prints_a_secret_that_signs_in(client, settings, db):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("create_local_admin", stdout=out)
    password = re.search(r"wachtwoord:\s+(\S+)", out.getvalue())[1]
    secret = re.search(r"sleutel:\s+(\S+)", out.getvalue())[1]
    assert "otpauth://totp/" in out.getvalue()
    app = TOTPDevice.objects.get(user__username="admin")
    assert devices.secret(app) == secret
    sign_in(client, username="admin", password=password)
    assert give_code(client, code(app))["Location"] == INDEX
    assert client.get(INDEX).status_code == 200
    # Again: the same secret, no second device.
    again = io.StringIO()
    call_command("create_local_admin", stdout=again)
    assert secret in again.getvalue()
    assert TOTPDevice.objects.filter(user__username="admin").count() == 1
