"""The participant's own pages after signing up: the confirmation by token and cancelling."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from registrations.models import Registration
from tests.conftest import make_edition, make_registration, sign_up_data

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def registration(open_edition):
    return make_registration(
        open_edition, email="fatima@gemeente.example.nl", dietary_needs="vegetarisch"
    )


def cancel_url(registration):
    return reverse("registrations:cancel", args=[registration.token])


def test_confirmation_page_summarises_the_registration(client, registration):
    response = client.get(registration.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "Je bent ingeschreven" in html
    assert "Bevestigd" in html
    assert "Fatima El Amrani" in html
    assert "fatima@gemeente.example.nl" in html
    assert "Gemeente Utrecht – Wijkregisseur" in html
    assert "vegetarisch" in html
    assert "€ 1.800,- exclusief 21% btw" in html
    assert "De factuur komt per e-mail naar facturen@utrecht.example.nl" in html
    assert f"Referentie: <strong>{registration.reference}</strong>" in html
    assert 'href="tel:+31657943732"' in html
    assert "Kenmerk: PO-2022-0042" in html
    assert "3521 AZ Utrecht" in html
    assert "Kaap Doorn Conferentiecentrum, Doorn" in html
    assert '<meta name="robots" content="noindex">' in html
    assert cancel_url(registration) in html


def test_confirmation_page_of_a_waiting_list_registration_says_so(client, open_edition):
    waiting = make_registration(open_edition, status=Registration.Status.WAITING)
    html = client.get(waiting.get_absolute_url()).content.decode()
    assert "Je staat op de wachtlijst" in html
    assert "Wachtlijst" in html
    assert "De factuur volgt" not in html


def test_unknown_token_is_404(client, registration):
    assert client.get("/inschrijving/bestaat-niet/").status_code == 404
    assert client.get(f"/inschrijving/{registration.token[:-1]}/").status_code == 404
    assert client.get("/inschrijving/bestaat-niet/annuleren/").status_code == 404


def test_sequential_ids_are_not_accepted(client, registration):
    assert client.get(f"/inschrijving/{registration.pk}/").status_code == 404
    assert client.get(f"/inschrijving/{registration.reference}/").status_code == 404
    assert client.post(f"/inschrijving/{registration.pk}/annuleren/").status_code == 404
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_cancel_page_asks_for_confirmation_and_get_changes_nothing(client, registration):
    response = client.get(cancel_url(registration))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Weet je zeker dat je je inschrijving" in html
    assert 'method="post"' in html
    assert "Ja, annuleer mijn inschrijving" in html
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_cancel_before_the_deadline_cancels_and_notifies(
    client, registration, settings, mailoutbox
):
    settings.STAFF_NOTIFICATION_EMAIL = "team@platform31.example.nl"
    response = client.post(cancel_url(registration))
    assert response.status_code == 302
    assert response["Location"] == registration.get_absolute_url()
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    assert registration.cancelled_at is not None

    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert set(by_recipient) == {"fatima@gemeente.example.nl", "team@platform31.example.nl"}
    assert "geannuleerd" in by_recipient["fatima@gemeente.example.nl"].subject
    assert "is geannuleerd" in by_recipient["fatima@gemeente.example.nl"].body
    staff = by_recipient["team@platform31.example.nl"]
    assert registration.reference in staff.subject
    assert "Fatima El Amrani (Gemeente Utrecht)" in staff.body

    page = client.get(response["Location"]).content.decode()
    assert "Je inschrijving is geannuleerd" in page


def test_second_cancel_changes_nothing(client, registration, mailoutbox):
    client.post(cancel_url(registration))
    registration.refresh_from_db()
    first_cancelled_at = registration.cancelled_at
    mailoutbox.clear()
    response = client.post(cancel_url(registration))
    assert response.status_code == 200
    assert "al geannuleerd" in response.content.decode()
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED
    assert registration.cancelled_at == first_cancelled_at
    assert mailoutbox == []


def test_cancelling_frees_the_place_for_a_new_sign_up(client, db):
    edition = make_edition(capacity=1)
    taken = make_registration(edition)
    client.post(cancel_url(taken))
    client.post(
        reverse("registrations:register", args=[edition.slug]),
        sign_up_data(email="nieuw@example.nl"),
    )
    assert Registration.objects.get(email="nieuw@example.nl").status == "confirmed"
    assert edition.registrations.confirmed().count() == 1


@pytest.fixture
def registration_2022(edition_2022):
    with time_machine.travel(datetime.datetime(2022, 9, 1, 12, tzinfo=AMS), tick=False):
        return make_registration(edition_2022)


def test_cancel_on_the_deadline_day_works(client, registration_2022):
    with time_machine.travel(datetime.datetime(2022, 9, 16, 23, 59, tzinfo=AMS), tick=False):
        client.post(cancel_url(registration_2022))
    registration_2022.refresh_from_db()
    assert registration_2022.status == Registration.Status.CANCELLED


def test_after_the_deadline_the_cancel_page_points_to_romy(client, registration_2022):
    with time_machine.travel(datetime.datetime(2022, 9, 17, 0, 0, tzinfo=AMS), tick=False):
        response = client.get(cancel_url(registration_2022))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Annuleren via deze pagina kon tot en met vrijdag 16 september 2022" in html
    assert "Neem contact op met Romy" in html
    assert '<a href="tel:+31657943732">+31 6 57 94 37 32</a>' in html
    assert "Ja, annuleer mijn inschrijving" not in html


def test_after_the_deadline_a_cancel_post_changes_nothing(client, registration_2022, mailoutbox):
    with time_machine.travel(datetime.datetime(2022, 9, 17, 0, 0, tzinfo=AMS), tick=False):
        response = client.post(cancel_url(registration_2022))
    assert response.status_code == 200
    assert "Neem contact op met Romy" in response.content.decode()
    registration_2022.refresh_from_db()
    assert registration_2022.status == Registration.Status.CONFIRMED
    assert registration_2022.cancelled_at is None
    assert mailoutbox == []


def test_confirmation_page_after_the_deadline_offers_no_cancel_link(client, registration_2022):
    html = client.get(registration_2022.get_absolute_url()).content.decode()
    assert cancel_url(registration_2022) not in html
    assert "Vragen? Romy" in html


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_methods_are_405(client, registration, method):
    for url in [
        registration.get_absolute_url(),
        cancel_url(registration),
        reverse("registrations:register", args=[registration.edition.slug]),
    ]:
        assert getattr(client, method)(url).status_code == 405, url
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_confirmation_page_does_not_accept_posts(client, registration):
    assert client.post(registration.get_absolute_url()).status_code == 405
