"""/beheer/ opens on the overview: per role what it shows, every number as the database has
it (also after a cancellation, a payment and a credit note), each worklist's link to a list
with exactly that many rows, and a number of queries that does not grow with the data."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from programme.models import amsterdam_date
from registrations import overview as signup
from registrations.attendance.models import Attendance
from registrations.coaching.models import Coach, CoachSlot
from registrations.intake.models import Intake, save_answers
from registrations.invoicing import overview as invoicing_overview
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice, InvoiceLine
from registrations.models import Registration, WaitingListOffer
from registrations.payments import matching
from registrations.payments import overview as payments_overview
from registrations.payments.models import Payment
from tests.conftest import make_edition, make_ended_edition, make_registration
from werkplaats import formats

INDEX = "/beheer/"


def figure(html, edition, name):
    found = re.search(
        rf'data-edition="{edition.pk}".*?data-figure="{name}">(.*?)</dd>', html, re.DOTALL
    )
    assert found, f"no figure {name}"
    return re.sub(r"<.*?>", "", found[1]).strip()


def worklists(html):
    """{label: (count, url)} of the worklists on the page."""
    found = re.findall(
        r'<a href="([^"]+)" data-worklist="\d+"><span class="worklist-count">(\d+)</span> ([^<]+)</a>',
        html,
    )
    return {label: (int(count), url.replace("&amp;", "&")) for url, count, label in found}


def money_row(html, key):
    found = re.search(rf'<tr data-money="{key}">(.*?)</tr>', html, re.DOTALL)
    assert found, f"no money row {key}"
    return [re.sub(r"<.*?>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", found[1])]


@pytest.fixture
def world(db, invoicing):
    """An open edition (maximum 5) with confirmed, waiting, cancelled and offered people, two
    invoices (one paid), an order held for invoicing, last year's edition to compare with, and an ended edition whose
    participant is owed a certificate."""
    today = amsterdam_date(timezone.now())
    last_year = make_ended_edition(days_ago=20, title="Vorige werkplaats")
    edition = make_edition(capacity=5, venue_address="", venue_postcode="")
    # The third has no KvK number: held for invoicing until finance links its organisation.
    people = [make_registration(edition) for _ in range(2)]
    people.append(make_registration(edition, kvk_number=""))
    make_registration(edition, status=Registration.Status.WAITING)
    waiting = make_registration(edition, status=Registration.Status.WAITING)
    make_registration(edition, status=Registration.Status.CANCELLED)
    WaitingListOffer.objects.create(
        registration=waiting,
        offered_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(hours=5),
    )
    Registration.objects.filter(pk=people[0].pk).update(
        created_at=timezone.now() - datetime.timedelta(days=10)
    )
    for person in [make_registration(last_year) for _ in range(2)]:
        Registration.objects.filter(pk=person.pk).update(
            created_at=timezone.make_aware(
                datetime.datetime.combine(
                    last_year.start_date - datetime.timedelta(days=400), datetime.time(12)
                )
            )
        )
    first = issue_invoice([people[0]])
    second = issue_invoice([people[1]])
    matching.record_payment(second, today)
    # Ended a month ago, kept a month: anonymised within days, and its participant is owed a
    # certificate and late paying (a reminder is due).
    ended = make_ended_edition(retention_months=1)
    attended = make_registration(ended)
    Attendance.objects.create(registration=attended, date=ended.start_date, present=True)
    late = issue_invoice([attended], at=timezone.now() - datetime.timedelta(days=45))
    return {
        "late": late,
        "edition": edition,
        "last_year": last_year,
        "people": people,
        "first": first,
        "second": second,
        "today": today,
    }


def test_an_outsider_gets_the_login_not_the_overview(client):
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_see_the_places_and_their_worklists_but_no_money(client, staff_member, world):
    client.force_login(staff_member)
    html = client.get(INDEX).content.decode()
    edition = world["edition"]
    assert figure(html, edition, "confirmed") == "3 van 5"
    assert figure(html, edition, "waiting") == "2"
    assert figure(html, edition, "cancelled") == "1"
    assert figure(html, edition, "offered").startswith("1")
    # places_left, the one rule: 5 - 3 confirmed - 1 held by the open offer.
    assert figure(html, edition, "places_left") == "1"
    assert Registration.objects.places_left(edition) == 1
    assert 'id="money-title"' not in html and "Gefactureerd" not in html
    labels = set(worklists(html))
    assert "Wachtlijstaanbiedingen die binnen 24 uur verlopen" in labels
    assert "Bewijzen van deelname nog te mailen (editie afgelopen)" in labels
    assert "Facturen te crediteren" not in labels
    assert "Inschrijvingen nog te factureren" not in labels
    # The texts staff must still supply, each linked to its field.
    change = reverse("admin:programme_edition_change", args=[edition.pk])
    assert f"{change}#id_venue_address" in html
    # The list of models stays below the overview.
    assert reverse("admin:registrations_registration_changelist") in html


def test_finance_see_the_money_and_their_worklists(client, finance_user, world):
    client.force_login(finance_user)
    html = client.get(INDEX).content.decode()
    first, second = world["first"], world["second"]
    late = world["late"]
    total = money_row(html, "total")
    assert total[0] == money_text(sum(i.total_excl_vat for i in Invoice.objects.all()))
    assert total[1] == money_text(sum(i.total_incl_vat for i in Invoice.objects.all()))
    assert total[2] == money_text(second.total_incl_vat)
    assert total[3] == money_text(first.total_incl_vat + late.total_incl_vat)
    # Outstanding by age: the first not yet due, the late one 1-30 days late.
    assert (
        total[4:8]
        == [money_text(first.total_incl_vat), money_text(late.total_incl_vat)] + [money_text(0)] * 2
    )
    labels = set(worklists(html))
    assert "Facturen te crediteren" in labels
    assert "Bankregels in de wachtrij (niet gekoppeld)" in labels
    assert (
        "E-facturen via Peppol die aandacht vragen (geweigerd of langer dan 24 uur onderweg)"
        in labels
    )
    assert "Wachtlijstaanbiedingen die binnen 24 uur verlopen" not in labels
    assert "Openstaand naar leeftijd" in html


def test_a_superuser_sees_the_money_and_every_worklist(client, admin_user, world):
    client.force_login(admin_user)
    html = client.get(INDEX).content.decode()
    assert 'id="money-title"' in html
    assert len(worklists(html)) == 10


def test_the_money_follows_a_payment_and_a_credit_note(client, finance_user, world):
    client.force_login(finance_user)
    first, second, late = world["first"], world["second"], world["late"]
    per_edition, total = money_figures()
    assert total["incl"] == first.total_incl_vat + second.total_incl_vat + late.total_incl_vat
    assert total["paid"] == second.total_incl_vat
    matching.record_payment(first, world["today"])
    per_edition, total = money_figures()
    assert total["paid"] == first.total_incl_vat + second.total_incl_vat
    # Credit the paid first invoice: it nets to nothing, its money is due back.
    world["people"][0].cancel()
    credit_invoice(Invoice.objects.get(pk=first.pk))
    per_edition, total = money_figures()
    assert total["incl"] == second.total_incl_vat + late.total_incl_vat
    assert per_edition[world["edition"].pk]["incl"] == second.total_incl_vat
    assert total["refund_due"] == first.total_incl_vat
    html = client.get(INDEX).content.decode()
    assert money_row(html, "total")[-1] == money_text(first.total_incl_vat)
    edition = world["edition"]
    assert money_row(html, edition.pk)[1] == money_text(second.total_incl_vat)


def money_figures():
    return invoicing_overview.money_per_edition(amsterdam_date(timezone.now()))


def money_text(amount):
    return formats.money(amount)


def test_a_cancellation_changes_the_numbers(client, staff_member, world):
    client.force_login(staff_member)
    edition = world["edition"]
    world["people"][2].cancel()
    html = client.get(INDEX).content.decode()
    counts = Registration.objects.counts(edition)
    assert figure(html, edition, "confirmed") == f"{counts['confirmed']} van 5"
    assert figure(html, edition, "cancelled") == str(
        edition.registrations.filter(status=Registration.Status.CANCELLED).count()
    )
    assert figure(html, edition, "places_left") == str(Registration.objects.places_left(edition))


@pytest.mark.parametrize("persona", ["staff_member", "finance_user", "admin_user"])
def test_each_worklist_link_lists_exactly_that_many_rows(client, request, persona, world):
    world["people"][0].cancel()  # invoiced: its invoice waits to be credited
    client.force_login(request.getfixturevalue(persona))
    html = client.get(INDEX).content.decode()
    lists = worklists(html)
    assert lists
    for label, (count, url) in lists.items():
        response = client.get(url)
        assert response.status_code == 200, label
        assert response.context["cl"].result_count == count, label
    if persona == "admin_user":
        # Each kind of work is there once in this world, so no list passes by being empty.
        assert {label: count for label, (count, _url) in lists.items()} == {
            "Inschrijvingen nog te factureren": 3,  # one now, two of last year
            "Bestellingen die wachten op factuurgegevens": 1,
            "Facturen nog niet gemaild": 3,
            "Bankregels in de wachtrij (niet gekoppeld)": 0,
            "E-facturen via Peppol die aandacht vragen (geweigerd of langer dan 24 uur onderweg)": 0,
            "Herinneringen die vandaag weg moeten": 1,
            "Facturen te crediteren": 1,
            "Wachtlijstaanbiedingen die binnen 24 uur verlopen": 1,
            "Bewijzen van deelname nog te mailen (editie afgelopen)": 1,
            "Edities waarvan de bewaartermijn binnen 30 dagen afloopt": 1,
        }


def test_the_sign_ups_compare_with_last_year(client, staff_member, world):
    client.force_login(staff_member)
    html = client.get(INDEX).content.decode()
    edition = world["edition"]
    assert "op dit moment vorig jaar: 2" in html
    assert figure(html, edition, "last_year").startswith("2 ")
    assert signup.total_at({-5: 1, -2: 3}, -3) == 1
    assert f"aanmeldingen-{edition.pk}" in html


def test_check_in_today_during_the_days(client, staff_member, db):
    today = amsterdam_date(timezone.now())
    edition = make_edition(start_date=today, end_date=today + datetime.timedelta(days=1))
    # The third has no KvK number: held for invoicing until finance links its organisation.
    people = [make_registration(edition) for _ in range(2)]
    people.append(make_registration(edition, kvk_number=""))
    Attendance.objects.create(registration=people[0], date=today, present=True)
    client.force_login(staff_member)
    html = client.get(INDEX).content.decode()
    assert figure(html, edition, "present") == "1 van 3"


def test_an_empty_worklist_says_so(client, outsider, db):
    outsider.user_permissions.set([])
    client.force_login(outsider)
    html = client.get(INDEX).content.decode()
    assert "Er ligt niets op je te wachten." in html


def _bulk_world(size, today):
    """An open edition with `size` registrations, `size` invoices and `size` payments."""
    edition = make_edition(capacity=None)
    template = make_registration(edition)
    rows = []
    for number in range(size):
        row = Registration.objects.get(pk=template.pk)
        row.pk = None
        row.token = f"tok-{size}-{number}"
        row.email = f"p{size}-{number}@example.nl"
        rows.append(row)
    Registration.objects.bulk_create(rows)
    invoice = issue_invoice([template])
    copies = []
    for number in range(size):
        copy = Invoice.objects.get(pk=invoice.pk)
        copy.pk = None
        copy.number = f"BULK-{size}-{number}"
        copy.series = f"BULK-{size}-"
        copy.sequence = number + 1
        # Late: each is a candidate for a reminder, which the overview counts.
        copy.due_date = today - datetime.timedelta(days=40 + number % 50)
        copies.append(copy)
    Invoice.objects.bulk_create(copies)
    line = invoice.lines.get()
    lines = []
    for copy in copies:
        row = InvoiceLine.objects.get(pk=line.pk)
        row.pk, row.invoice = None, copy
        lines.append(row)
    InvoiceLine.objects.bulk_create(lines)
    Payment.objects.bulk_create(
        [
            Payment(
                state=Payment.State.UNMATCHED,
                amount=Decimal("10.00"),
                booking_date=today,
                counterparty_name="Gemeente",
            )
            for _ in range(size)
        ]
    )
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk load: without it the planner's statistics are
        # whatever a concurrent autovacuum happened to see, and a plan is a matter of luck.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


@pytest.mark.parametrize("persona", ["finance_user", "staff_member"])
def test_the_overview_queries_do_not_grow_with_the_data(client, request, persona, invoicing):
    user = request.getfixturevalue(persona)
    today = amsterdam_date(timezone.now())
    counts = []
    for size in (10, 1000):
        _bulk_world(size, today)
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(INDEX).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 40


def test_the_first_offer_to_expire_is_named(client, staff_member, world):
    with time_machine.travel(timezone.now(), tick=False):
        client.force_login(staff_member)
        html = client.get(INDEX).content.decode()
    assert "eerste verloopt" in figure(html, world["edition"], "offered")


@pytest.mark.parametrize(
    "days_late, column", [(0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (400, 3)]
)
def test_outstanding_falls_in_the_bucket_of_its_days_late(
    days_late, column, open_edition, invoicing
):
    today = amsterdam_date(timezone.now())
    # Noon in Amsterdam of the issue day: counting back whole days from "now" in UTC lands on
    # the day before or after in Amsterdam when the evening crosses midnight or summer time.
    issued_on = today - datetime.timedelta(days=invoicing.payment_term_days + days_late)
    at = datetime.datetime.combine(
        issued_on, datetime.time(12), tzinfo=timezone.get_current_timezone()
    )
    invoice = issue_invoice([make_registration(open_edition)], at=at)
    assert (today - invoice.due_date).days == days_late
    totals = payments_overview.outstanding(today)["totals"]
    assert totals[column] == invoice.total_incl_vat
    assert sum(totals) == invoice.total_incl_vat


def test_an_edition_numbered_in_the_thousands_is_found_by_its_number(client, staff_member, db):
    """Numbers in attributes are not localised: pk 1234 is data-edition="1234", not "1.234"
    (USE_THOUSAND_SEPARATOR)."""
    edition = make_edition(pk=1234)
    make_registration(edition)
    client.force_login(staff_member)
    html = client.get(INDEX).content.decode()
    assert 'data-edition="1234"' in html
    assert 'id="edition-1234-title"' in html
    assert figure(html, edition, "confirmed").startswith("1")


def test_staff_see_who_has_no_coach_conversation_or_case_yet_and_finance_not(
    client, staff_member, finance_user, world
):
    edition = world["edition"]
    fatima, pieter, _third = world["people"]
    coach = Coach.objects.create(name="Marieke Smit")
    CoachSlot.objects.create(
        edition=edition,
        coach=coach,
        day=edition.start_date,
        start=datetime.time(14, 0),
        end=datetime.time(14, 45),
        registration=fatima,
    )
    intake = Intake.objects.for_edition(edition)
    save_answers(pieter, [(intake.questions.first(), "Een buurt waar niemand elkaar kent.")])

    client.force_login(staff_member)
    html = client.get(INDEX).content.decode()
    assert figure(html, edition, "without_slot") == "2 van 3"
    assert figure(html, edition, "without_case") == "2 van 3"
    assert reverse("admin:coaching_coachslot_without_slot", args=[edition.pk]) in html
    assert reverse("admin:intake_intake_cases", args=[intake.pk]) in html

    client.force_login(finance_user)
    html = client.get(INDEX).content.decode()
    block = re.search(rf'data-edition="{edition.pk}"(.*?)</dl>', html, re.DOTALL)[1]
    assert 'data-figure="confirmed"' in block
    assert "without_slot" not in block and "without_case" not in block
