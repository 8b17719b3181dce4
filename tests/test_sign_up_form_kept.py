"""The empty sign-up form page each worker keeps (registrations/pages.py) is never stale: it
shows the places left after every sign-up and cancellation, the edition as staff last saved
it, closes at the deadline; and every visitor gets a CSRF token and a key of their own."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from programme.models import Edition
from registrations.models import Registration
from tests.conftest import make_edition, make_registration, sign_up_data, submission_key_from


@pytest.fixture
def edition(db):
    return make_edition(capacity=30)


def form_url(edition):
    return reverse("registrations:register", args=[edition.slug])


def csrf_token_from(response):
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert found, "the form page has no CSRF token"
    return found[1]


def test_the_kept_form_shows_the_places_left_after_a_sign_up_and_a_cancellation(client, edition):
    assert "Nog 30 plaatsen vrij." in client.get(form_url(edition)).content.decode()
    response = client.post(form_url(edition), sign_up_data())
    assert response.status_code == 302
    assert "Nog 29 plaatsen vrij." in client.get(form_url(edition)).content.decode()
    Registration.objects.get(email="fatima@gemeente.example.nl").cancel()
    assert "Nog 30 plaatsen vrij." in client.get(form_url(edition)).content.decode()


def test_the_kept_form_shows_the_edition_as_staff_last_saved_it(client, edition):
    client.get(form_url(edition))
    edition.venue_city = "Zeist"
    edition.save()
    assert "Kaap Doorn Conferentiecentrum, Zeist." in client.get(form_url(edition)).content.decode()


def test_the_kept_form_closes_at_the_deadline(client, edition):
    deadline = datetime.datetime.combine(edition.registration_deadline, datetime.time(12))
    with time_machine.travel(deadline, tick=False):
        assert 'id="inschrijfformulier"' in client.get(form_url(edition)).content.decode()
    with time_machine.travel(deadline + datetime.timedelta(days=2), tick=False):
        response = client.get(form_url(edition))
    assert response.status_code == 200
    assert 'id="inschrijfformulier"' not in response.content.decode()


def test_an_edition_no_longer_published_has_no_form(client, edition):
    assert client.get(form_url(edition)).status_code == 200
    Edition.objects.filter(pk=edition.pk).update(is_published=False)
    assert client.get(form_url(edition)).status_code == 404


def test_each_visitor_gets_a_token_and_key_of_their_own_that_sign_up_accepts(edition):
    anne, bert = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    pages = {visitor: visitor.get(form_url(edition)) for visitor in (anne, bert)}
    assert csrf_token_from(pages[anne]) != csrf_token_from(pages[bert])
    assert submission_key_from(pages[anne]) != submission_key_from(pages[bert])
    for number, (visitor, page) in enumerate(pages.items()):
        data = sign_up_data(
            email=f"deelnemer{number}@gemeente.example.nl",
            csrfmiddlewaretoken=csrf_token_from(page),
            submission_key=submission_key_from(page),
        )
        assert visitor.post(form_url(edition), data).status_code == 302
    stored = Registration.objects.filter(edition=edition).select_related("order")
    assert sorted(r.order.submission_key for r in stored) == sorted(
        submission_key_from(page) for page in pages.values()
    )


def test_a_kept_form_costs_one_query_without_redis(client, edition):
    make_registration(edition, email="eerder@gemeente.example.nl")
    client.get(form_url(edition))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(form_url(edition))
    assert response.status_code == 200
    # Only the page versions: the worker's copy is still the page.
    assert len(queries) == 1
    assert "Nog 29 plaatsen vrij." in response.content.decode()
