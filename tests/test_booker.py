"""The booker owns her order: the order page shows the totals and each colleague; she cancels a
colleague's place or names a substitute under the rules of the colleague's own page; she is told
of every change she did not make herself; colleagues are told who signed them up. The
substitute flow tells everyone involved, and the old link says where the place went."""

import datetime
import email
import email.policy
import time

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from registrations.models import Order, Registration, RegistrationChange, WaitingListOffer
from registrations.retention import anonymise
from tests.conftest import make_edition, make_registration, sign_up_data

STAFF = "team-werkplaats@platform31.example.nl"
BOOKER = "fatima@gemeente.example.nl"
PIETER = "pieter@gemeente.example.nl"
SANNE = "sanne@gemeente.example.nl"
SUBSTITUTE = "joris@gemeente.example.nl"


@pytest.fixture(autouse=True)
def _staff_address(settings):
    settings.STAFF_NOTIFICATION_EMAIL = STAFF


def sign_up_order(client, edition, colleagues=(("Pieter", "de Vries", PIETER),), **overrides):
    """Fatima signs up herself and `colleagues` through the form; returns the order."""
    data = sign_up_data(**overrides)
    data["collega-TOTAL_FORMS"] = str(len(colleagues))
    data["collega-INITIAL_FORMS"] = "0"
    for number, (first, last, address) in enumerate(colleagues):
        data[f"collega-{number}-first_name"] = first
        data[f"collega-{number}-last_name"] = last
        data[f"collega-{number}-email"] = address
        data[f"collega-{number}-overnight_stay"] = "ja"
    response = client.post(reverse("registrations:register", args=[edition.slug]), data)
    assert response.status_code == 302
    return Order.objects.latest("pk")


def position(order, address):
    return order.positions.get(email=address)


def cancel_url(order, registration):
    return reverse("registrations:order_cancel", args=[order.token, registration.booker_key])


def substitute_url(order, registration):
    return reverse("registrations:order_substitute", args=[order.token, registration.booker_key])


