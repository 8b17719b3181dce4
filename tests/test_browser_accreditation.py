"""Accreditation in Chromium: staff check in mornings and afternoons on a tablet, a participant
gives her registration number (a wrong one is refused), the sign-up form asks for it, the
verification page shows the points without the number, and the register's admin pages.
axe-core (WCAG 2.1 AA) finds nothing on any of them."""

import os
from decimal import Decimal
from pathlib import Path

from django.urls import reverse
from playwright.sync_api import expect

from registrations.accreditation.models import Entry, NumberFormat, Register
from registrations.attendance.models import Attendance, Certificate, Part, edition_days
from tests.browser_support import axe_check, axe_report, browser_test, fits_width, rules_run
from tests.conftest import PASSWORD, make_edition, make_ended_edition, make_registration

pytestmark = browser_test

# A tablet lying on the check-in desk: landscape.
TABLET = {"viewport": {"width": 1024, "height": 768}, "is_mobile": True, "has_touch": True}
SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots-accreditation"))


def registerplein(edition):
    return Register.objects.create(
        edition=edition,
        name="Registerplein",
        accreditation_id="RP-2030-0815",
        points=Decimal("18"),
        hours_per_part=Decimal("3"),
        number_format=NumberFormat.REGISTERPLEIN,
    )


def log_in(page, user):
    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(user.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()


def no_violations(page):
    results = axe_check(page)
    assert len(rules_run(results)) > 30, "axe ran hardly any rules: did it load?"
    assert results.violations_count == 0, axe_report(results)


def test_staff_check_in_mornings_and_afternoons_on_a_tablet(open_page, staff_member):
    edition = make_ended_edition()
    registerplein(edition)
    sanne = make_registration(edition, first_name="Sanne", last_name="de Vries")
    make_registration(edition, first_name="Piet", last_name="Bakker")
    first, second, _third = edition_days(edition)

    page = open_page(**TABLET)
    log_in(page, staff_member)
    page.goto(reverse("admin:programme_edition_checkin", args=[edition.pk]))
    expect(page.get_by_text("Vink per dagdeel (ochtend en middag) aan")).to_be_visible()
    assert fits_width(page)
    no_violations(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "checkin-tablet.png", full_page=True)

    page.locator(f'input[value="{sanne.pk}:{first}:ochtend"]').check()
    page.locator(f'input[value="{sanne.pk}:{first}:middag"]').check()
    page.locator(f'input[value="{sanne.pk}:{second}:ochtend"]').check()
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_text("Aanwezigheid opgeslagen.")).to_be_visible()
    no_violations(page)
    present = set(Attendance.objects.present().values_list("registration_id", "date", "part"))
    assert present == {
        (sanne.pk, first, Part.MORNING),
        (sanne.pk, first, Part.AFTERNOON),
        (sanne.pk, second, Part.MORNING),
    }


def test_the_whole_day_check_in_page_still_passes_axe(open_page, staff_member):
    edition = make_ended_edition()
    make_registration(edition, first_name="Sanne", last_name="de Vries")
    page = open_page(**TABLET)
    log_in(page, staff_member)
    page.goto(reverse("admin:programme_edition_checkin", args=[edition.pk]))
    expect(page.get_by_text("Vink per dag aan")).to_be_visible()
    assert fits_width(page)
    no_violations(page)


def test_a_participant_gives_her_registration_number_and_a_wrong_one_is_refused(page):
    edition = make_edition()
    registerplein(edition)
    registration = make_registration(edition, first_name="Sanne", last_name="de Vries")
    page.goto(registration.get_absolute_url())
    expect(page.get_by_role("heading", name="Accreditatiepunten")).to_be_visible()
    field = page.get_by_label("Registratienummer Registerplein")
    field.fill("12345")
    page.get_by_role("button", name="Registratienummer opslaan").click()
    expect(page.get_by_text("begint met 4610")).to_be_visible()
    expect(page.get_by_label("Registratienummer Registerplein")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert not Entry.objects.exists()
    no_violations(page)

    page.get_by_label("Registratienummer Registerplein").fill("4610123456")
    page.get_by_role("button", name="Registratienummer opslaan").click()
    expect(page.get_by_role("status").filter(has_text="opgeslagen")).to_be_visible()
    expect(page.get_by_label("Registratienummer Registerplein")).to_have_value("4610123456")
    no_violations(page)
    assert Entry.objects.get().number == "4610123456"


def test_the_sign_up_form_of_an_accredited_edition_asks_for_the_register(page):
    edition = make_edition()
    registerplein(edition)
    page.goto(reverse("registrations:register", args=[edition.slug]))
    expect(page.get_by_label("In welk register sta je?")).to_be_visible()
    expect(page.get_by_label("Je registratienummer")).to_be_visible()
    no_violations(page)


def test_the_verification_page_shows_the_points_without_the_number(page):
    edition = make_ended_edition()
    register = registerplein(edition)
    sanne = make_registration(edition, first_name="Sanne", last_name="de Vries")
    Entry.objects.create(registration=sanne, register=register, number="4610123456")
    Attendance.objects.record(edition, edition_days(edition), {(sanne.pk, edition.start_date)})
    certificate = Certificate.objects.issue(sanne)
    page.goto(reverse("attendance:verify", args=[certificate.code]))
    expect(page.get_by_role("heading", name="Accreditatie")).to_be_visible()
    expect(page.get_by_text("RP-2030-0815")).to_be_visible()
    assert "4610123456" not in page.content()
    no_violations(page)


def test_the_register_pages_of_the_back_office(open_page, staff_member):
    edition = make_ended_edition()
    register = registerplein(edition)
    sanne = make_registration(edition, first_name="Sanne", last_name="de Vries")
    Entry.objects.create(registration=sanne, register=register, number="4610123456")
    make_registration(edition, first_name="Piet", last_name="Bakker")
    page = open_page(viewport={"width": 1366, "height": 900})
    log_in(page, staff_member)
    page.goto(reverse("admin:accreditation_register_change", args=[register.pk]))
    expect(page.get_by_role("link", name="Punten voor Registerplein (csv)")).to_be_visible()
    no_violations(page)
    page.goto(reverse("admin:accreditation_entry_changelist"))
    expect(page.get_by_text("4610123456")).to_be_visible()
    no_violations(page)
    page.goto(
        reverse("admin:registrations_registration_changelist") + "?registratienummer=ontbreekt"
    )
    expect(page.locator("#result_list")).to_contain_text("Bakker")
    expect(page.locator("#result_list")).not_to_contain_text("de Vries")
    no_violations(page)
