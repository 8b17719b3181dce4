"""WCAG 2.1 AA in Chromium: axe-core on every public page state, keyboard use, reflow."""

import pytest

from tests.browser_support import (
    EXPECTED_STATUS,
    PAGE_STATES,
    axe_check,
    axe_report,
    browser_test,
    fits_width,
    focused,
    rules_run,
)
from tests.conftest import make_edition

pytestmark = browser_test


@pytest.mark.parametrize("state", PAGE_STATES)
def test_public_page_has_no_axe_violations(page, settings, state):
    response = PAGE_STATES[state](page, settings)
    assert response.status == EXPECTED_STATUS.get(state, response.status)

    results = axe_check(page)

    assert len(rules_run(results)) > 50, "axe ran hardly any rules: did it load?"
    assert results.violations_count == 0, f"{state}:\n{axe_report(results)}"


@pytest.mark.parametrize("state", PAGE_STATES)
def test_public_page_needs_no_horizontal_scrolling_at_320px_and_200_percent_zoom(
    open_page, settings, state
):
    page = open_page(viewport={"width": 320, "height": 640}, device_scale_factor=2)
    PAGE_STATES[state](page, settings)
    overflowing = (
        "() => [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)"
        ".slice(0, 5).map(e => e.outerHTML.slice(0, 120))"
    )

    # WCAG 1.4.10 reflow: 320 CSS pixels wide, no scrolling in two directions.
    assert fits_width(page), page.evaluate(overflowing)
    # A 1280-pixel window zoomed to 200%: 640 CSS pixels at two device pixels each.
    page.set_viewport_size({"width": 640, "height": 450})
    assert fits_width(page), page.evaluate(overflowing)


def test_pages_are_dutch_and_landmarks_are_labelled(page):
    edition = make_edition()
    page.goto(edition.get_absolute_url())

    assert page.get_attribute("html", "lang") == "nl"
    assert page.get_by_role("banner", name="Kop van de site").is_visible()
    assert page.get_by_role("contentinfo", name="Voettekst").is_visible()
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("complementary", name="Praktisch").is_visible()


def test_skip_link_is_first_and_moves_focus_to_the_content(page):
    edition = make_edition()
    page.goto(edition.get_absolute_url())

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Naar de inhoud")
    assert focused(page) == "a.skip-link"
    box = skip_link.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0, "the skip link stays off screen when focused"

    page.keyboard.press("Enter")
    assert focused(page) == "main#inhoud"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


def test_keyboard_focus_is_visible_on_links_buttons_and_fields(page):
    edition = make_edition()
    page.goto(f"/werkplaats/{edition.slug}/inschrijven/")

    outlines = {}
    for selector in ("a[href]:not(.skip-link)", "#id_first_name", "#id_sector", "#id_accept_terms"):
        element = page.locator(selector).first
        element.focus()
        # Focus by script does not always count as keyboard focus; one Tab and Shift+Tab does.
        page.keyboard.press("Tab")
        page.keyboard.press("Shift+Tab")
        outlines[selector] = element.evaluate(
            "e => { const s = getComputedStyle(e);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth), s.boxShadow]; }"
        )

    # The site's own ring everywhere, not Bootstrap's pale glow in its place.
    for selector, (style, width, shadow) in outlines.items():
        assert style != "none" and width >= 2, (selector, style, width, shadow)
