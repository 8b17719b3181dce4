"""The statistics pages in Chromium: axe-core (WCAG 2.1 AA) finds nothing on the page of an
edition and the page across editions, on a laptop and on a phone, and neither page needs
sideways scrolling. Screenshots of both sizes go to test-results/ to be looked at."""

import datetime

import pytest
from django.urls import reverse

from tests.browser_support import (
    axe_check,
    axe_report,
    browser_test,
    fits_width,
    result_dir,
    rules_run,
)
from tests.conftest import PASSWORD, make_edition, make_registration

pytestmark = browser_test

SIZES = {
    "laptop": {"viewport": {"width": 1366, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2},
}


def two_editions():
    earlier = make_edition(
        start_date=datetime.date(2025, 10, 6),
        end_date=datetime.date(2025, 10, 8),
        registration_deadline=datetime.date(2025, 9, 22),
    )
    make_registration(earlier, organisation="Gemeente Utrecht")
    edition = make_edition(capacity=6)
    sectors = ["gemeente", "welzijn", "onderwijs", "zorg", "sociaal", "corporatie", "gemeente"]
    for number, sector in enumerate(sectors):
        make_registration(
            edition,
            organisation=f"Maatschappelijke Dienstverlening Zuid-Oost {number}"
            if number
            else "Gemeente Utrecht",
            sector=sector,
            dietary_needs="vegetarisch" if number % 2 else "",
        )
    make_registration(edition, organisation="Woonstichting De Key").cancel()
    return edition


@pytest.mark.parametrize("size", SIZES)
def test_statistics_pages_have_no_axe_violations(open_page, request, staff_member, size):
    edition = two_editions()
    page = open_page(**SIZES[size])
    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(staff_member.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    pages = {
        "edition": reverse("admin:programme_edition_statistics", args=[edition.pk]),
        "all": reverse("admin:programme_edition_statistics_all"),
    }
    for name, url in pages.items():
        page.goto(url)
        page.locator("details").evaluate_all("all => all.forEach(d => d.open = true)")
        page.screenshot(path=result_dir(request.node) / f"{name}-{size}.png", full_page=True)

        results = axe_check(page)

        assert page.locator("svg.chart").count() >= 6
        assert len(rules_run(results)) > 50, "axe ran hardly any rules: did it load?"
        assert results.violations_count == 0, f"{name} ({size}):\n{axe_report(results)}"
        assert fits_width(page), f"{name} ({size}) needs sideways scrolling"
