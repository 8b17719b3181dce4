"""Two-factor sign-in in Chromium: a stolen password opens nothing, the app's code and a
passkey (a virtual authenticator) both sign in, and the pages of the second step pass axe-core
at a laptop's and a phone's width (screenshots in test-results/ to look at)."""

from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import expect

from tests.browser_support import axe_check, axe_report, browser_test, fits_width, result_dir
from tests.conftest import PASSWORD, _user, make_edition, make_registration
from werkplaats.twofactor import devices

pytestmark = [*browser_test, pytest.mark.real_second_factor]

PHONE = {"width": 390, "height": 844}
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code(device):
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{value:0{device.digits}d}"


def sign_in_with_password(page, username, origin=""):
    page.goto(f"{origin}/beheer/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()


def assert_accessible(page, request, name):
    results = axe_check(page)
    assert results.response["violations"] == [], axe_report(results)
    assert fits_width(page), name
    page.screenshot(path=result_dir(request.node) / f"{name}.png", full_page=True)


def test_a_stolen_password_opens_no_admin_page_no_export_and_no_api(page, db):
    user = _user("anna", "Medewerkers")
    devices.add_app(user, SECRET)
    edition = make_edition()
    registration = make_registration(edition, first_name="Geheimnaam")
    sign_in_with_password(page, "anna")
    expect(page.get_by_role("heading", name="Inloggen: tweede stap")).to_be_visible()
    for url in [
        reverse("admin:index"),
        reverse("admin:registrations_registration_changelist"),
        reverse("admin:registrations_registration_change", args=[registration.pk]),
        reverse(
            "admin:programme_edition_attendance_csv",
            args=[edition.pk, edition.start_date.isoformat()],
        ),
        reverse("admin:programme_edition_statistics_csv", args=[edition.pk]),
        reverse("admin:autocomplete") + "?app_label=registrations&model_name=registration",
    ]:
        response = page.goto(url)
        assert urlsplit(page.url).path == reverse("admin:twofactor_verify"), url
        assert "Geheimnaam" not in response.text()
    # An API call from the page (with its session cookie) is refused as well.
    answer = page.request.get(reverse("admin:autocomplete"), max_redirects=0)
    assert answer.status == 302


def test_the_code_from_the_app_signs_in(page, site_url, db):
    user = _user("anna", "Medewerkers")
    app = devices.add_app(user, SECRET)
    sign_in_with_password(page, "anna")
    page.get_by_role("textbox", name="Code").fill(code(app))
    page.get_by_role("button", name="Bevestigen").click()
    expect(page).to_have_url(f"{site_url}{reverse('admin:index')}")
    expect(page.locator("#user-tools")).to_be_visible()


def test_a_new_account_sets_up_the_app_on_a_phone(open_page, request, db):
    user = _user("nina", "Medewerkers")
    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in_with_password(page, "nina")
    expect(page.get_by_role("heading", name="Tweestapsverificatie instellen")).to_be_visible()
    expect(page.locator(".twofactor-qr svg")).to_be_visible()
    assert_accessible(page, request, "instellen-telefoon")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert page.locator("#twofactor-secret").inner_text() == devices.secret(device)

    page.get_by_role("textbox", name="Code").fill(code(device))
    page.get_by_role("button", name="App koppelen").click()
    expect(page.get_by_role("heading", name="Herstelcodes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    assert_accessible(page, request, "herstelcodes-telefoon")
    page.get_by_role("link", name="Verder naar het beheer").click()
    expect(page.locator("#user-tools")).to_be_visible()


def test_the_second_step_on_a_phone_and_a_laptop(open_page, request, db):
    user = _user("anna", "Medewerkers")
    devices.add_app(user, SECRET)
    for name, viewport in [("telefoon", PHONE), ("laptop", {"width": 1280, "height": 900})]:
        page = open_page(viewport=viewport)
        sign_in_with_password(page, "anna")
        page.get_by_role("button", name="Bevestigen").click()
        expect(page.locator(".errornote")).to_be_visible()
        assert_accessible(page, request, f"tweede-stap-{name}")


def virtual_authenticator(page):
    """A platform authenticator with a fingerprint already given, as on a phone or laptop."""
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return session


def test_a_passkey_is_made_at_set_up_and_signs_in(open_page, request, site_url, settings, db):
    # A passkey belongs to a domain, never to an IP address: the site as http://localhost.
    origin = site_url.replace("127.0.0.1", "localhost")
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [origin]
    user = _user("nina", "Medewerkers")
    page = open_page()
    virtual_authenticator(page)

    sign_in_with_password(page, "nina", origin)
    expect(page.get_by_role("heading", name="Tweestapsverificatie instellen")).to_be_visible()
    assert_accessible(page, request, "instellen-laptop")
    page.get_by_role("button", name="Passkey maken").click()
    expect(page.get_by_role("heading", name="Herstelcodes")).to_be_visible()
    credential = WebAuthnCredential.objects.get(user=user)
    assert credential.confirmed
    # The unused app set-up is no second factor.
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()

    # Signed out (which ends every session), and in again: password, then the passkey.
    page.goto(f"{origin}/beheer/")
    page.get_by_role("button", name="Afmelden").click()
    sign_in_with_password(page, "nina", origin)
    expect(page.get_by_role("heading", name="Inloggen: tweede stap")).to_be_visible()
    assert_accessible(page, request, "tweede-stap-passkey")
    page.get_by_role("button", name="Bevestigen met je passkey").click()
    expect(page).to_have_url(f"{origin}{reverse('admin:index')}")
    expect(page.get_by_role("button", name="Afmelden")).to_be_visible()
    credential.refresh_from_db()
    assert credential.last_used_at is not None
    assert User.objects.get(pk=user.pk).is_active
