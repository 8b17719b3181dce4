"""The e-mails a sign-up sends: the participant's confirmation and the staff notification, and
one real round trip through Django's SMTP backend."""

import datetime
import email
import email.policy
import re
import time
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from icalendar import Calendar

from registrations import emails
from registrations.models import Registration
from tests.conftest import make_registration, sign_up_data

SITE = "https://werkplaats.platform31.example.nl"
STAFF = "team-werkplaats@platform31.example.nl"
AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def signed_up(client, open_edition, settings, mailoutbox):
    settings.SITE_URL = SITE
    settings.STAFF_NOTIFICATION_EMAIL = STAFF
    response = client.post(
        reverse("registrations:register", args=[open_edition.slug]),
        sign_up_data(organisation="Wonen & Welzijn <Noord>"),
    )
    assert response.status_code == 302
    registration = Registration.objects.get()
    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert len(mailoutbox) == 2
    return registration, by_recipient


def test_confirmation_goes_to_the_participant_in_dutch(signed_up):
    registration, by_recipient = signed_up
    message = by_recipient["fatima@gemeente.example.nl"]
    assert (
        message.subject
        == "Bevestiging van je inschrijving: Werkplaats ‘Werken aan wijkontwikkeling’"
    )
    assert "Beste Fatima," in message.body
    assert "Je inschrijving is bevestigd." in message.body
    assert "Met vriendelijke groet," in message.body


def test_confirmation_text_has_the_summary_and_the_personal_link(signed_up, open_edition):
    registration, by_recipient = signed_up
    body = by_recipient["fatima@gemeente.example.nl"].body
    assert "Werkplaats: Werkplaats ‘Werken aan wijkontwikkeling’" in body
    assert "Tijd: 9:30 - 17:00 uur" in body
    assert "Locatie: Kaap Doorn Conferentiecentrum, Doorn" in body
    # A budget holder books the amount incl. btw; the stay is mentioned to who stays.
    assert (
        "Prijs: € 1.800,- per persoon, exclusief btw (€ 2.178,00 inclusief 21% btw), "
        "inclusief arrangement- en verblijfskosten" in body
    )
    assert "Status: bevestigd" in body
    assert f"Referentie: {registration.reference}" in body
    assert "Naam: Fatima El Amrani" in body
    # Plain text: no HTML escaping in the text part.
    assert "Organisatie: Wonen & Welzijn <Noord>" in body
    assert "(kenmerk PO-2022-0042)" in body
    assert "De factuur komt per e-mail naar facturen@utrecht.example.nl." in body
    assert f"{SITE}/inschrijving/{registration.token}/" in body


def test_confirmation_has_an_escaped_html_alternative_with_the_link(signed_up):
    registration, by_recipient = signed_up
    message = by_recipient["fatima@gemeente.example.nl"]
    assert len(message.alternatives) == 1
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert '<html lang="nl">' in html
    assert f'<a href="{SITE}/inschrijving/{registration.token}/"' in html
    assert "Je inschrijving is bevestigd." in html
    assert "Wonen &amp; Welzijn &lt;Noord&gt;" in html
    assert "<Noord>" not in html


def test_confirmation_has_the_edition_as_an_ics_attachment(signed_up, open_edition):
    _, by_recipient = signed_up
    message = by_recipient["fatima@gemeente.example.nl"]
    assert len(message.attachments) == 1
    filename, content, mimetype = message.attachments[0]
    assert filename == f"werkplaats-{open_edition.slug}.ics"
    assert mimetype == "text/calendar"
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == datetime.datetime.combine(
        open_edition.start_date, datetime.time(9, 30), tzinfo=AMS
    )
    assert event.decoded("DTEND") == datetime.datetime.combine(
        open_edition.end_date, datetime.time(17, 0), tzinfo=AMS
    )
    assert str(event["LOCATION"]) == "Kaap Doorn Conferentiecentrum, Doorn"


def test_sending_the_confirmation_is_recorded(signed_up):
    registration, _ = signed_up
    registration.refresh_from_db()
    assert registration.confirmation_sent_at is not None


def test_staff_are_notified_at_the_configured_address(signed_up):
    registration, by_recipient = signed_up
    message = by_recipient[STAFF]
    assert message.to == [STAFF]
    assert message.subject == (
        f"Nieuwe inschrijving {registration.order.reference} (1 deelnemer): "
        "Werkplaats ‘Werken aan wijkontwikkeling’"
    )
    assert f"{registration.reference} – bevestigd" in message.body
    for line in [
        "Naam: Fatima El Amrani",
        "Organisatie: Wonen & Welzijn <Noord> (Gemeente)",
        "Functie: Wijkregisseur (Programma- of projectleider)",
        "E-mail: fatima@gemeente.example.nl",
        "Overnachten: ja",
        "Dieetwensen: vegetarisch",
        "Kenmerk factuur: PO-2022-0042",
    ]:
        assert line in message.body
    html, _ = message.alternatives[0]
    assert "Wonen &amp; Welzijn &lt;Noord&gt;" in html


def test_messages_come_from_the_configured_sender(signed_up, settings):
    _, by_recipient = signed_up
    for message in by_recipient.values():
        assert message.from_email == settings.DEFAULT_FROM_EMAIL


