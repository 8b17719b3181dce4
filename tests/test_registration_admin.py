"""The registrations back office: list, filters, search, actions, CSV exports and who may do
what (Medewerkers, Financiën, an outsider)."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from programme.models import Edition
from registrations import admin as registrations_admin
from registrations.models import Registration
from tests.conftest import form_data, make_edition, make_registration

CHANGELIST = reverse("admin:registrations_registration_changelist")
EDITIONS = reverse("admin:programme_edition_changelist")


def change_url(registration):
    return reverse("admin:registrations_registration_change", args=[registration.pk])


def result_pks(response):
    assert response.status_code == 200
    return {registration.pk for registration in response.context["cl"].result_list}


def run_action(client, action, registrations, query="", **extra):
    """POST `action` on the changelist, filtered by `query` ("?status__exact=waiting")."""
    return client.post(
        CHANGELIST + query,
        {"action": action, "_selected_action": [r.pk for r in registrations], **extra},
    )


@pytest.fixture
def anna(client, staff_member):
    client.force_login(staff_member)
    return client


@pytest.fixture
def people(db):
    """A small mix of registrations over two editions."""
    first = make_edition(slug="eerste")
    second = make_edition(slug="tweede")
    return {
        "fatima": make_registration(
            first,
            first_name="Fatima",
            last_name="El Amrani",
            email="fatima@utrecht.example.nl",
            organisation="Gemeente Utrecht",
            sector="gemeente",
            role="leider",
            overnight_stay=True,
            po_number="PO-UTR-7",
        ),
        "jan": make_registration(
            first,
            first_name="Jan",
            last_name="de Vries",
            email="jan@politie.example.nl",
            organisation="Politie Midden-Nederland",
            sector="politie",
            role="manager",
            overnight_stay=False,
            po_number="",
            status=Registration.Status.WAITING,
        ),
        "zoe": make_registration(
            second,
            first_name="Zoë",
            last_name="Müller",
            email="zoe@portaal.example.nl",
            organisation="Woningcorporatie Portaal",
            sector="corporatie",
            role="adviseur",
            overnight_stay=True,
            po_number="INK-2027-99",
            status=Registration.Status.CANCELLED,
        ),
    }


# Filters and search


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, {"fatima", "jan", "zoe"}),
        ({"status__exact": "waiting"}, {"jan"}),
        ({"status__exact": "cancelled"}, {"zoe"}),
        ({"sector__exact": "politie"}, {"jan"}),
        ({"role__exact": "adviseur"}, {"zoe"}),
        ({"overnight_stay__exact": "0"}, {"jan"}),
        ({"overnight_stay__exact": "1"}, {"fatima", "zoe"}),
        ({"q": "El Amrani"}, {"fatima"}),
        ({"q": "Zoë"}, {"zoe"}),
        ({"q": "jan@politie.example.nl"}, {"jan"}),
        ({"q": "Portaal"}, {"zoe"}),
        ({"q": "PO-UTR-7"}, {"fatima"}),
        ({"q": "INK-2027"}, {"zoe"}),
        ({"q": "niemand"}, set()),
    ],
)
def test_changelist_filters_and_search_return_the_right_rows(anna, people, query, expected):
    response = anna.get(CHANGELIST, query)
    assert result_pks(response) == {people[name].pk for name in expected}


def test_changelist_filters_by_edition(anna, people):
    edition = people["zoe"].edition
    response = anna.get(CHANGELIST, {"edition__id__exact": edition.pk})
    assert result_pks(response) == {people["zoe"].pk}


def test_changelist_shows_the_columns_staff_need(anna, people):
    html = anna.get(CHANGELIST).content.decode()
    for text in [
        "Fatima El Amrani",
        "Gemeente Utrecht",
        "Politie",
        "wachtlijst",
        "fatima@utrecht.example.nl",
    ]:
        assert text in html


def test_changelist_costs_the_same_queries_for_1_or_20_registrations(
    anna, db, django_assert_max_num_queries
):
    editions = [make_edition(slug=f"editie-{n}") for n in range(4)]
    make_registration(editions[0])
    with CaptureQueriesContext(connection) as one:
        assert anna.get(CHANGELIST).status_code == 200
    for n in range(19):
        make_registration(editions[n % 4])
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = anna.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 20


def test_change_page_groups_fields_in_fieldsets(anna, people):
    html = anna.get(change_url(people["fatima"])).content.decode()
    for legend in ["Deelnemer", "Deelname", "Afgesproken prijs", "Administratie"]:
        assert legend in html
    # The invoice details are the order's, one link away.
    order = people["fatima"].order
    assert reverse("admin:registrations_order_change", args=[order.pk]) in html


# Actions


def test_confirm_from_waiting_list_respects_capacity(anna, db, mailoutbox):
    edition = make_edition(capacity=2)
    make_registration(edition)
    earlier = make_registration(edition, status="waiting")
    # Someone waits, so the next sign-up joins the queue behind them, although a place is free.
    later = make_registration(edition)
    assert later.status == Registration.Status.WAITING

    response = run_action(anna, "confirm_from_waiting_list", [later, earlier], apply="1")
    assert response.status_code == 302

    earlier.refresh_from_db()
    later.refresh_from_db()
    assert earlier.status == Registration.Status.CONFIRMED
    assert later.status == Registration.Status.WAITING
    assert edition.registrations.confirmed().count() == 2
    assert [m.to for m in mailoutbox] == [[earlier.email]]
    assert mailoutbox[0].subject.startswith("Er is een plaats voor je")
    messages = [str(m) for m in anna.get(CHANGELIST).context["messages"]]
    assert f"Bevestigd (1): {earlier.reference} bevestigd vanaf de wachtlijst" in messages
    assert (
        f"Overgeslagen: {later.reference} niet bevestigd: de editie is vol (2 plaatsen)."
        in messages
    )
    assert "Bericht 'er is een plaats vrij': 1 verstuurd." in messages


def test_confirm_from_waiting_list_skips_registrations_not_waiting(anna, people):
    run_action(anna, "confirm_from_waiting_list", [people["zoe"]])
    people["zoe"].refresh_from_db()
    assert people["zoe"].status == Registration.Status.CANCELLED


def test_cancel_action_first_shows_the_mail_and_changes_nothing(anna, people, mailoutbox):
    response = run_action(anna, "cancel_registrations", [people["fatima"], people["jan"]])
    assert response.status_code == 200
    page = response.content.decode()
    assert "De annuleringsbevestiging gaat naar 2 mensen" in page
    assert people["fatima"].email in page
    people["fatima"].refresh_from_db()
    assert people["fatima"].status == Registration.Status.CONFIRMED
    assert mailoutbox == []


def test_reinstate_action_first_shows_the_mail_and_changes_nothing(anna, people, mailoutbox):
    response = run_action(anna, "reinstate_registrations", [people["zoe"]])
    assert response.status_code == 200
    assert "De bevestiging gaat naar 1 persoon" in response.content.decode()
    people["zoe"].refresh_from_db()
    assert people["zoe"].status == Registration.Status.CANCELLED
    assert mailoutbox == []


def test_cancel_action_cancels_active_registrations(anna, people):
    response = run_action(
        anna, "cancel_registrations", [people["fatima"], people["jan"]], apply="1"
    )
    assert response.status_code == 302
    for name in ("fatima", "jan"):
        people[name].refresh_from_db()
        assert people[name].status == Registration.Status.CANCELLED
        assert people[name].cancelled_at is not None


def test_a_status_change_for_more_than_the_limit_changes_nothing_and_says_why(
    anna, people, monkeypatch
):
    monkeypatch.setattr(registrations_admin, "TRANSITION_LIMIT", 2)
    chosen = [people["fatima"], people["jan"], people["zoe"]]
    response = run_action(anna, "cancel_registrations", chosen)
    page = anna.get(response["Location"]).content.decode()
    assert "Kies hoogstens 2 inschrijvingen tegelijk; er is niets gewijzigd." in page
    people["fatima"].refresh_from_db()
    assert people["fatima"].status == Registration.Status.CONFIRMED


def test_resend_confirmation_mails_active_registrations_only(anna, people, mailoutbox):
    run_action(anna, "resend_confirmation", list(people.values()), apply="1")
    assert sorted(m.to[0] for m in mailoutbox) == [
        "fatima@utrecht.example.nl",
        "jan@politie.example.nl",
    ]
    assert all(m.attachments for m in mailoutbox)
    people["fatima"].refresh_from_db()
    assert people["fatima"].confirmation_sent_at is not None


# CSV exports


def read_csv(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_participant_export_is_excel_friendly_csv_of_the_confirmed_participants(anna, people):
    people["fatima"].organisation = "Gemeente Utrecht; Wijkteam Noord"
    people["fatima"].created_at = datetime.datetime(2026, 3, 2, 10, 15, tzinfo=datetime.UTC)
    people["fatima"].save()
    response = run_action(anna, "export_participants", list(people.values()))
    assert response["Content-Disposition"] == 'attachment; filename="deelnemers.csv"'
    rows = read_csv(response)
    assert rows[0] == [
        "Referentie",
        "Editie",
        "Status",
        "Voornaam",
        "Achternaam",
        "E-mail",
        "Telefoon",
        "Organisatie",
        "Functie",
        "Sector",
        "Rol",
        "Overnachten",
        "Kenmerk factuur",
        "Ingeschreven op",
    ]
    # Unfiltered, the list is of who comes: the confirmed participants among the selection.
    by_email = {row[5]: row for row in rows[1:]}
    assert set(by_email) == {"fatima@utrecht.example.nl"}
    fatima = by_email["fatima@utrecht.example.nl"]
    assert fatima[0] == people["fatima"].reference
    assert fatima[2] == "bevestigd"
    assert fatima[3:5] == ["Fatima", "El Amrani"]
    # A semicolon inside a value is quoted, not a new column.
    assert fatima[7] == "Gemeente Utrecht; Wijkteam Noord"
    assert fatima[9:13] == ["Gemeente", "Programma- of projectleider", "ja", "PO-UTR-7"]
    assert fatima[13] == "02-03-2026 11:15"  # Amsterdam time


@pytest.mark.parametrize(
    "status, name, column, value",
    [
        ("cancelled", "zoe", 2, "geannuleerd"),
        ("cancelled", "zoe", 3, "Zoë"),
        ("cancelled", "zoe", 4, "Müller"),
        ("waiting", "jan", 2, "wachtlijst"),
        ("waiting", "jan", 11, "nee"),
    ],
)
def test_participant_export_filtered_on_a_status_has_those_rows(
    anna, people, status, name, column, value
):
    response = run_action(
        anna, "export_participants", list(people.values()), query=f"?status__exact={status}"
    )
    rows = read_csv(response)
    assert [row[0] for row in rows[1:]] == [people[name].reference]
    assert rows[1][column] == value


def test_venue_export_lists_dietary_and_accessibility_needs_of_the_participants(anna, people):
    people["fatima"].dietary_needs = "vegetarisch, geen noten"
    people["fatima"].save()
    people["jan"].accessibility_needs = "rolstoeltoegankelijke kamer"
    people["jan"].save()
    response = run_action(anna, "export_venue_list", list(people.values()))
    assert response["Content-Disposition"] == (
        'attachment; filename="locatie-dieet-toegankelijkheid.csv"'
    )
    rows = read_csv(response)
    header = ["Naam", "Organisatie", "Status", "Overnachten", "Dieetwensen"]
    assert rows[0] == [*header, "Toegankelijkheid/wensen"]
    # Unfiltered: who comes (the confirmed), then the counts the venue plans with.
    assert rows[1:] == [
        ["Fatima El Amrani", "Gemeente Utrecht", "bevestigd", "ja", "vegetarisch, geen noten", ""],
        [],
        ["Aantal per dieet", "", "", "", "", ""],
        ["vegetarisch, geen noten", "1", "", "", "", ""],
        ["Overnachten", "1", "", "", "", ""],
        ["Totaal", "1", "", "", "", ""],
    ]
    waiting = read_csv(
        run_action(anna, "export_venue_list", list(people.values()), query="?status__exact=waiting")
    )
    assert waiting[1] == [
        "Jan de Vries",
        "Politie Midden-Nederland",
        "wachtlijst",
        "nee",
        "",
        "rolstoeltoegankelijke kamer",
    ]
    assert waiting[-1] == ["Totaal", "1", "", "", "", ""]


# Groups and permissions


def test_medewerkers_can_change_a_registration(anna, people):
    registration = people["fatima"]
    page = anna.get(change_url(registration))
    response = anna.post(
        change_url(registration), form_data(page, "registration_form", first_name="Fatma")
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.first_name == "Fatma"
    assert registration.email == "fatima@utrecht.example.nl"


def test_medewerkers_can_change_an_edition_with_its_inlines(anna, edition_2022):
    url = reverse("admin:programme_edition_change", args=[edition_2022.pk])
    page = anna.get(url)
    response = anna.post(
        url,
        form_data(page, "edition_form", venue_city="Doorn (Utrechtse Heuvelrug)", capacity="30"),
    )
    assert response.status_code == 302, response.context["errors"]
    edition_2022.refresh_from_db()
    assert edition_2022.venue_city == "Doorn (Utrechtse Heuvelrug)"
    assert edition_2022.capacity == 30
    assert edition_2022.sections.count() == 8
    assert edition_2022.contacts.count() == 3
    assert edition_2022.sessions.count() == 6


def test_medewerkers_can_add_a_registration_after_the_deadline(anna, edition_2022):
    assert not edition_2022.registration_is_open()
    add = reverse("admin:registrations_registration_add")
    page = anna.get(add)
    data = form_data(
        page,
        "registration_form",
        edition=str(edition_2022.pk),
        first_name="Romke",
        last_name="Laat",
        email="romke@example.nl",
        phone="06 11111111",
        organisation="Gemeente Zeist",
        job_title="Beleidsadviseur",
        sector="gemeente",
        role="adviseur",
        invoice_organisation="Gemeente Zeist",
        invoice_street="Het Rond 1",
        invoice_postcode="3701 HS",
        invoice_city="Zeist",
        invoice_email="facturen@zeist.example.nl",
    )
    response = anna.post(add, data)
    assert response.status_code == 302, response.context["errors"]
    registration = Registration.objects.get(email="romke@example.nl")
    assert registration.edition == edition_2022
    assert registration.status == Registration.Status.CONFIRMED
    # The 2022 edition as published has no terms to accept; the privacy statement was shown.
    assert registration.order.terms_accepted_at is None
    assert registration.order.privacy_accepted_at is not None


def test_admin_refuses_a_duplicate_active_email_with_a_message(anna, people):
    add = reverse("admin:registrations_registration_add")
    data = form_data(
        anna.get(add),
        "registration_form",
        edition=str(people["fatima"].edition_id),
        first_name="Fatima",
        last_name="Tweede",
        email="FATIMA@utrecht.example.nl",
        phone="06 11111111",
        organisation="Gemeente Utrecht",
        job_title="Wijkregisseur",
        sector="gemeente",
        role="leider",
        invoice_organisation="Gemeente Utrecht",
        invoice_street="Stadsplateau 1",
        invoice_postcode="3521 AZ",
        invoice_city="Utrecht",
        invoice_email="facturen@utrecht.example.nl",
    )
    response = anna.post(add, data)
    assert response.status_code == 200
    assert "Met dit e-mailadres is al ingeschreven voor deze editie." in response.content.decode()
    assert Registration.objects.filter(email__iexact="fatima@utrecht.example.nl").count() == 1


@pytest.fixture
def femke(client, finance_user):
    client.force_login(finance_user)
    return client


def test_financien_view_registrations_and_may_edit_only_the_billing(femke, people):
    assert result_pks(femke.get(CHANGELIST)) == {r.pk for r in people.values()}
    page = femke.get(change_url(people["fatima"]))
    assert page.status_code == 200
    html = page.content.decode()
    # Finance saves the agreed price here and the invoice details on the order; the
    # participant and who signed up are staff's.
    assert 'name="_save"' in html
    assert 'name="price_excl_vat"' in html
    assert 'name="first_name"' not in html and 'name="email"' not in html
    order = femke.get(reverse("admin:registrations_order_change", args=[people["fatima"].order.pk]))
    html = order.content.decode()
    assert 'name="invoice_street"' in html
    assert 'name="first_name"' not in html and 'name="email"' not in html


def test_financien_can_export_the_participant_list(femke, people):
    rows = read_csv(run_action(femke, "export_participants", [people["fatima"]]))
    assert len(rows) == 2


def test_financien_cannot_change_participants_or_add_registrations(femke, people):
    registration = people["fatima"]
    page = femke.get(change_url(registration))
    response = femke.post(
        change_url(registration), form_data(page, "registration_form", first_name="Gewijzigd")
    )
    assert response.status_code == 302  # saved, without the read-only participant fields
    assert femke.get(reverse("admin:registrations_registration_add")).status_code == 403
    assert femke.post(reverse("admin:registrations_registration_add"), {}).status_code == 403
    registration.refresh_from_db()
    assert registration.first_name == "Fatima"
    assert Registration.objects.count() == 3


def test_financien_cannot_run_the_actions_that_change_registrations(femke, people, mailoutbox):
    for action in ["cancel_registrations", "confirm_from_waiting_list", "resend_confirmation"]:
        run_action(femke, action, [people["fatima"], people["jan"]], apply="1")
    people["fatima"].refresh_from_db()
    people["jan"].refresh_from_db()
    assert people["fatima"].status == Registration.Status.CONFIRMED
    assert people["jan"].status == Registration.Status.WAITING
    assert mailoutbox == []


def test_financien_cannot_change_the_content_of_editions_or_add_them(femke, edition_2022):
    change = reverse("admin:programme_edition_change", args=[edition_2022.pk])
    page = femke.get(change)
    assert page.status_code == 200  # the price and VAT only (see test_roles.py)
    response = femke.post(change, form_data(page, "edition_form", title="Gewijzigd"))
    assert response.status_code == 302
    assert femke.get(reverse("admin:programme_edition_add")).status_code == 403
    assert femke.post(reverse("admin:programme_edition_add"), {}).status_code == 403
    edition_2022.refresh_from_db()
    assert edition_2022.title == "Werkplaats ‘Werken aan wijkontwikkeling’"
    assert Edition.objects.count() == 1


def test_outsider_gets_403_on_the_admin_changelists(client, outsider, people):
    client.force_login(outsider)
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(EDITIONS).status_code == 403
    assert client.get(change_url(people["fatima"])).status_code == 403
    assert run_action(client, "export_participants", [people["fatima"]]).status_code == 403


def test_anonymous_users_are_sent_to_login(client, people):
    for url in [CHANGELIST, change_url(people["fatima"])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_staff_find_registrations_whose_confirmation_was_not_sent(anna, people):
    sent = people["fatima"]
    sent.confirmation_sent_at = timezone.now()
    sent.save()
    not_sent = Registration.objects.filter(confirmation_sent_at__isnull=True)
    assert sent not in not_sent and not_sent.exists()

    response = anna.get(CHANGELIST, {"confirmation_sent_at__isnull": "True"})
    assert response.status_code == 200
    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == {registration.pk for registration in not_sent}
    assert "bevestiging verstuurd op" in response.content.decode().lower()
