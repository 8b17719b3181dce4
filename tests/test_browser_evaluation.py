"""The evaluation and the network in Chromium on a phone: a participant present on two days
answers the evaluation once, shares their details with the others of the edition and stops
again; staff read the results beside the previous edition's. axe-core (WCAG 2.1 AA) finds
nothing on any of these pages, and none needs sideways scrolling on a phone."""

import datetime
import re

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from registrations.attendance.models import Attendance, edition_days
from registrations.evaluation.models import Invitation, Questionnaire, Response, submit
from registrations.network.models import Consent
from tests.browser_support import (
    axe_check,
    axe_report,
    browser_test,
    fits_width,
    result_dir,
    rules_run,
)
from tests.conftest import PASSWORD, _user, make_ended_edition, make_registration

pytestmark = browser_test

PHONE = {"width": 390, "height": 844}
PROMISE = "Heb je inspiratie, lol en plezier gehad?"


def present(edition, days=2, **fields):
    registration = make_registration(edition, **fields)
    for day in edition_days(edition)[:days]:
        Attendance.objects.update_or_create(
            registration=registration, date=day, defaults={"present": True}
        )
    return registration


def looks_right(page, request, name):
    """axe finds nothing, the page fits the phone, and a screenshot to look at."""
    results = axe_check(page)
    assert len(rules_run(results)) > 50, "axe ran hardly any rules: did it load?"
    assert results.violations_count == 0, axe_report(results)
    assert fits_width(page), f"{name} needs sideways scrolling on a phone"
    page.screenshot(path=result_dir(request.node) / f"{name}.png", full_page=True)


def test_a_participant_present_on_two_days_answers_once_on_a_phone(open_page, request):
    edition = make_ended_edition(days_ago=2)
    sanne = present(edition, first_name="Sanne", email="sanne@example.nl")
    page = open_page(viewport=PHONE, is_mobile=True)

    page.goto(sanne.get_absolute_url())
    page.get_by_role("link", name="Vul de evaluatie in").click()
    expect(page.get_by_role("heading", name="Evaluatie")).to_be_visible()
    expect(page.get_by_text("Je antwoorden worden anoniem bewaard")).to_be_visible()
    looks_right(page, request, "evaluation-form")

    page.get_by_role("group", name=PROMISE).get_by_label("5").check()
    page.get_by_role("group", name="Welk cijfer geef je de werkplaats?").get_by_label("9").check()
    page.get_by_label("Wat neem je mee?").fill("Vaker de wijk in met bewoners.")
    page.get_by_role("button", name="Evaluatie versturen").click()
    expect(page.get_by_role("heading", name="Bedankt voor je antwoorden")).to_be_visible()
    looks_right(page, request, "evaluation-thanks")

    page.goto(reverse("evaluation:answer", args=[sanne.token]))
    expect(page.get_by_text("Je hebt de evaluatie al ingevuld.")).to_be_visible()
    looks_right(page, request, "evaluation-already-answered")

    response = Response.objects.get()
    assert sorted(response.answers.values_list("value", "text")) == [
        ("", "Vaker de wijk in met bewoners."),
        ("5", ""),
        ("9", ""),
    ]
    assert Invitation.objects.get(registration=sanne).answered


def test_a_participant_shares_with_the_network_and_stops_on_a_phone(open_page, request):
    edition = make_ended_edition(days_ago=2)
    noor = present(edition, first_name="Noor", email="noor@example.nl", job_title="Buurtcoach")
    sanne = present(edition, first_name="Sanne", email="sanne@example.nl")
    Consent.objects.give(noor)
    page = open_page(viewport=PHONE, is_mobile=True)

    page.goto(sanne.get_absolute_url())
    expect(page.get_by_role("heading", name="Netwerk van deze editie")).to_be_visible()
    assert "noor@example.nl" not in page.content()  # not before sharing herself
    page.get_by_role("button", name="Deel mijn gegevens").click()
    expect(page.get_by_role("link", name="noor@example.nl")).to_be_visible()
    expect(page.get_by_text("Buurtcoach")).to_be_visible()
    looks_right(page, request, "network-shared")

    page.get_by_role("button", name="Stop met delen").click()
    expect(page.get_by_role("button", name="Deel mijn gegevens")).to_be_visible()
    assert "noor@example.nl" not in page.content()
    looks_right(page, request, "network-stopped")
    consent = Consent.objects.get(registration=sanne)
    assert consent.withdrawn_on is not None
    assert consent.email == ""


def test_staff_read_the_results_beside_the_previous_edition(open_page, request):
    before = make_ended_edition(days_ago=400)
    edition = make_ended_edition(days_ago=2)
    for registration in (present(before), present(edition), present(edition)):
        Invitation.objects.create(registration=registration)
    for registration, mark in (
        (before.registrations.get(), "3"),
        (edition.registrations.first(), "5"),
    ):
        question = Questionnaire.objects.for_edition(registration.edition).questions.first()
        day_after = registration.edition.end_date + datetime.timedelta(days=1)
        moment = timezone.make_aware(datetime.datetime.combine(day_after, datetime.time(10)))
        submit(registration, [(question, mark, "")], at=moment)
    last = Questionnaire.objects.for_edition(edition).questions.last()
    submit(edition.registrations.last(), [(last, "", "Meer tijd voor casussen")])
    user = _user("anna", "Medewerkers")
    page = open_page(viewport=PHONE, is_mobile=True)

    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(user.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    questionnaire = Questionnaire.objects.get(edition=edition)
    page.goto(reverse("admin:evaluation_questionnaire_results", args=[questionnaire.pk]))
    expect(page.get_by_role("heading", name=re.compile("Resultaten evaluatie"))).to_be_visible()
    expect(page.get_by_role("cell", name="100%")).to_have_count(2)
    expect(page.get_by_text("Meer tijd voor casussen")).to_be_visible()
    assert page.locator("svg.chart-bars").count() == 10
    looks_right(page, request, "evaluation-results")

    page.goto(reverse("admin:evaluation_questionnaire_change", args=[questionnaire.pk]))
    results = axe_check(page)
    assert results.violations_count == 0, axe_report(results)
    page.screenshot(path=result_dir(request.node) / "evaluation-admin.png", full_page=True)
