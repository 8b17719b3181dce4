"""What a participant sees first, on a 390 × 844 phone and a 1366 × 900 desktop: the facts
that decide (price excl. btw, dates, venue, deadline) and the button, without scrolling; the
button again after the text or kept in view; and screenshots of the page, the form, the
confirmation and both e-mails, saved under test-results/ to look at."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import call_command

from programme.models import Edition
from tests.browser_support import (
    axe_check,
    axe_report,
    browser_test,
    fits_width,
    focused,
    result_dir,
    tab_to,
)
from tests.conftest import make_edition
from werkplaats.formats import period

pytestmark = browser_test

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
SCREENS = {"phone": PHONE, "desktop": DESKTOP}
ACCENT = "rgb(179, 0, 60)"


def open_edition_at_full_length():
    """The published 2022 text, a year ahead and open: the page at its real length."""
    call_command("load_seed", stdout=io.StringIO())
    seed = Edition.objects.get(slug="werken-aan-wijkontwikkeling-2022")
    weeks = (datetime.date.today() - seed.start_date).days // 7 + 52
    edition = seed.duplicate(weeks=weeks)
    edition.is_published = True
    edition.capacity = 20
    edition.venue_address = "Postweg 1"
    edition.venue_postcode = "3941 AA"
    edition.save()
    return edition


def bottom(locator):
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not shown"
    return box["y"] + box["height"]


@pytest.mark.parametrize("screen", SCREENS)
def test_price_dates_venue_deadline_and_button_are_in_the_first_screen(open_page, screen):
    edition = open_edition_at_full_length()
    page = open_page(**SCREENS[screen])
    page.goto(edition.get_absolute_url())
    height = SCREENS[screen]["viewport"]["height"]
    card = page.locator(".signup-card")

    first_screen = {
        "price": card.get_by_text("€ 1.800,-"),
        # The whole range as the page writes it: "29 t/m" alone is not there when the three
        # days cross a month ("29 november t/m 1 december").
        "dates": card.get_by_text(period(edition.start_date, edition.end_date, weekdays=True)),
        "venue": card.get_by_text("Kaap Doorn Conferentiecentrum, Doorn"),
        "deadline": card.get_by_text("Open tot en met"),
        "button": card.get_by_role("link", name="Inschrijven voor de werkplaats"),
    }
    bottoms = {name: bottom(locator) for name, locator in first_screen.items()}

    assert all(value <= height for value in bottoms.values()), bottoms
    assert "exclusief btw" in card.inner_text()
    # The deadline is said once on the page.
    assert page.locator("main").inner_text().count("23:59") == 1


def test_on_the_phone_the_button_comes_again_after_the_text(open_page):
    edition = open_edition_at_full_length()
    page = open_page(**PHONE)
    page.goto(edition.get_absolute_url())

    buttons = page.get_by_role("link", name="Inschrijven voor de werkplaats")
    programme = page.get_by_role("heading", name="Programma", exact=True)

    assert buttons.count() == 2
    assert buttons.last.bounding_box()["y"] > programme.bounding_box()["y"]


def test_on_the_desktop_the_right_column_keeps_the_button_in_view(open_page):
    edition = open_edition_at_full_length()
    page = open_page(**DESKTOP)
    page.goto(edition.get_absolute_url())
    page_height = page.evaluate("document.documentElement.scrollHeight")
    assert page_height > 3000

    for y in (1500, 3000, page_height - 1200):
        page.evaluate(f"window.scrollTo(0, {y})")
        aside = page.get_by_role("complementary", name="Praktisch")
        box = aside.bounding_box()
        # Beside the text wherever the reader is: the column is never empty for long.
        assert 0 <= box["y"] and box["y"] + box["height"] <= 900, (y, box)
        button = aside.get_by_role("link", name="Inschrijven voor de werkplaats")
        assert button.is_visible()


def test_a_subsection_heading_is_not_larger_than_its_section_heading(page):
    call_command("load_seed", stdout=io.StringIO())
    page.goto("/")
    sizes = page.evaluate(
        "() => [...document.querySelectorAll('.content-section')].map(s => {"
        " const size = q => { const e = s.querySelector(q);"
        "   return e ? parseFloat(getComputedStyle(e).fontSize) : null; };"
        " return [size('h2'), size('h3')]; })"
    )
    pairs = [(h2, h3) for h2, h3 in sizes if h3 is not None]
    assert pairs, "no section with a subsection heading"
    assert all(h3 < h2 for h2, h3 in pairs), pairs


def test_fields_and_buttons_show_the_sites_own_focus_ring_and_clear_borders(page):
    edition = make_edition()
    page.goto(f"/werkplaats/{edition.slug}/inschrijven/")

    rings = {}
    for selector in ("#id_first_name", "#id_sector", "#id_accept_terms", "[type=submit]"):
        tab_to(page, selector)
        rings[focused(page)] = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor, s.boxShadow]; }"
        )
    border = page.locator("#id_first_name").evaluate("e => getComputedStyle(e).borderTopColor")

    for element, (style, width, colour, shadow) in rings.items():
        assert (style, colour, shadow) == ("solid", ACCENT, "none"), element
        assert width >= 3, element
    # #6c757d: 4.7:1 on white, where WCAG asks 3:1 for a field's boundary.
    assert border == "rgb(108, 117, 125)"


def test_favicon_is_the_sites_own_and_no_request_fails(page, site_url):
    edition = make_edition()
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(edition.get_absolute_url(), wait_until="networkidle")
    icon = page.locator("link[rel=icon]").get_attribute("href")

    assert icon.endswith(".svg")
    assert page.request.get(site_url + icon).status == 200
    assert page.request.get(site_url + "/favicon.ico").status == 200  # after the redirect
    assert failed == []


def _sign_up_in_the_browser(page, edition):
    page.goto(f"/werkplaats/{edition.slug}/inschrijven/")
    page.fill("#id_first_name", "Fatima")
    page.fill("#id_last_name", "El Amrani")
    page.fill("#id_email", "fatima@gemeente.example.nl")
    page.fill("#id_phone", "06 12345678")
    page.fill("#id_organisation", "Gemeente Utrecht")
    page.fill("#id_job_title", "Wijkregisseur")
    for name in ("sector", "role"):
        select = page.locator(f"#id_{name}")
        if select.count():
            select.select_option(index=1)
    page.fill("#id_dietary_needs", "vegetarisch")
    page.fill("#id_invoice_street", "Stadsplateau 1")
    page.fill("#id_invoice_postcode", "3521 AZ")
    page.fill("#id_invoice_city", "Utrecht")
    page.fill("#id_kvk_number", "30280353")
    for box in ("#id_accept_terms", "#id_accept_privacy"):
        if page.locator(box).count():
            page.check(box)
    page.get_by_role("button", name="Inschrijving versturen").click()
    page.wait_for_url("**/inschrijving/**")


def show_mail(page, message):
    """The mail's HTML part as a mail client shows it: a blank page, not under the site's
    Content-Security-Policy (which would drop the mail's inline styles)."""
    page.goto("about:blank")
    page.set_content(message.alternatives[0][0])


@pytest.mark.parametrize("screen", SCREENS)
def test_screenshots_of_the_journey_and_both_mails_look_whole(request, open_page, screen):
    """Saves page, form, confirmation and both e-mails; each fits the width and passes axe."""
    folder = result_dir(request.node)
    edition = open_edition_at_full_length()
    edition.terms = "VOORBEELD – Annuleren kan kosteloos tot en met de deadline."
    edition.save()
    page = open_page(**SCREENS[screen])
    problems = []

    def shoot(name):
        page.screenshot(path=folder / f"{screen}-{name}.png", full_page=True)
        if not fits_width(page):
            problems.append(f"{name}: scrolls sideways")
        results = axe_check(page)
        if results.violations_count:
            problems.append(f"{name}:\n{axe_report(results)}")

    page.goto(edition.get_absolute_url())
    shoot("1-workshop-page")
    page.goto(f"/werkplaats/{edition.slug}/inschrijven/")
    shoot("2-form")
    _sign_up_in_the_browser(page, edition)
    assert page.get_by_role("heading", level=1).inner_text() == "Je bent ingeschreven"
    shoot("3-confirmation")
    personal_page = page.url
    [confirmation] = [m for m in mail.outbox if m.to == ["fatima@gemeente.example.nl"]]
    show_mail(page, confirmation)
    shoot("4-confirmation-mail")

    page.goto(personal_page)
    page.get_by_role("link", name="Inschrijving annuleren").click()
    page.get_by_role("button", name="Ja, annuleer mijn inschrijving").click()
    page.wait_for_load_state()
    shoot("5-cancelled")
    [cancellation] = [
        m for m in mail.outbox if m.to == ["fatima@gemeente.example.nl"] and m is not confirmation
    ]
    show_mail(page, cancellation)
    shoot("6-cancellation-mail")

    assert problems == [], "\n".join(problems)
