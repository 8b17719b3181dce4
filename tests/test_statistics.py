"""The statistics pages: the figures of a small hand-built edition, exactly; the CSV; who may
see them; figures that stay the same when the retention job erases personal data; and a
number of queries that does not grow with the registrations."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registrations import retention, statistics
from registrations.models import Registration, RetentionRecord
from registrations.organisations.models import Organisation
from tests.conftest import make_edition, make_registration

START = datetime.date(2027, 3, 8)  # the edition runs 8 to 10 March 2027
EARLIER = datetime.date(2025, 10, 6)
OIN = "00000001234567890000"


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def waited_then_confirmed(registration):
    # A state to start from (the transitions have their own tests): waited, then got a place.
    Registration.objects.filter(pk=registration.pk).update(status=Registration.Status.CONFIRMED)


def cancelled_on(registration, day):
    Registration.objects.filter(pk=registration.pk).update(
        status=Registration.Status.CANCELLED, cancelled_at=at(day)
    )


@pytest.fixture
def world(db):
    """Two editions: an earlier one with Gemeente Utrecht, and the edition we look at."""
    with time_machine.travel(at(EARLIER - datetime.timedelta(days=60)), tick=False):
        earlier = make_edition(
            start_date=EARLIER,
            end_date=EARLIER + datetime.timedelta(days=2),
            registration_deadline=EARLIER - datetime.timedelta(days=14),
        )
        make_registration(earlier, organisation="Gemeente Utrecht")
    with time_machine.travel(at(START - datetime.timedelta(days=100)), tick=False):
        edition = make_edition(
            start_date=START,
            end_date=START + datetime.timedelta(days=2),
            registration_deadline=START - datetime.timedelta(days=14),
            retention_months=12,
        )
        make_registration(edition, organisation="Gemeente Utrecht", dietary_needs="vegetarisch")
        make_registration(
            edition,
            organisation=" gemeente  UTRECHT",
            role="manager",
            overnight_stay=False,
            kvk_number="",
            oin=OIN,
        )
        make_registration(
            edition,
            organisation="Wijkteam Noord",
            sector="welzijn",
            role="professional",
            dietary_needs="halal",
            kvk_number="",
        )
        waited_then_confirmed(
            make_registration(
                edition,
                organisation="Stichting Buurtkracht",
                sector="sociaal",
                role="adviseur",
                status=Registration.Status.WAITING,
            )
        )
        # Waiting, with a diet: not a participant, so not in the diet count. Whoever signs up
        # after them waits as well (nobody jumps the queue): the two who cancel below.
        make_registration(
            edition,
            organisation="Buurtteam Oost",
            dietary_needs="veganistisch",
            status=Registration.Status.WAITING,
        )
        cancelled_on(
            make_registration(edition, organisation="Gemeente Zwolle"),
            START - datetime.timedelta(days=10),
        )
        cancelled_on(
            make_registration(edition, organisation="Gemeente Zwolle", dietary_needs="koosjer"),
            START - datetime.timedelta(days=60),
        )
    return {"earlier": earlier, "edition": edition}


def figures_of(edition):
    return {figure.key: figure.rows for figure in statistics.edition_figures(edition)}


def test_the_figures_of_an_edition_count_what_the_database_holds(world):
    figures = figures_of(world["edition"])

    assert figures["sector"] == [
        ("Gemeente", 2),
        ("Sociaal en gemeenschapswerk", 1),
        ("Welzijnsinstelling", 1),
    ]
    assert figures["role"] == [
        ("Adviseur", 1),
        ("Manager", 1),
        ("Programma- of projectleider", 1),
        ("Uitvoerend professional", 1),
    ]
    # Two spellings of one organisation count as one, under its tidiest spelling.
    assert figures["organisation"] == [
        ("Gemeente Utrecht", 2),
        ("Stichting Buurtkracht", 1),
        ("Wijkteam Noord", 1),
    ]
    assert figures["kind"] == [
        ("bedrijf, stichting of vereniging (KvK-nummer)", 2),
        ("niet opgegeven", 1),
        ("overheid (OIN)", 1),
    ]
    # Gemeente Utrecht had a participant at the earlier edition.
    assert figures["returning"] == [("nieuw", 2), ("terugkerend", 1)]
    assert figures["waiting"] == [
        ("op de wachtlijst gestaan", 4),
        ("daarna bevestigd", 1),
        ("nog wachtend", 1),
        ("geannuleerd", 2),
    ]
    assert figures["cancellations"] == [
        ("8 weken of meer ervoor", 1),
        ("4 tot 8 weken ervoor", 0),
        ("2 tot 4 weken ervoor", 0),
        ("1 tot 2 weken ervoor", 1),
        ("minder dan 1 week ervoor", 0),
        ("op of na de eerste dag", 0),
    ]
    assert figures["overnight"] == [("overnacht", 3), ("overnacht niet", 1)]
    assert figures["diets"] == [("met dieetwens", 2), ("zonder dieetwens", 2)]


def test_the_first_edition_has_only_new_organisations(world):
    assert figures_of(world["earlier"])["returning"] == [("nieuw", 1), ("terugkerend", 0)]


def test_more_than_twenty_organisations_end_in_one_row_of_others(db):
    edition = make_edition()
    for number in range(23):
        make_registration(edition, organisation=f"Gemeente {number:02}")
    make_registration(edition, organisation="Gemeente 22")

    rows = figures_of(edition)["organisation"]

    assert len(rows) == 21
    assert rows[0] == ("Gemeente 22", 2)
    assert rows[-1] == ("overige (3 organisaties)", 3)
    assert sum(count for _name, count in rows) == 24


def test_across_editions_one_row_per_edition_oldest_first(world):
    rows, totals = statistics.across_editions()

    assert [row.cells[1:] for row in rows] == [
        [1, 0, 0, 0, 1, 1, 0, 1, 0],
        [4, 4, 1, 2, 3, 2, 1, 3, 2],
    ]
    assert [row.edition for row in rows] == [world["earlier"], world["edition"]]
    sector = next(figure for figure in totals if figure.key == "sector")
    assert sector.rows == [
        ("Gemeente", 3),
        ("Sociaal en gemeenschapswerk", 1),
        ("Welzijnsinstelling", 1),
    ]


def run_retention(day):
    with time_machine.travel(at(day, hour=3), tick=False):
        call_command("apply_retention", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_figures_stay_the_same_when_the_retention_job_erases_personal_data(world):
    edition = world["edition"]
    before = statistics.edition_figures(edition)
    across_before = [row.cells for row in statistics.across_editions()[0]]

    run_retention(START + datetime.timedelta(days=3))
    assert not Registration.objects.filter(edition=edition).exclude(dietary_needs="").exists()
    assert statistics.edition_figures(edition) == before

    run_retention(datetime.date(2028, 3, 12))  # past the 12 months of retention
    assert Registration.objects.filter(edition=edition, anonymised_at__isnull=True).count() == 0
    assert RetentionRecord.objects.filter(action=RetentionRecord.Action.ANONYMISED).exists()
    assert statistics.edition_figures(edition) == before
    assert [row.cells for row in statistics.across_editions()[0]] == across_before


def test_anonymising_counts_a_diet_the_erasing_step_did_not_reach(world):
    # The job erases diets the day after the event; when only the anonymisation runs (e.g.
    # the needs step failed), that step keeps the count instead.
    edition = world["edition"]
    before = figures_of(edition)["diets"]
    record = statistics.confirmed_with_diet([edition])[edition.pk]

    with time_machine.travel(at(datetime.date(2028, 3, 12), hour=3), tick=False):
        retention.anonymise(edition, datetime.date(2028, 3, 11))

    assert record == 2
    assert figures_of(edition)["diets"] == before


def test_the_edition_csv_holds_every_figure(client, world, staff_member):
    client.force_login(staff_member)
    edition = world["edition"]

    response = client.get(reverse("admin:programme_edition_statistics_csv", args=[edition.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "cijfer;waarde;aantal"
    assert "Sector;Gemeente;2" in lines
    assert "Organisaties;Gemeente Utrecht;2" in lines
    assert "Nieuwe en terugkerende organisaties;terugkerend;1" in lines
    assert "Wachtlijst;daarna bevestigd;1" in lines
    assert "Annuleringen;1 tot 2 weken ervoor;1" in lines
    assert "Dieetwensen;met dieetwens;2" in lines
    assert len(lines) == 1 + sum(len(rows) for rows in figures_of(edition).values())


def test_the_across_editions_csv_has_a_row_per_edition(client, world, finance_user):
    client.force_login(finance_user)

    response = client.get(reverse("admin:programme_edition_statistics_all_csv"))

    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ";".join(statistics.ACROSS_HEADERS)
    assert lines[2] == f"{world['edition']};4;4;1;2;3;2;1;3;2"
    assert len(lines) == 3


@pytest.mark.parametrize("name", ["statistics", "statistics_all"])
@pytest.mark.parametrize(
    "persona, status", [("staff_member", 200), ("finance_user", 200), ("outsider", 403)]
)
def test_who_may_see_the_statistics(client, world, request, name, persona, status):
    client.force_login(request.getfixturevalue(persona))
    args = [world["edition"].pk] if name == "statistics" else []

    response = client.get(reverse(f"admin:programme_edition_{name}", args=args))

    assert response.status_code == status
    if status == 200:
        assert str(world["edition"]) in response.content.decode()


def test_anonymous_visitors_go_to_the_login_page(client, world):
    response = client.get(reverse("admin:programme_edition_statistics_all"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_page_shows_each_figure_as_chart_and_table(client, world, staff_member):
    client.force_login(staff_member)

    page = client.get(
        reverse("admin:programme_edition_statistics", args=[world["edition"].pk])
    ).content.decode()

    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" viewBox') == 9
    assert page.count("<summary>Tabel bij") == 9
    assert '<th scope="row">overheid (OIN)</th><td>1</td>' in page
    assert "hoofdletters en extra spaties" in page


def test_the_edition_pages_link_to_the_statistics(client, world, staff_member):
    client.force_login(staff_member)
    edition = world["edition"]

    change = client.get(reverse("admin:programme_edition_change", args=[edition.pk]))
    changelist = client.get(reverse("admin:programme_edition_changelist"))

    per_edition = reverse("admin:programme_edition_statistics", args=[edition.pk])
    across = reverse("admin:programme_edition_statistics_all")
    assert f'href="{per_edition}"' in change.content.decode()
    assert f'href="{across}"' in changelist.content.decode()


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_statistics_queries_do_not_grow_with_the_registrations(client, world, staff_member):
    client.force_login(staff_member)
    edition = world["edition"]
    pages = [
        reverse("admin:programme_edition_statistics", args=[edition.pk]),
        reverse("admin:programme_edition_statistics_csv", args=[edition.pk]),
        reverse("admin:programme_edition_statistics_all"),
        reverse("admin:programme_edition_statistics_all_csv"),
    ]
    few = [_queries(client, url) for url in pages]

    for number in range(40):
        make_registration(edition, organisation=f"Organisatie {number}", dietary_needs="halal")
    more_editions = make_edition()
    for number in range(10):
        make_registration(more_editions, organisation=f"Organisatie {number}")

    assert [_queries(client, url) for url in pages] == few
    assert max(few) <= 12


def test_an_organisation_in_finances_register_returns_however_its_name_was_typed(db):
    # Typed "Gem. Utrecht" at one edition and "Gemeente Utrecht (wijkteam)" at the next: by
    # name two organisations, by the register the orders are linked to one, and it returns.
    utrecht = Organisation.objects.create(name="Gemeente Utrecht", oin="00000001002220647000")
    earlier = make_edition(start_date=datetime.date.today() + datetime.timedelta(days=100))
    later = make_edition(start_date=datetime.date.today() + datetime.timedelta(days=300))
    first = make_registration(earlier, organisation="Gem. Utrecht", email="a@utrecht.example.nl")
    second = make_registration(
        later, organisation="Gemeente Utrecht (wijkteam)", email="b@utrecht.example.nl"
    )
    make_registration(later, organisation="Gem. Zeist", email="c@zeist.example.nl")
    assert figures_of(later)["returning"] == [("nieuw", 2), ("terugkerend", 0)]

    first.order.link_debtor(utrecht)
    second.order.link_debtor(utrecht)

    assert figures_of(later)["returning"] == [("nieuw", 1), ("terugkerend", 1)]
    rows, _figures = statistics.across_editions()
    [row] = [row for row in rows if row.edition == later]
    assert (row.organisations, row.new_organisations, row.returning_organisations) == (2, 1, 1)
