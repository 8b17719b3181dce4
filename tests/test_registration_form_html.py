"""The sign-up form's HTML is what it was before its rendering was made faster (issue 28):
the empty form, the form with errors and a selected country, and the form with a colleague
added, compared with snapshots rendered by the code without the faster rendering (taken
again when the form itself changes, e.g. issue 23's optional KvK number), the CSRF token
and the submission key masked."""

import datetime
import re
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from programme.models import Edition
from registrations.forms import Select
from tests.conftest import make_edition, sign_up_data, submission_key_from

SNAPSHOTS = Path(__file__).parent / "snapshots"
AT = datetime.datetime(2030, 3, 2, 10, 15, tzinfo=datetime.UTC)


def normalised(html):
    html = re.sub(
        r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="CSRF"', html
    )
    return re.sub(r'name="submission_key" value="[^"]+"', 'name="submission_key" value="KEY"', html)


@pytest.fixture
def form_url(db):
    start = datetime.date(2030, 9, 10)
    edition = make_edition(
        slug="snapshot-2030",
        start_date=start,
        end_date=start + datetime.timedelta(days=2),
        registration_deadline=start - datetime.timedelta(days=66),
        capacity=30,
    )
    return reverse("registrations:register", args=[edition.slug])


def page(response):
    assert response.status_code == 200
    return normalised(response.content.decode())


def snapshot(name):
    return (SNAPSHOTS / f"sign_up_form_{name}.html").read_text()


def test_the_empty_form_is_the_same_html_for_every_visitor_but_its_key(client, form_url):
    with time_machine.travel(AT, tick=False):
        first, second = client.get(form_url), client.get(form_url)
    assert page(first) == page(second) == snapshot("empty")
    # Each visitor still gets a key of their own.
    assert submission_key_from(first) != submission_key_from(second)


def test_the_form_with_errors_is_the_same_html(client, form_url):
    data = sign_up_data(
        phone="", invoice_country="BE", invoice_postcode="1000", kvk_number="", vat_id=""
    )
    with time_machine.travel(AT, tick=False):
        client.get(form_url)
        response = client.post(form_url, data)
    assert page(response) == snapshot("errors")


def test_the_form_with_a_colleague_added_is_the_same_html(client, form_url):
    data = {**sign_up_data(invoice_country="DE"), "add_colleague": "1"}
    with time_machine.travel(AT, tick=False):
        client.get(form_url)
        response = client.post(form_url, data)
    assert page(response) == snapshot("colleague")


def test_the_empty_form_shows_the_editions_terms_as_they_are_now(client, form_url):
    with time_machine.travel(AT, tick=False):
        client.get(form_url)
        Edition.objects.filter(slug="snapshot-2030").update(terms="Nieuwe voorwaarden.")
        html = client.get(form_url).content.decode()
    assert "Nieuwe voorwaarden." in html
    assert "Annuleren kan kosteloos" not in html


def test_a_posted_country_outside_the_list_is_shown_but_not_kept(client, form_url):
    Select.rendered.clear()
    with time_machine.travel(AT, tick=False):
        client.get(form_url)
        response = client.post(form_url, sign_up_data(invoice_country="XX"))
    assert response.status_code == 200
    assert 'name="invoice_country"' in response.content.decode()
    assert [key for key in Select.rendered if key[1] != ("NL",)] == []
    assert len(Select.rendered) == 1
