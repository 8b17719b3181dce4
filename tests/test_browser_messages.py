"""Staff sending a group message in Chromium: from the edition to a new message, its preview
and test, sending it, and who got it; the preparation material on the participant's page.
axe-core finds no violation on any of these pages."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from registrations.messages.models import Material, Message, Recipient
from registrations.models import Registration
from tests.browser_support import axe_check, axe_report, browser_test
from tests.conftest import PASSWORD, make_edition, make_registration, tiny_pdf

pytestmark = browser_test


def log_in(page, user):
    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(user.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()


def no_violations(page, where):
    results = axe_check(page)
    assert results.violations_count == 0, f"{where}:\n{axe_report(results)}"


@pytest.fixture
def edition(db):
    edition = make_edition(what_to_bring="Je eigen casus")
    make_registration(edition, first_name="Fatima", email="fatima@example.nl")
    make_registration(edition, first_name="Pieter", email="pieter@example.nl")
    make_registration(
        edition, first_name="Wim", email="wim@example.nl", status=Registration.Status.WAITING
    )
    return edition


def test_staff_send_a_group_message(open_page, staff_member, edition, mailoutbox):
    page = open_page(viewport={"width": 1366, "height": 900})
    log_in(page, staff_member)
    page.goto(f"/beheer/programme/edition/{edition.pk}/change/")
    page.get_by_role("link", name="Nieuw bericht aan deelnemers").click()
    expect(page.get_by_label("Onderwerp")).to_be_visible()
    no_violations(page, "new message")

    page.get_by_label("Onderwerp").fill("Neem je casus mee, {voornaam}")
    page.locator("#id_body").fill("Beste {voornaam},\n\nNeem mee: {meenemen}.")
    page.locator("#id_group").select_option("confirmed")
    page.get_by_role("button", name="Opslaan", exact=True).click()

    expect(page.get_by_role("heading", name="Wie het krijgt: 2 deelnemers")).to_be_visible()
    expect(page.get_by_text("Neem mee: Je eigen casus.")).to_be_visible()
    no_violations(page, "preview")

    page.get_by_role("button", name="Stuur een test naar mijzelf").click()
    expect(page.get_by_text(f"Een test gaat naar {staff_member.email}")).to_be_visible()
    assert [m.to for m in mailoutbox] == [[staff_member.email]]
    no_violations(page, "after the test")

    page.get_by_role("button", name="Versturen aan 2 deelnemers").click()
    expect(page.get_by_text("Het bericht gaat naar 2 deelnemers")).to_be_visible()
    assert sorted(m.to[0] for m in mailoutbox[1:]) == ["fatima@example.nl", "pieter@example.nl"]
    message = Message.objects.get()
    assert sorted(message.recipients.values_list("status", flat=True)) == ["sent", "sent"]
    expect(page.get_by_role("button", name="Opnieuw versturen…")).to_be_visible()
    no_violations(page, "sent")

    page.goto(f"/beheer/participant_messages/message/{message.pk}/change/")
    expect(page.get_by_text("Ontvangers")).to_be_visible()
    no_violations(page, "the sent message and who got it")
    assert Recipient.objects.count() == 2


def test_material_pages_pass_axe(open_page, staff_member, edition):
    page = open_page(viewport={"width": 1366, "height": 900})
    log_in(page, staff_member)
    page.goto("/beheer/participant_messages/material/add/")
    expect(page.get_by_label("Titel")).to_be_visible()
    no_violations(page, "add material")

    material = Material.objects.create(
        edition=edition, title="Slagkracht in de wijk", release_on=timezone.localdate()
    )
    material.store(tiny_pdf(), "slagkracht.pdf")
    fatima = Registration.objects.get(first_name="Fatima")
    page.goto(fatima.get_absolute_url())
    expect(page.get_by_role("heading", name="Voorbereiding")).to_be_visible()
    expect(page.get_by_role("link", name="Slagkracht in de wijk")).to_be_visible()
    no_violations(page, "personal page with material")
