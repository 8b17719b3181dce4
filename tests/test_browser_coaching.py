"""The own case and the coach conversation in Chromium: a colleague signed up by a booker goes
from their first mail to a case and a booked slot; a coach logs in and sees their schedule.
axe-core (WCAG 2.1 AA) finds nothing on either page."""

import datetime
import re

from django.core import mail
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from registrations.coaching.models import Coach, CoachSlot
from registrations.models import Registration
from tests.browser_support import axe_check, axe_report, browser_test, rules_run
from tests.conftest import PASSWORD, _user, make_edition, make_registration, sign_up_data

pytestmark = browser_test


def slots(edition, coach, hours, room="Zaal 2"):
    return [
        CoachSlot.objects.create(
            edition=edition,
            coach=coach,
            day=edition.start_date,
            start=datetime.time(hour, 0),
            end=datetime.time(hour, 45),
            room=room,
        )
        for hour in hours
    ]


def test_a_bookers_colleague_goes_from_the_first_mail_to_a_case_and_a_booked_slot(page):
    edition = make_edition(capacity=20)
    coach = Coach.objects.create(name="Marieke Smit", about="Twintig jaar wijkaanpak")
    slots(edition, coach, [14, 15])
    # The booker signs up herself and one colleague; the colleague gets their own mail.
    data = sign_up_data()
    data.update(
        {
            "collega-TOTAL_FORMS": "1",
            "collega-INITIAL_FORMS": "0",
            "collega-0-first_name": "Joost",
            "collega-0-last_name": "de Vries",
            "collega-0-email": "joost@gemeente.example.nl",
            "collega-0-overnight_stay": "ja",
        }
    )
    response = Client().post(reverse("registrations:register", args=[edition.slug]), data)
    assert response.status_code == 302
    [first_mail] = [m for m in mail.outbox if m.to == ["joost@gemeente.example.nl"]]
    link = re.search(r"https?://\S+(/inschrijving/[\w-]+/)", first_mail.body)[1]
    colleague = Registration.objects.get(email="joost@gemeente.example.nl")
    assert link == colleague.get_absolute_url()

    page.goto(link)
    expect(page.get_by_role("heading", name="Je eigen casus")).to_be_visible()
    page.get_by_label("Je opgave of casus").fill("Overvecht: bewoners en professionals samen")
    page.get_by_label("Je vraag aan de werkplaats").fill("Hoe houd ik het vol?")
    page.get_by_role("button", name="Casus opslaan").click()
    expect(page.get_by_role("status").filter(has_text="Je casus is opgeslagen.")).to_be_visible()
    expect(page.get_by_label("Je opgave of casus")).to_have_value(
        "Overvecht: bewoners en professionals samen"
    )
    results = axe_check(page)
    assert len(rules_run(results)) > 50, "axe ran hardly any rules: did it load?"
    assert results.violations_count == 0, axe_report(results)

    page.get_by_label(re.compile("15:00–15:45 uur")).check()
    mail.outbox.clear()
    page.get_by_role("button", name="Coachgesprek boeken").click()
    expect(page.get_by_text("Je gesprek:")).to_contain_text("15:00–15:45 uur, Zaal 2")
    expect(page.get_by_role("link", name="Zet in je agenda (.ics)").last).to_be_visible()
    results = axe_check(page)
    assert results.violations_count == 0, axe_report(results)

    slot = CoachSlot.objects.get(registration=colleague)
    assert slot.start == datetime.time(15, 0)
    assert sorted(colleague.case_answers.values_list("text", flat=True)) == [
        "Hoe houd ik het vol?",
        "Overvecht: bewoners en professionals samen",
    ]
    [booking_mail] = mail.outbox
    assert booking_mail.to == ["joost@gemeente.example.nl"]
    assert booking_mail.attachments[0][0] == "coachgesprek.ics"


def test_a_coach_logs_in_and_sees_their_schedule_with_each_persons_case(page):
    edition = make_edition()
    user = _user("marieke", "Coaches")
    coach = Coach.objects.create(name="Marieke Smit", user=user)
    other = Coach.objects.create(name="Ander")
    mine, free = slots(edition, coach, [14, 15])
    [theirs] = slots(edition, other, [14], room="Zaal 3")
    fatima = make_registration(edition, first_name="Fatima", own_case="Kanaleneiland")
    joost = make_registration(
        edition, first_name="Joost", email="j@example.nl", own_case="Overvecht"
    )
    CoachSlot.objects.assign(mine, fatima)
    CoachSlot.objects.assign(theirs, joost)

    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(user.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    # The front page offers one thing: the slots, which open on the coach's own schedule.
    page.locator("a[href='/beheer/coaching/coachslot/']").first.click()
    expect(page.get_by_role("heading", name="Je rooster, Marieke Smit")).to_be_visible()
    expect(page.get_by_text("Kanaleneiland")).to_be_visible()
    expect(page.get_by_text("15:00–15:45 uur, Zaal 2 – vrij")).to_be_visible()
    assert "Overvecht" not in page.content()
    results = axe_check(page)
    assert results.violations_count == 0, axe_report(results)
    with page.expect_download() as download:
        page.get_by_role("link", name="Pdf om te printen").click()
    assert download.value.suggested_filename == f"rooster-{edition.slug}.pdf"
    assert free.registration is None