def substitute_data(**overrides):
    data = {
        "vervanger-first_name": "Joris",
        "vervanger-last_name": "Jansen",
        "vervanger-email": SUBSTITUTE,
        "vervanger-phone": "",
        "vervanger-job_title": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def edition(db):
    return make_edition()


@pytest.fixture
def order(client, edition, mailoutbox):
    order = sign_up_order(
        client, edition, colleagues=[("Pieter", "de Vries", PIETER), ("Sanne", "Bakker", SANNE)]
    )
    mailoutbox.clear()
    return order


# The order page


def test_the_order_page_shows_the_total_excl_and_incl_btw_for_three_colleagues(client, order):
    page = client.get(order.get_absolute_url()).content.decode()

    assert "Bevestigd (3 × € 1.800,00)" in page
    assert "€ 5.400,00 excl. btw" in page
    assert "€ 6.534,00 incl. btw" in page
    assert "Op de wachtlijst" not in page
    totals = order.totals()
    assert (totals["confirmed"].excl_vat, totals["confirmed"].incl_vat) == (5400, 6534)


def test_the_order_page_counts_confirmed_and_waiting_apart_and_mentions_waiting_only_then(
    client, db
):
    edition = make_edition(capacity=2)
    order = sign_up_order(
        client,
        edition,
        colleagues=[("Pieter", "de Vries", PIETER), ("Sanne", "Bakker", SANNE)],
        when_short="split",
    )
    assert [p.status for p in order.positions.order_by("pk")] == [
        "confirmed",
        "confirmed",
        "waiting",
    ]

    page = client.get(order.get_absolute_url()).content.decode()
    assert "€ 3.600,00 excl. btw" in page and "€ 4.356,00 incl. btw" in page
    assert "Op de wachtlijst (1)" in page
    assert "€ 1.800,00 excl. btw, € 2.178,00 incl. btw" in page
    assert "Wie op de wachtlijst staat, krijgt bericht" in page

    position(order, SANNE).cancel()
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Wie op de wachtlijst staat" not in page


def test_the_overview_mail_gives_the_totals_and_mentions_waiting_only_when_someone_waits(
    client, edition, mailoutbox
):
    order = sign_up_order(
        client, edition, colleagues=[("Pieter", "de Vries", PIETER), ("Sanne", "Bakker", SANNE)]
    )
    overview = next(m for m in mailoutbox if m.to == [BOOKER] and order.reference in m.body)
    assert "Totaal bevestigd: € 5.400,00 excl. btw, € 6.534,00 incl. btw." in overview.body
    assert "€ 6.534,00 incl. btw" in overview.alternatives[0][0]
    assert "Wie op de wachtlijst staat" not in overview.body
    assert order.get_absolute_url() in overview.body


def test_an_exempt_price_carries_no_btw_in_the_total(client, db):
    edition = make_edition(vat_exemption_text="Vrijgesteld van btw op grond van art. 11")
    order = sign_up_order(client, edition)
    totals = order.totals()["confirmed"]
    assert (totals.count, totals.excl_vat, totals.vat, totals.incl_vat) == (2, 3600, 0, 3600)


def test_the_order_page_offers_cancel_and_substitute_per_colleague_while_the_rules_allow(
    client, order
):
    pieter = position(order, PIETER)
    page = client.get(order.get_absolute_url()).content.decode()
    assert cancel_url(order, pieter) in page
    assert substitute_url(order, pieter) in page

    after_deadline = order.edition.registration_closes_at + datetime.timedelta(hours=1)
    with time_machine.travel(after_deadline, tick=False):
        page = client.get(order.get_absolute_url()).content.decode()
    assert cancel_url(order, pieter) not in page
    assert substitute_url(order, pieter) in page


# Cancelling a colleague's place


def test_the_booker_cancels_a_colleague_and_the_colleague_hears_who_did_it(
    client, order, mailoutbox
):
    pieter = position(order, PIETER)
    assert (
        "Ja, annuleer deze inschrijving" in client.get(cancel_url(order, pieter)).content.decode()
    )

    response = client.post(cancel_url(order, pieter))

    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    pieter.refresh_from_db()
    assert pieter.status == Registration.Status.CANCELLED
    assert position(order, SANNE).status == Registration.Status.CONFIRMED
    by_recipient = {message.to[0]: message for message in mailoutbox}
    # She did it herself and sees it on her page: no notice for the booker.
    assert set(by_recipient) == {PIETER, STAFF}
    assert (
        "Fatima El Amrani (fatima@gemeente.example.nl), die je had ingeschreven, heeft dat gedaan."
        in by_recipient[PIETER].body
    )
    page = client.get(order.get_absolute_url()).content.decode()
    assert "De inschrijving van Pieter de Vries is geannuleerd." in page
    assert "€ 3.600,00 excl. btw" in page


def test_the_booker_cannot_cancel_after_the_deadline_as_the_colleague_cannot(
    client, order, mailoutbox
):
    pieter = position(order, PIETER)
    after_deadline = order.edition.registration_closes_at + datetime.timedelta(hours=1)
    with time_machine.travel(after_deadline, tick=False):
        assert not pieter.can_cancel()
        response = client.post(cancel_url(order, pieter))
    assert "Annuleren via deze pagina kon tot en met" in response.content.decode()
    pieter.refresh_from_db()
    assert pieter.status == Registration.Status.CONFIRMED
    assert mailoutbox == []


def test_a_double_cancel_cancels_once_and_mails_once(client, order, mailoutbox):
    pieter = position(order, PIETER)
    client.post(cancel_url(order, pieter))
    client.post(cancel_url(order, pieter))
    assert [m.to for m in mailoutbox].count([PIETER]) == 1


def test_another_orders_token_reaches_none_of_this_orders_participants(client, order, edition):
    other = sign_up_order(
        client, edition, colleagues=[], email="kees@wooncorporatie.example.nl", first_name="Kees"
    )
    pieter = position(order, PIETER)

    for url in (cancel_url(other, pieter), substitute_url(other, pieter)):
        assert client.get(url).status_code == 404
        assert client.post(url, substitute_data()).status_code == 404
    pieter.refresh_from_db()
    assert (pieter.status, pieter.email) == (Registration.Status.CONFIRMED, PIETER)
    assert client.get(cancel_url(order, pieter)).status_code == 200


def test_the_order_page_never_shows_a_colleagues_personal_link_nor_a_guessable_key(client, order):
    page = client.get(order.get_absolute_url()).content.decode()
    for registration in order.positions.all():
        assert registration.token not in page
        assert f"/deelnemer/{registration.pk}/" not in page
    pieter = position(order, PIETER)
    guessed = reverse("registrations:order_cancel", args=[order.token, str(pieter.pk)])
    assert client.post(guessed).status_code == 404
    pieter.refresh_from_db()
    assert pieter.status == Registration.Status.CONFIRMED


def test_the_booker_actions_need_the_csrf_token(order):
    browser = Client(enforce_csrf_checks=True)
    pieter = position(order, PIETER)
    assert browser.post(cancel_url(order, pieter)).status_code == 403
    assert browser.post(substitute_url(order, pieter), substitute_data()).status_code == 403
    pieter.refresh_from_db()
    assert (pieter.status, pieter.email) == (Registration.Status.CONFIRMED, PIETER)


def test_the_booker_actions_are_get_and_post_only(client, order):
    pieter = position(order, PIETER)
    assert client.put(cancel_url(order, pieter)).status_code == 405
    assert client.delete(substitute_url(order, pieter)).status_code == 405


# Naming a substitute from the order page


def test_the_booker_names_a_substitute_and_everyone_involved_hears_once(client, order, mailoutbox):
    pieter = position(order, PIETER)
    old_link = pieter.get_absolute_url()

    response = client.post(substitute_url(order, pieter), substitute_data())

    assert response.status_code == 302
    pieter.refresh_from_db()
    assert (pieter.full_name, pieter.email, pieter.phone, pieter.job_title) == (
        "Joris Jansen",
        SUBSTITUTE,
        "",
        "",
    )
    change = RegistrationChange.objects.get()
    assert (change.by_booker, change.previous_name, change.previous_email) == (
        True,
        "Pieter de Vries",
        PIETER,
    )
    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert sorted(m.to[0] for m in mailoutbox) == sorted([SUBSTITUTE, PIETER, STAFF])
    assert (
        "Fatima El Amrani (fatima@gemeente.example.nl) heeft je aangemeld als vervanger van "
        "Pieter de Vries." in by_recipient[SUBSTITUTE].body
    )
    assert (
        "Fatima El Amrani (fatima@gemeente.example.nl), die je had ingeschreven, heeft je plaats"
        in by_recipient[PIETER].body
    )
    assert "overgedragen aan Joris Jansen" in by_recipient[PIETER].body
    assert "door Fatima El Amrani via de bestelpagina" in by_recipient[STAFF].body
    page = client.get(old_link)
    assert page.status_code == 404
    assert "Je plaats is overgedragen aan Joris Jansen" in page.content.decode()


def test_the_booker_acting_on_her_own_place_gets_the_ordinary_wording_once(
    client, order, mailoutbox
):
    own = position(order, BOOKER)
    client.post(substitute_url(order, own), substitute_data())

    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert sorted(m.to[0] for m in mailoutbox) == sorted([SUBSTITUTE, BOOKER, STAFF])
    assert "Je hebt je plaats bij" in by_recipient[BOOKER].body
    assert "die je had ingeschreven" not in by_recipient[BOOKER].body
    assert (
        "Fatima El Amrani, een collega van Gemeente Utrecht, heeft de plaats aan jou overgedragen."
        in by_recipient[SUBSTITUTE].body
    )


def test_the_booker_cancelling_her_own_place_gets_an_ordinary_cancellation(
    client, order, mailoutbox
):
    client.post(cancel_url(order, position(order, BOOKER)))
    assert sorted(m.to[0] for m in mailoutbox) == sorted([BOOKER, STAFF])
    mine = next(m for m in mailoutbox if m.to == [BOOKER])
    assert "is geannuleerd" in mine.body and "die je had ingeschreven" not in mine.body


def test_the_booker_cannot_name_a_substitute_from_the_start(client, order):
    pieter = position(order, PIETER)
    with time_machine.travel(order.edition.starts_at(), tick=False):
        page = client.get(substitute_url(order, pieter)).content.decode()
        response = client.post(substitute_url(order, pieter), substitute_data())
    assert "een vervanger aanmelden kan niet meer" in page
    assert response.status_code == 409
    pieter.refresh_from_db()
    assert pieter.email == PIETER


def test_the_substitute_form_marks_what_may_stay_empty(client, order):
    page = client.get(substitute_url(order, position(order, PIETER))).content.decode()
    assert page.count("(niet verplicht)</span>") == 2
    assert 'Telefoonnummer <span class="text-body-secondary">(niet verplicht)' in page
    assert 'Functie <span class="text-body-secondary">(niet verplicht)' in page


def test_a_failed_substitute_shows_the_errors_first_linking_to_the_fields(client, order):
    pieter = position(order, PIETER)
    response = client.post(
        substitute_url(order, pieter),
        substitute_data(**{"vervanger-first_name": "", "vervanger-email": "x"}),
    )

    assert response.status_code == 400
    page = response.content.decode()
    summary = page.index('id="fouten"')
    assert summary < page.index("<form")
    assert 'href="#id_vervanger-first_name">Voornaam: Vul de voornaam in.' in page
    assert 'href="#id_vervanger-email">E-mailadres: Vul een geldig e-mailadres in' in page
    assert "autofocus" in page[summary - 200 : summary + 200]
    # Without JavaScript the browser lands on the summary: the form posts to its anchor.
    assert f'action="{substitute_url(order, pieter)}#fouten"' in page


# The participant's own page: the substitute flow


def test_the_own_page_substitute_errors_are_summarised_at_the_top(client, db):
    registration = make_registration(make_edition())
    url = reverse("registrations:substitute", args=[registration.token])
    response = client.post(url, substitute_data(**{"vervanger-last_name": ""}))

    page = response.content.decode()
    assert response.status_code == 400
    assert page.index('id="fouten"') < page.index("<h1>")
    assert 'href="#id_vervanger-last_name">Achternaam: Vul de achternaam in.' in page
    assert f'action="{url}#fouten"' in page
    assert page.count("(niet verplicht)") >= 2


def test_a_substitute_without_phone_or_function_is_accepted(client, db):
    registration = make_registration(make_edition())
    url = reverse("registrations:substitute", args=[registration.token])
    assert client.post(url, substitute_data()).status_code == 200
    registration.refresh_from_db()
    assert (registration.email, registration.phone, registration.job_title) == (SUBSTITUTE, "", "")


def test_the_old_link_says_the_place_was_handed_over_until_anonymised(client, db):
    registration = make_registration(make_edition(), first_name="Pieter", last_name="de Vries")
    old_link = registration.get_absolute_url()
    url = reverse("registrations:substitute", args=[registration.token])
    right_after = client.post(url, substitute_data())
    assert "Je plaats is overgedragen aan Joris Jansen" in right_after.content.decode()
    assert "Je vervanger is aangemeld" in right_after.content.decode()

    later = client.get(old_link)
    assert later.status_code == 404
    assert "Je plaats is overgedragen aan Joris Jansen" in later.content.decode()
    assert "Deze link naar je inschrijving werkt niet meer" in later.content.decode()
    assert client.get(reverse("registrations:detail", args=["onbekend"])).status_code == 404

    anonymise(registration.edition, registration.edition.end_date)
    change = RegistrationChange.objects.get()
    assert (change.previous_name, change.previous_email) == ("", "")
    after = client.get(old_link).content.decode()
    assert "Je plaats is overgedragen</h1>" in after
    assert "Joris" not in after


# The booker is told of every change, through a real SMTP server


@pytest.fixture
def inbox(smtp_server, settings):
    controller, received = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = controller.hostname
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    return received


def arrived(received, count):
    """The messages the SMTP server received, by recipient, once `count` have arrived."""
    deadline = time.monotonic() + 5
    while len(received.envelopes) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(received.envelopes) == count
    by_recipient = {}
    for envelope in received.envelopes:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        for recipient in envelope.rcpt_tos:
            by_recipient.setdefault(recipient, []).append(message)
    return by_recipient


def text_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def smtp_order(client, edition, inbox):
    order = sign_up_order(client, edition)
    arrived(inbox, 4)  # two confirmations, the overview, staff
    inbox.envelopes.clear()
    return order


def test_colleagues_confirmation_says_who_signed_them_up_and_how_to_reach_her(
    client, edition, inbox
):
    sign_up_order(client, edition)
    by_recipient = arrived(inbox, 4)

    pieter = text_of(by_recipient[PIETER][0])
    assert (
        "Fatima El Amrani (Gemeente Utrecht, fatima@gemeente.example.nl) heeft je ingeschreven "
        "voor deze werkplaats. Je inschrijving is bevestigd." in pieter
    )
    assert (
        "Vragen over je inschrijving? Fatima heeft je ingeschreven: Fatima El Amrani, "
        "fatima@gemeente.example.nl, 06 12345678." in pieter
    )
    own = [m for m in by_recipient[BOOKER] if "Bevestiging" in m["Subject"]]
    assert "Bedankt voor je inschrijving. Je inschrijving is bevestigd." in text_of(own[0])
    assert "heeft je ingeschreven" not in text_of(own[0])


def test_the_booker_is_told_when_a_colleague_cancels_on_their_own_page(client, smtp_order, inbox):
    pieter = position(smtp_order, PIETER)
    client.post(reverse("registrations:cancel", args=[pieter.token]))

    by_recipient = arrived(inbox, 3)
    assert set(by_recipient) == {PIETER, STAFF, BOOKER}
    notice = by_recipient[BOOKER][0]
    assert notice["Subject"].strip().startswith("Pieter de Vries is afgemeld (BST-")
    body = text_of(notice)
    assert "De inschrijving van Pieter de Vries is geannuleerd." in body
    assert "- Pieter de Vries (pieter@gemeente.example.nl): geannuleerd" in body
    assert "Totaal bevestigd: € 1.800,00 excl. btw, € 2.178,00 incl. btw." in body
    assert smtp_order.get_absolute_url() in body


def test_the_booker_is_told_when_a_colleague_changes_choices(client, smtp_order, inbox):
    pieter = position(smtp_order, PIETER)
    client.post(
        reverse("registrations:change_choices", args=[pieter.token]),
        {"keuzes-overnight_stay": "", "keuzes-dietary_needs": "halal"},
    )
    by_recipient = arrived(inbox, 2)
    assert set(by_recipient) == {STAFF, BOOKER}
    assert (
        "Pieter de Vries heeft zelf keuzes gewijzigd: overnachten op de locatie, dieetwensen."
        in text_of(by_recipient[BOOKER][0])
    )


def test_a_colleague_naming_a_substitute_tells_the_booker_themselves_and_the_substitute(
    client, smtp_order, inbox
):
    pieter = position(smtp_order, PIETER)
    client.post(reverse("registrations:substitute", args=[pieter.token]), substitute_data())

    by_recipient = arrived(inbox, 4)
    assert {k: len(v) for k, v in by_recipient.items()} == {
        SUBSTITUTE: 1,
        PIETER: 1,
        BOOKER: 1,
        STAFF: 1,
    }
    assert (
        "Pieter de Vries, een collega van Gemeente Utrecht, heeft de plaats aan jou overgedragen."
        in text_of(by_recipient[SUBSTITUTE][0])
    )
    handed_over = by_recipient[PIETER][0]
    assert handed_over["Subject"].strip().startswith("Je plaats is overgedragen aan Joris Jansen")
    assert "jouw persoonlijke link werkt niet meer" in text_of(handed_over)
    assert (
        "Pieter de Vries heeft de plaats overgedragen aan Joris Jansen (joris@gemeente.example.nl)."
        in text_of(by_recipient[BOOKER][0])
    )


def test_the_booker_is_told_of_an_offer_and_of_a_place_taken_from_the_waiting_list(
    client, inbox, db, django_capture_on_commit_callbacks
):
    edition = make_edition(capacity=1)
    taken = make_registration(edition, email="bram@elders.example.nl")
    order = sign_up_order(
        client, edition, colleagues=[("Pieter", "de Vries", PIETER)], not_participating="on"
    )
    pieter = position(order, PIETER)
    assert pieter.status == Registration.Status.WAITING
    arrived(inbox, 3)  # Pieter waits, the overview, staff
    inbox.envelopes.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registrations:cancel", args=[taken.token]))
    by_recipient = arrived(inbox, 4)  # Bram, staff, Pieter's offer, the booker
    notice = text_of(by_recipient[BOOKER][0])
    assert (
        "Er is een plaats vrijgekomen voor Pieter de Vries, die op de wachtlijst stond." in notice
    )
    inbox.envelopes.clear()

    offer = WaitingListOffer.objects.get(registration=pieter)
    client.post(reverse("registrations:accept_offer", args=[offer.token]))
    by_recipient = arrived(inbox, 2)
    assert set(by_recipient) == {PIETER, BOOKER}
    assert (
        "Pieter de Vries stond op de wachtlijst en heeft nu een plaats: de inschrijving is "
        "bevestigd." in text_of(by_recipient[BOOKER][0])
    )
    assert "Totaal bevestigd: € 1.800,00 excl. btw, € 2.178,00 incl. btw." in text_of(
        by_recipient[BOOKER][0]
    )


def test_a_booker_who_cancels_her_own_place_gets_one_mail(client, smtp_order, inbox):
    own = position(smtp_order, BOOKER)
    client.post(reverse("registrations:cancel", args=[own.token]))
    by_recipient = arrived(inbox, 2)
    assert {k: len(v) for k, v in by_recipient.items()} == {BOOKER: 1, STAFF: 1}


def test_staff_see_who_handed_the_place_over_and_that_the_booker_did_it(
    client, order, staff_member
):
    pieter = position(order, PIETER)
    client.post(substitute_url(order, pieter), substitute_data())
    client.force_login(staff_member)
    url = reverse("admin:registrations_registration_change", args=[pieter.pk])
    html = client.get(url).content.decode()
    assert "vervanger aangemeld" in html
    assert "Pieter de Vries" in html
    assert 'name="changes-0-previous_name"' not in html  # shown, not editable


def test_the_booker_is_told_when_staff_reinstate_a_colleague(
    client, smtp_order, inbox, staff_member, django_capture_on_commit_callbacks
):
    pieter = position(smtp_order, PIETER)
    pieter.cancel()
    inbox.envelopes.clear()
    client.force_login(staff_member)
    data = {"action": "reinstate_registrations", "_selected_action": [pieter.pk], "apply": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:registrations_registration_changelist"), data)

    by_recipient = arrived(inbox, 2)
    assert set(by_recipient) == {PIETER, BOOKER}
    notice = by_recipient[BOOKER][0]
    assert (
        notice["Subject"].strip().startswith("Annulering van Pieter de Vries teruggedraaid (BST-")
    )
    body = text_of(notice)
    assert (
        "De annulering van Pieter de Vries is teruggedraaid: de inschrijving is weer bevestigd."
        in body
    )
    assert "Totaal bevestigd: € 3.600,00 excl. btw, € 4.356,00 incl. btw." in body