def test_confirmation_survives_a_real_smtp_round_trip(smtp_server, open_edition, settings):
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = controller.hostname
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.SITE_URL = SITE
    registration = make_registration(open_edition, email="zoe@corporatie.example.nl")

    assert emails.send_confirmation(registration) is True

    deadline = time.monotonic() + 5
    while not inbox.envelopes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert envelope.rcpt_tos == ["zoe@corporatie.example.nl"]
    assert envelope.mail_from == "werkplaats@example.org"

    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    # Python folds an encoded subject onto a continuation line; the parser keeps that space.
    assert message["Subject"].strip() == (
        "Bevestiging van je inschrijving: Werkplaats ‘Werken aan wijkontwikkeling’"
    )
    assert message["To"] == "zoe@corporatie.example.nl"
    assert message.get_content_type() == "multipart/mixed"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Beste Fatima," in text
    assert "€ 1.800,-" in text
    assert f"{SITE}/inschrijving/{registration.token}/" in text
    assert f'href="{SITE}/inschrijving/{registration.token}/"' in html
    attachments = list(message.iter_attachments())
    assert [part.get_filename() for part in attachments] == [f"werkplaats-{open_edition.slug}.ics"]
    assert attachments[0].get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(attachments[0].get_content())
    assert str(calendar.walk("VEVENT")[0]["SUMMARY"]) == (
        "Werkplaats ‘Werken aan wijkontwikkeling’"
    )
    registration.refresh_from_db()
    assert registration.confirmation_sent_at is not None


@pytest.fixture
def detailed(client, db, settings, mailoutbox, invoicing):
    """A sign-up for an edition with its street address and terms, finance's issuer set up."""
    from tests.conftest import make_edition

    settings.SITE_URL = SITE
    edition = make_edition(
        venue_address="Postweg 1",
        venue_postcode="3941 AA",
        terms="Annuleren na de deadline kost € 250,-.",
    )
    client.post(
        reverse("registrations:register", args=[edition.slug]),
        sign_up_data(overnight_stay="nee", accessibility_needs="rolstoeltoegankelijk"),
    )
    [message] = [m for m in mailoutbox if m.to == ["fatima@gemeente.example.nl"]]
    return Registration.objects.get(), message


def _parts(message):
    return {"text": message.body, "html": message.alternatives[0][0]}


@pytest.mark.parametrize("part", ["text", "html"])
def test_confirmation_gives_the_venue_address_and_a_route_link(detailed, part):
    content = _parts(detailed[1])[part]
    assert "Kaap Doorn Conferentiecentrum, Postweg 1, 3941 AA Doorn" in content
    assert "https://www.openstreetmap.org/directions?to=Kaap+Doorn+Conferentiecentrum" in content


@pytest.mark.parametrize("part", ["text", "html"])
def test_confirmation_says_what_happens_next_with_the_issuers_payment_term(detailed, part):
    content = _parts(detailed[1])[part]
    assert "De factuur komt per e-mail naar facturen@utrecht.example.nl" in content
    assert "de betalingstermijn is 30 dagen na de factuurdatum" in content


def test_confirmation_names_no_payment_term_before_finance_set_one(signed_up):
    _, by_recipient = signed_up
    assert "betalingstermijn" not in by_recipient["fatima@gemeente.example.nl"].body


@pytest.mark.parametrize("part", ["text", "html"])
def test_confirmation_carries_the_terms_staff_entered_and_the_own_choices(detailed, part):
    content = _parts(detailed[1])[part]
    assert "Annuleren na de deadline kost € 250,-." in content
    assert re.search(r"Overnachten(:|</th><td>) ?nee", content)
    assert "vegetarisch" in content
    assert "rolstoeltoegankelijk" in content


@pytest.mark.parametrize("part", ["text", "html"])
def test_confirmation_is_signed_once(detailed, part):
    content = _parts(detailed[1])[part]
    assert content.count("Platform31 en Van Vieren") == 1
    assert content.count("Met vriendelijke groet") == 1


def test_cancellation_mail_says_what_it_costs_and_cancels_the_calendar_event(
    client, detailed, mailoutbox
):
    registration, confirmation = detailed
    mailoutbox.clear()
    client.post(reverse("registrations:cancel", args=[registration.token]))
    [message] = [m for m in mailoutbox if m.to == ["fatima@gemeente.example.nl"]]
    for content in _parts(message).values():
        assert "WAT KOST HET ANNULEREN?" in content.upper()
        assert "Annuleren na de deadline kost € 250,-." in content
    [(filename, content, mimetype)] = message.attachments
    assert mimetype == "text/calendar"
    cancel = Calendar.from_ical(content)
    original = Calendar.from_ical(confirmation.attachments[0][1])
    assert cancel["METHOD"] == "CANCEL"
    [cancelled_event] = cancel.walk("VEVENT")
    [original_event] = original.walk("VEVENT")
    assert cancelled_event["UID"] == original_event["UID"]
    assert cancelled_event["SEQUENCE"] > original_event["SEQUENCE"]


def test_cancellation_mail_without_terms_says_to_get_in_touch(client, db, mailoutbox):
    from tests.conftest import make_edition

    registration = make_registration(make_edition(terms=""))
    client.post(reverse("registrations:cancel", args=[registration.token]))
    [message] = [m for m in mailoutbox if m.to == [registration.email]]
    assert "geen annuleringsvoorwaarden gepubliceerd" in message.body
    assert "neem dan contact op met Romy" in message.body


def test_after_cancelling_the_page_offers_no_calendar_and_no_price(client, detailed):
    registration, _ = detailed
    client.post(reverse("registrations:cancel", args=[registration.token]))
    html = client.get(registration.get_absolute_url()).content.decode()
    assert "Je inschrijving is geannuleerd" in html
    assert "agenda.ics" not in html
    assert "1.800" not in html
