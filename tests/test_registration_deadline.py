"""Registration is open through the whole deadline day, Amsterdam time, and the server enforces
that on every GET and POST of the form."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from registrations.models import Registration, RegistrationClosed
from tests.conftest import make_edition, sign_up_data

AMS = ZoneInfo("Europe/Amsterdam")
UTC = datetime.UTC


def ams(*args):
    return datetime.datetime(*args, tzinfo=AMS)


def utc(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def edition_with_deadline(deadline, **overrides):
    start = deadline + datetime.timedelta(days=60)
    return make_edition(
        registration_deadline=deadline,
        start_date=start,
        end_date=start + datetime.timedelta(days=2),
        **overrides,
    )


def test_2022_is_open_until_the_last_second_of_16_september_cest(edition_2022):
    assert edition_2022.registration_is_open(ams(2022, 9, 16, 23, 59, 59))
    assert edition_2022.registration_is_open(ams(2022, 9, 16, 23, 59, 59, 999999))


def test_2022_is_closed_from_midnight_17_september_cest(edition_2022):
    assert not edition_2022.registration_is_open(ams(2022, 9, 17, 0, 0, 0))
    assert not edition_2022.registration_is_open(ams(2022, 9, 17, 12, 0))


def test_2022_boundary_in_utc_is_22_00_on_the_deadline_day(edition_2022):
    # CEST is UTC+2: the Amsterdam day ends at 22:00 UTC.
    assert edition_2022.registration_is_open(utc(2022, 9, 16, 21, 59, 59))
    assert not edition_2022.registration_is_open(utc(2022, 9, 16, 22, 0, 0))


def test_utc_instant_still_on_the_deadline_date_but_next_day_in_amsterdam_is_closed(
    edition_2022,
):
    at = utc(2022, 9, 16, 22, 30)
    assert at.date() == datetime.date(2022, 9, 16)
    assert not edition_2022.registration_is_open(at)


def test_registration_closes_at_is_midnight_after_the_deadline_day(edition_2022):
    assert edition_2022.registration_closes_at == ams(2022, 9, 17, 0, 0)
    assert edition_2022.registration_closes_at == utc(2022, 9, 16, 22, 0)


def test_deadline_on_the_autumn_dst_change_closes_at_midnight_cet(db):
    # Last Sunday of October 2022: clocks went from 03:00 CEST back to 02:00 CET.
    edition = edition_with_deadline(datetime.date(2022, 10, 30))
    # The repeated hour, both times round, still falls on the deadline day.
    assert edition.registration_is_open(utc(2022, 10, 30, 0, 30))  # 02:30 CEST
    assert edition.registration_is_open(utc(2022, 10, 30, 1, 30))  # 02:30 CET
    # After the change Amsterdam is UTC+1, so the day ends at 23:00 UTC, not 22:00.
    assert edition.registration_is_open(utc(2022, 10, 30, 22, 30))
    assert edition.registration_is_open(utc(2022, 10, 30, 22, 59, 59))
    assert not edition.registration_is_open(utc(2022, 10, 30, 23, 0, 0))
    assert edition.registration_closes_at == utc(2022, 10, 30, 23, 0)


def test_deadline_the_day_before_the_autumn_change_closes_at_midnight_cest(db):
    edition = edition_with_deadline(datetime.date(2022, 10, 29))
    assert edition.registration_is_open(utc(2022, 10, 29, 21, 59, 59))
    assert not edition.registration_is_open(utc(2022, 10, 29, 22, 0, 0))
    assert not edition.registration_is_open(ams(2022, 10, 30, 0, 0))


def test_deadline_on_the_spring_dst_change_closes_at_midnight_cest(db):
    # Last Sunday of March 2023: clocks went from 02:00 CET to 03:00 CEST.
    edition = edition_with_deadline(datetime.date(2023, 3, 26))
    assert edition.registration_is_open(utc(2023, 3, 26, 21, 59, 59))
    assert not edition.registration_is_open(utc(2023, 3, 26, 22, 0, 0))
    # The day before the change still ends at 23:00 UTC.
    before = edition_with_deadline(datetime.date(2023, 3, 25))
    assert before.registration_is_open(utc(2023, 3, 25, 22, 59, 59))
    assert not before.registration_is_open(utc(2023, 3, 25, 23, 0, 0))


def test_unpublished_edition_is_never_open(db):
    edition = edition_with_deadline(datetime.date(2022, 9, 16), is_published=False)
    assert not edition.registration_is_open(ams(2022, 9, 1, 12, 0))


def test_edition_that_has_started_is_closed_even_before_its_deadline(db):
    # A deadline typed after the first day must not keep sign-up open during the workshop.
    edition = make_edition(
        start_date=datetime.date(2022, 11, 21),
        end_date=datetime.date(2022, 11, 23),
        registration_deadline=datetime.date(2022, 11, 30),
    )
    assert edition.registration_is_open(ams(2022, 11, 20, 23, 59, 59))
    assert not edition.registration_is_open(ams(2022, 11, 21, 0, 0))
    assert not edition.registration_is_open(ams(2022, 11, 22, 9, 0))


def test_default_moment_is_now(edition_2022):
    with time_machine.travel(ams(2022, 9, 16, 23, 59, 59), tick=False):
        assert edition_2022.registration_is_open()
    with time_machine.travel(ams(2022, 9, 17, 0, 0, 0), tick=False):
        assert not edition_2022.registration_is_open()


def test_register_refuses_inside_the_lock_after_the_deadline(edition_2022):
    from django.utils import timezone

    fields = {
        key: value
        for key, value in sign_up_data(invoice_postcode="3521 AZ").items()
        if key not in ("accept_terms", "accept_privacy", "website")
    }
    fields.update(
        overnight_stay=True, terms_accepted_at=timezone.now(), privacy_accepted_at=timezone.now()
    )
    with pytest.raises(RegistrationClosed):
        Registration.objects.register(edition_2022, at=ams(2022, 9, 17, 0, 0), **fields)
    assert Registration.objects.count() == 0
    Registration.objects.register(edition_2022, at=ams(2022, 9, 16, 23, 59, 59), **fields)
    assert Registration.objects.count() == 1


# The form, at the boundary, with the clock set.


def register_url(edition):
    return reverse("registrations:register", args=[edition.slug])


def test_form_is_shown_on_the_last_second_of_the_deadline_day(client, edition_2022):
    with time_machine.travel(ams(2022, 9, 16, 23, 59, 59), tick=False):
        response = client.get(register_url(edition_2022))
    assert response.status_code == 200
    assert 'id="inschrijfformulier"' in response.content.decode()


def test_form_after_the_deadline_shows_the_closed_notice_with_romys_phone(client, edition_2022):
    with time_machine.travel(ams(2022, 9, 17, 0, 0, 0), tick=False):
        response = client.get(register_url(edition_2022))
    html = response.content.decode()
    assert response.status_code == 200
    assert "De inschrijving is gesloten" in html
    assert "Neem contact op met Romy" in html
    assert '<a href="tel:+31657943732">+31 6 57 94 37 32</a>' in html
    assert 'id="inschrijfformulier"' not in html
    assert 'name="first_name"' not in html


def test_post_before_the_deadline_is_stored(client, edition_2022):
    with time_machine.travel(ams(2022, 9, 16, 23, 59, 59), tick=False):
        response = client.post(register_url(edition_2022), sign_up_data())
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert registration.edition == edition_2022
    assert registration.created_at == ams(2022, 9, 16, 23, 59, 59)


def test_post_after_the_deadline_is_refused_and_stores_nothing(client, edition_2022, mailoutbox):
    with time_machine.travel(ams(2022, 9, 17, 0, 0, 0), tick=False):
        response = client.post(register_url(edition_2022), sign_up_data())
    assert response.status_code == 403
    assert "De inschrijving is gesloten" in response.content.decode()
    assert "Er is niets opgeslagen" in response.content.decode()
    assert Registration.objects.count() == 0
    assert mailoutbox == []


def test_form_loaded_before_and_posted_after_the_deadline_stores_nothing(edition_2022):
    browser = Client(enforce_csrf_checks=True)
    with time_machine.travel(ams(2022, 9, 16, 23, 58), tick=False):
        page = browser.get(register_url(edition_2022))
        assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    # The participant takes two minutes to fill in the form; midnight passes.
    with time_machine.travel(ams(2022, 9, 17, 0, 0, 30), tick=False):
        response = browser.post(
            register_url(edition_2022), {**sign_up_data(), "csrfmiddlewaretoken": token}
        )
    assert response.status_code == 403
    assert "De inschrijving is gesloten" in response.content.decode()
    assert Registration.objects.count() == 0


def test_past_edition_form_is_closed(client, edition_2022):
    response = client.get(register_url(edition_2022))
    assert "De inschrijving is gesloten" in response.content.decode()
    response = client.post(register_url(edition_2022), sign_up_data())
    assert response.status_code == 403
    assert Registration.objects.count() == 0


def test_unpublished_edition_has_no_form(client, db):
    edition = make_edition(is_published=False)
    assert client.get(register_url(edition)).status_code == 404
    assert client.post(register_url(edition), sign_up_data()).status_code == 404
    assert Registration.objects.count() == 0


def test_edition_page_switches_from_open_to_closed_at_midnight(client, edition_2022):
    with time_machine.travel(ams(2022, 9, 16, 23, 59, 59), tick=False):
        html = client.get(edition_2022.get_absolute_url()).content.decode()
    assert "Open tot en met vrijdag 16 september 2022, 23:59 uur" in html
    assert register_url(edition_2022) in html
    with time_machine.travel(ams(2022, 9, 17, 0, 0, 0), tick=False):
        html = client.get(edition_2022.get_absolute_url()).content.decode()
    assert "Gesloten sinds 16 september 2022" in html
    assert register_url(edition_2022) not in html
