"""The overview in Chromium, as staff and as finance: the numbers as the database has them,
a worklist clicked through to a list with exactly that many rows, and axe-core at a laptop's
and a phone's width."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from programme.models import amsterdam_date
from registrations.invoicing.issuing import issue_invoice
from registrations.invoicing.models import Invoice
from registrations.models import Registration, WaitingListOffer
from registrations.payments import matching
from tests.browser_support import axe_check, axe_report, browser_test, fits_width
from tests.conftest import (
    PASSWORD,
    make_edition,
    make_ended_edition,
    make_issuer,
    make_registration,
)
from werkplaats import formats

pytestmark = browser_test

SHOTS = Path("/tmp/shots-overview")
SIZES = {"laptop": (1366, 900), "phone": (390, 844)}


def signed_up_on(registration, day):
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    Registration.objects.filter(pk=registration.pk).update(created_at=moment)


def build_world():
    make_issuer()
    previous = make_ended_edition(days_ago=20, title="Werkplaats vorig jaar")
    for weeks in range(1, 9):
        person = make_registration(previous)
        signed_up_on(person, previous.start_date - datetime.timedelta(weeks=weeks * 6))
    edition = make_edition(capacity=6, venue_address="", venue_postcode="")
    people = [make_registration(edition) for _ in range(4)]
    today = amsterdam_date(timezone.now())
    for days, person in zip([30, 12, 5], people, strict=False):
        signed_up_on(person, today - datetime.timedelta(days=days))
    waiting = make_registration(edition, status=Registration.Status.WAITING)
    make_registration(edition, status=Registration.Status.WAITING)
    WaitingListOffer.objects.create(
        registration=waiting,
        offered_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(hours=6),
    )
    issue_invoice([people[0]])
    paid = issue_invoice([people[1]])
    matching.record_payment(paid, amsterdam_date(timezone.now()))
    people[3].cancel()
    return edition


def log_in(page, user):
    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(user.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()


def figure(page, edition, name):
    return page.locator(f'[data-edition="{edition.pk}"] [data-figure="{name}"]').inner_text()


@pytest.mark.parametrize("persona", ["staff_member", "finance_user"])
def test_the_overview_shows_the_database_and_its_worklists_lead_to_those_rows(
    open_page, request, persona, invoices_removed_afterwards
):
    user = request.getfixturevalue(persona)
    edition = build_world()
    page = open_page(viewport={"width": 1366, "height": 900})
    log_in(page, user)
    expect(page.get_by_role("heading", name="Wat er te doen is")).to_be_visible()

    counts = Registration.objects.counts(edition)
    assert figure(page, edition, "confirmed") == f"{counts['confirmed']} van 6"
    assert figure(page, edition, "waiting") == str(counts["waiting"])
    assert figure(page, edition, "offered").startswith(str(counts["offered"]))
    cancelled = edition.registrations.filter(status=Registration.Status.CANCELLED).count()
    assert figure(page, edition, "cancelled") == str(cancelled)
    assert figure(page, edition, "places_left") == str(Registration.objects.places_left(edition))

    money = page.locator('[data-money="total"] td')
    if persona == "finance_user":
        invoiced = sum(i.total_incl_vat for i in Invoice.objects.all())
        assert money.nth(1).inner_text() == formats.money(invoiced)
    else:
        expect(money).to_have_count(0)

    worklists = page.locator("[data-worklist]").count()
    assert worklists
    for n in range(worklists):
        page.goto("/beheer/")
        link = page.locator("[data-worklist]").nth(n)
        count = int(link.locator(".worklist-count").inner_text())
        link.click()
        expect(page.locator("#changelist")).to_be_visible()
        expect(page.locator("#result_list tbody tr")).to_have_count(count)


@pytest.mark.parametrize("persona", ["staff_member", "finance_user"])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_overview_passes_axe_and_fits_the_screen(
    open_page, request, persona, size, invoices_removed_afterwards
):
    user = request.getfixturevalue(persona)
    build_world()
    width, height = SIZES[size]
    page = open_page(viewport={"width": width, "height": height})
    log_in(page, user)
    expect(page.get_by_role("heading", name="Open en komende edities")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{persona}-{size}.png", full_page=True)
    results = axe_check(page)
    assert results.violations_count == 0, axe_report(results)
    assert fits_width(page)
