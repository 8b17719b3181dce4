"""The lists staff and finance work in, as they see them on a 1366 px laptop screen."""

import os
import re
from pathlib import Path

from django.core import mail
from django.db.models import Sum
from playwright.sync_api import expect

from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice
from registrations.models import Registration
from tests.browser_support import browser_test
from tests.conftest import PASSWORD, make_edition, make_registration
from werkplaats.formats import money

pytestmark = browser_test

LAPTOP = {"viewport": {"width": 1366, "height": 900}}
SHOTS = Path(os.environ.get("SHOTS_DIR", "/tmp/shots-lists"))


def test_registrations_list_fits_a_laptop_screen_with_status_order_organisation_and_function(
    open_page, staff_member
):
    edition = make_edition(
        title="Werkplaats ‘Werken aan wijkontwikkeling’: samen bouwen aan sterke buurten"
    )
    for n in range(5):
        make_registration(
            edition,
            first_name="Maria-Christina",
            last_name=f"van den Berg-Hoogendoorn {n}",
            email=f"m.vandenberg{n}@westerkwartier.nl",
            organisation="Gemeente Westerkwartier, afdeling Sociaal Domein",
            job_title="Beleidsadviseur wijkgericht werken",
            status=Registration.Status.WAITING if n == 4 else None,
        )
    registration = Registration.objects.order_by("pk").first()

    page = open_page(**LAPTOP)
    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(staff_member.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.goto("/beheer/registrations/registration/")
    expect(page.locator("#nav-sidebar")).to_be_visible()

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "registrations-1366.png")
    table = page.locator("#result_list")
    status = page.locator("#result_list thead th.column-status_since")
    assert table.evaluate("t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")
    assert page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    box = status.bounding_box()
    assert box["x"] + box["width"] <= 1366
    row = page.locator("#result_list tbody tr", has_text=registration.full_name)
    expect(row).to_contain_text("Gemeente Westerkwartier, afdeling Sociaal Domein")
    expect(row).to_contain_text("Beleidsadviseur wijkgericht werken")
    expect(row).to_contain_text("bevestigd")
    row.get_by_role("link", name=registration.order.reference).click()
    expect(page).to_have_url(re.compile(rf"/order/{registration.order_id}/change/$"))
    expect(page.locator("#content")).to_contain_text(registration.order.reference)


def test_invoice_list_shows_the_totals_of_the_filter_on_a_laptop_screen(
    open_page, finance_user, invoicing, invoices_removed_afterwards
):
    edition = make_edition()
    invoices = [
        issue_invoice([make_registration(edition, first_name=name)])
        for name in ["Noor", "Daan", "Sanne"]
    ]
    credit_invoice(invoices[0])
    expected = Invoice.objects.aggregate(total=Sum("total_incl_vat"))["total"]

    page = open_page(**LAPTOP)
    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(finance_user.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.goto("/beheer/invoicing/invoice/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "invoices-1366.png", full_page=True)
    # Every column in view with the sidebar and the filters open: nothing scrolls sideways.
    table = page.locator("#result_list")
    assert table.evaluate("t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")
    for column in ["status_and_documents", "dates"]:
        box = page.locator(f"#result_list thead th.column-{column}").bounding_box()
        assert box["x"] + box["width"] <= 1366, column
    row = page.locator("#result_list tbody tr", has_text=invoices[1].number)
    expect(row).to_contain_text(invoices[1].customer_organisation)
    expect(row).to_contain_text(money(invoices[1].total_incl_vat))
    totals = page.locator("table.invoice-totals")
    expect(totals).to_contain_text("Totaal van 4 facturen in deze selectie")
    expect(totals.locator("tbody td").nth(2)).to_have_text(money(expected))


def test_resending_a_confirmation_shows_whom_and_what_before_it_sends(open_page, staff_member):
    edition = make_edition()
    registration = make_registration(edition, first_name="Sanne", last_name="Jansen")
    mail.outbox.clear()

    page = open_page(**LAPTOP)
    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(staff_member.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.goto("/beheer/registrations/registration/")
    page.locator("#result_list tbody tr", has_text="Sanne Jansen").locator(
        "input.action-select"
    ).check()
    page.locator("select[name=action]").select_option(label="Bevestiging opnieuw versturen")
    page.get_by_role("button", name="Uitvoeren").click()

    expect(page.locator("#mail-count")).to_have_text("De bevestiging gaat naar 1 persoon")
    expect(page.locator(".mail-recipients")).to_contain_text(registration.email)
    expect(page.locator(".mail-subject")).to_have_text(
        f"Bevestiging van je inschrijving: {edition.title}"
    )
    expect(page.locator(".mail-body")).to_contain_text("Beste Sanne")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "resend-confirmation-1366.png", full_page=True)
    assert mail.outbox == []

    page.get_by_role("button", name="Bevestiging opnieuw versturen").click()
    expect(page.locator(".messagelist")).to_contain_text("Bevestiging: 1 verstuurd.")
    assert [m.to for m in mail.outbox] == [[registration.email]]
