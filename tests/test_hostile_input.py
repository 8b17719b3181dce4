"""Hostile input against the sign-up form and every public address.

Each case gets a form error or a 4xx page, never a 500; after a refusal the database is
byte-for-byte what it was. Input that is odd but legitimate (emoji, Arabic, combining
accents, text that looks like SQL or HTML) is stored as typed and shown escaped.
"""

import io
from dataclasses import dataclass, field

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from registrations.forms import OrderForm, ParticipantForm
from registrations.models import Registration
from tests.conftest import make_edition, make_registration, sign_up_data, submission_key_from

LONG = "x" * 10_000
FORM_ERROR = "form error"
STORED = "stored"


def database_dump():
    """Every table, as dumpdata writes it: equal dumps mean an unchanged database."""
    out = io.StringIO()
    # The rate limit counts every POST, refused or not: that is its job, not a change.
    call_command("dumpdata", format="json", exclude=["registrations.ratelimit"], stdout=out)
    return out.getvalue()


@dataclass
class Case:
    name: str
    expect: object  # FORM_ERROR, STORED or an HTTP status code
    data: dict = field(default_factory=dict)  # overrides of a valid sign-up
    method: str = "post"
    body: bytes | None = None
    content_type: str | None = None
    csrf: bool = True
    headers: dict = field(default_factory=dict)


FORM_CASES = [
    Case("every field empty", FORM_ERROR, {k: "" for k in sign_up_data()}),
    Case("whitespace-only names", FORM_ERROR, {"first_name": "   ", "last_name": "\t\n"}),
    Case("whitespace-only organisation", FORM_ERROR, {"organisation": "\u00a0 \u2003"}),
    Case("10 000-character first name", FORM_ERROR, {"first_name": LONG}),
    Case("10 000-character own case", FORM_ERROR, {"own_case": LONG}),
    Case("10 000-character e-mail", FORM_ERROR, {"email": LONG + "@example.nl"}),
    Case("10 000-character postcode", FORM_ERROR, {"invoice_postcode": LONG}),
    Case("NUL byte in a name", FORM_ERROR, {"first_name": "Fati\x00ma"}),
    Case("NUL byte in own case", FORM_ERROR, {"own_case": "vraag\x00"}),
    Case("NUL byte in e-mail", FORM_ERROR, {"email": "fatima\x00@example.nl"}),
    Case(
        "header injection: CRLF Bcc in e-mail",
        FORM_ERROR,
        {"email": "fatima@example.nl\r\nBcc: iedereen@example.com"},
    ),
    Case(
        "header injection: LF Cc in invoice e-mail",
        FORM_ERROR,
        {"invoice_email": "facturen@example.nl\nCc: x@example.com"},
    ),
    Case("display name in e-mail", FORM_ERROR, {"email": "Fatima <fatima@example.nl>"}),
    Case("two addresses in e-mail", FORM_ERROR, {"email": "a@example.nl, b@example.nl"}),
    Case("e-mail without domain", FORM_ERROR, {"email": "fatima@"}),
    Case("e-mail without name", FORM_ERROR, {"email": "@example.nl"}),
    Case("Dutch postcode without letters", FORM_ERROR, {"invoice_postcode": "1234"}),
    Case("Dutch postcode upside down", FORM_ERROR, {"invoice_postcode": "AB 1234"}),
    Case("SQL in postcode", FORM_ERROR, {"invoice_postcode": "1' OR '1'='1"}),
    Case("invalid VAT id", FORM_ERROR, {"vat_id": "NL123"}),
    Case(
        "SQL in VAT id",
        FORM_ERROR,
        {"vat_id": "'; DROP TABLE registrations_registration; --"},
    ),
    Case("unknown sector", FORM_ERROR, {"sector": "hacker"}),
    Case("script as role", FORM_ERROR, {"role": "<script>alert(1)</script>"}),
    Case("unknown country", FORM_ERROR, {"invoice_country": "XX"}),
    Case("overnight stay not yes or no", FORM_ERROR, {"overnight_stay": "misschien"}),
    Case("terms not accepted", FORM_ERROR, {"accept_terms": ""}),
    Case("honeypot filled in", FORM_ERROR, {"website": "http://spam.example.com"}),
    Case("letters as phone number", FORM_ERROR, {"phone": "bel me maar"}),
    Case("script in phone number", FORM_ERROR, {"phone": "06 1234<script>"}),
    Case("right-to-left override in phone", FORM_ERROR, {"phone": "\u202e8765432106"}),
    Case(
        "script in name",
        STORED,
        {
            "first_name": "<script>alert('x')</script>",
            "last_name": '"><img src=x onerror=alert(1)>',
        },
    ),
    Case(
        "SQL-looking name",
        STORED,
        {"last_name": "Robert'); DROP TABLE registrations_registration;--"},
    ),
    Case(
        "Arabic with a right-to-left override",
        STORED,
        {"first_name": "فاطمة", "own_case": "\u202eesac nwo\u202c en nog wat"},
    ),
    Case("combining accents", STORED, {"first_name": "Zoe\u0308", "last_name": "A\u0301lvarez"}),
    Case("emoji", STORED, {"own_case": "Wijk 🏘️ met 👩🏽‍🤝‍👨🏻", "dietary_needs": "🌱"}),
    Case("own case at its maximum", STORED, {"own_case": "w" * 2000}),
    Case(
        "fields the form does not offer",
        STORED,
        {"status": "cancelled", "token": "gekozen", "edition": "999", "is_staff": "1"},
    ),
]

REQUEST_CASES = [
    Case("missing CSRF token", 403, csrf=False),
    Case("wrong CSRF token", 403, {"csrfmiddlewaretoken": "x" * 64}),
    Case("PUT", 405, method="put"),
    Case("PATCH", 405, method="patch"),
    Case("DELETE", 405, method="delete"),
    Case("OPTIONS", 405, method="options"),
    Case("oversized body", 413, {"own_case": "x" * 600_000}),
    Case(
        "oversized multipart body",
        413,
        body=(
            b'--grens\r\nContent-Disposition: form-data; name="own_case"\r\n\r\n'
            + b"x" * 600_000
            + b"\r\n--grens--\r\n"
        ),
        content_type="multipart/form-data; boundary=grens",
    ),
    Case("too many fields", 400, {f"veld{i}": "x" for i in range(1500)}),
    Case(
        "multipart without boundary",
        400,
        body=b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--',
        content_type="multipart/form-data",
    ),
    Case(
        "multipart with a broken boundary",
        400,
        body=b"--x\r\n\r\n",
        content_type="multipart/form-data; boundary=\x00\x01",
    ),
    Case(
        "JSON instead of a form",
        FORM_ERROR,
        body=b'{"first_name": "Fatima"}',
        content_type="application/json",
    ),
    Case("invalid UTF-8 in the body", FORM_ERROR, body=b"first_name=%FF%FE&email=%C0%AF"),
    Case("a foreign Host header", 400, headers={"host": "evil.example.com"}),
]


@pytest.fixture
def edition(db, settings):
    # Many posts from one address in a row: the rate limit is not what these tests test.
    settings.REGISTRATION_RATE_LIMIT = 10_000
    return make_edition(capacity=30)


def _client_with_csrf(edition):
    client = Client(enforce_csrf_checks=True)
    assert client.get(reverse("registrations:register", args=[edition.slug])).status_code == 200
    return client, client.cookies["csrftoken"].value


def _send(client, token, url, case):
    headers = dict(case.headers)
    if case.body is not None:
        if case.csrf:
            headers["X-CSRFToken"] = token
        return client.generic(
            "POST",
            url,
            case.body,
            case.content_type or "application/x-www-form-urlencoded",
            headers=headers,
        )
    data = {**sign_up_data(), **case.data} if case.method == "post" else case.data
    if case.csrf:
        data.setdefault("csrfmiddlewaretoken", token)
        headers["X-CSRFToken"] = data["csrfmiddlewaretoken"]
    if case.method == "post":
        return client.post(url, data, headers=headers)
    return getattr(client, case.method)(url, headers=headers)


@pytest.mark.parametrize("case", FORM_CASES + REQUEST_CASES, ids=lambda case: case.name)
def test_hostile_sign_up_is_refused_or_stored_safely(edition, case):
    client, token = _client_with_csrf(edition)
    url = reverse("registrations:register", args=[edition.slug])
    before = database_dump()

    response = _send(client, token, url, case)

    assert response.status_code < 500
    if case.expect == STORED:
        assert response.status_code == 302, response.content.decode()[:2000]
        registration = Registration.objects.get()
        registration.full_clean()
        assert response["Location"] == registration.get_absolute_url()
        assert registration.status == Registration.Status.CONFIRMED
        assert registration.token != "gekozen"
        assert registration.edition == edition
        for name, value in case.data.items():
            if name in ParticipantForm.Meta.fields:
                assert getattr(registration, name) == value.strip()
            elif name in OrderForm.Meta.fields:
                assert getattr(registration.order, name) == value.strip()
        page = client.get(registration.get_absolute_url()).content.decode()
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        return
    assert database_dump() == before
    if case.expect == FORM_ERROR:
        assert response.status_code == 200
        assert "Je inschrijving is nog niet verstuurd" in response.content.decode()
    else:
        assert response.status_code == case.expect
    if response.status_code == 400:
        assert "Verzoek niet begrepen" in response.content.decode()


@dataclass
class Address:
    name: str
    url: str  # {slug}, {draft} and {token} are filled in
    status: int
    method: str = "get"


PUBLIC_ADDRESSES = [
    Address("home with unknown parameters", "/?utm_source=<script>&x[]=1&x[]=2", 200),
    Address("edition with a huge number", "/werkplaats/{slug}/?page=99999999999999999999", 200),
    Address("edition with SQL in a parameter", "/werkplaats/{slug}/?id=1%27%20OR%201=1--", 200),
    Address("unknown edition", "/werkplaats/bestaat-niet/", 404),
    Address("unpublished edition", "/werkplaats/{draft}/", 404),
    Address("non-ASCII slug", "/werkplaats/w%C3%AFjk/", 404),
    Address("NUL in slug", "/werkplaats/a%00b/", 404),
    Address("10 000-character slug", "/werkplaats/" + LONG + "/", 404),
    Address("calendar of an unknown edition", "/werkplaats/bestaat-niet/agenda.ics", 404),
    Address("calendar with parameters", "/werkplaats/{slug}/agenda.ics?tz=<x>", 200),
    Address("sign-up form with parameters", "/werkplaats/{slug}/inschrijven/?status=x", 200),
    Address("sign-up for an unpublished edition", "/werkplaats/{draft}/inschrijven/", 404),
    Address("token with a NUL byte", "/inschrijving/a%00b/", 404),
    Address("token with SQL", "/inschrijving/%27%20OR%20%271%27=%271/", 404),
    Address("10 000-character token", "/inschrijving/" + LONG + "/", 404),
    Address("token with path traversal", "/inschrijving/..%2F..%2Fbeheer/", 404),
    Address("sequential id as token", "/inschrijving/1/", 404),
    Address("cancel with a bad token", "/inschrijving/niet-geldig/annuleren/", 404),
    Address("cancel POST with a bad token", "/inschrijving/niet-geldig/annuleren/", 404, "post"),
    Address("detail POST", "/inschrijving/{token}/", 405, "post"),
    Address("privacy with parameters", "/privacy/?q=%3Cscript%3E", 200),
    Address("healthz with parameters", "/healthz?verbose=1", 200),
    Address("path traversal into static", "/static/../werkplaats/settings.py", 404),
    Address("unknown address", "/wp-login.php", 404),
    Address("HEAD on home", "/", 200, "head"),
    Address("TRACE on the form", "/werkplaats/{slug}/inschrijven/", 405, "trace"),
]


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES, ids=lambda a: a.name)
def test_hostile_requests_to_public_addresses_get_a_4xx_not_a_500(edition, address):
    draft = make_edition(is_published=False)
    registration = make_registration(edition)
    client, token = _client_with_csrf(edition)
    url = address.url.format(slug=edition.slug, draft=draft.slug, token=registration.token)
    before = database_dump()

    if address.method == "post":
        response = client.post(url, {"csrfmiddlewaretoken": token})
    else:
        response = getattr(client, address.method)(url)

    assert response.status_code == address.status
    assert database_dump() == before
    if address.status == 404:
        assert "Fatima" not in response.content.decode()


def test_there_are_at_least_40_hostile_cases():
    assert len(FORM_CASES) + len(REQUEST_CASES) + len(PUBLIC_ADDRESSES) >= 40
    assert len(FORM_CASES) + len(REQUEST_CASES) >= 40


def test_a_double_submit_with_hostile_resend_stores_one_registration(edition):
    client = Client(enforce_csrf_checks=True)
    url = reverse("registrations:register", args=[edition.slug])
    form_page = client.get(url)
    data = {
        **sign_up_data(),
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        "submission_key": submission_key_from(form_page),
    }
    first = client.post(url, data)
    second = client.post(url, {**data, "email": data["email"].upper()})
    assert first.status_code == second.status_code == 302
    assert Registration.objects.count() == 1


# Values a person might type, and values nobody should: each field gets one of them.
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
# Mostly the valid value, so that a fair share of the examples is stored.
FIELD_VALUES = {
    name: st.one_of(st.just(value), st.just(value), st.just(value), ANY_TEXT)
    for name, value in sign_up_data().items()
}
FIELD_VALUES["email"] = st.one_of(
    st.just("fatima@gemeente.example.nl"), st.emails().map(str), ANY_TEXT
)
FIELD_VALUES["invoice_postcode"] = st.one_of(
    st.just("3521 AZ"), st.from_regex(r"\A[1-9][0-9]{3} ?[A-Za-z]{2}\Z"), ANY_TEXT
)


@hypothesis_settings(
    max_examples=50,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.fixed_dictionaries(FIELD_VALUES))
def test_any_input_stores_one_valid_registration_or_nothing(edition, data):
    client = Client()
    url = reverse("registrations:register", args=[edition.slug])
    with transaction.atomic():
        before = database_dump()
        response = client.post(url, data)
        assert response.status_code in (200, 302)
        event("stored" if response.status_code == 302 else "refused")
        if response.status_code == 302:
            registration = Registration.objects.get()
            registration.full_clean()
            assert registration.status == Registration.Status.CONFIRMED
            assert registration.first_name == data["first_name"].strip()
            assert registration.email.lower() == data["email"].strip().lower()
        else:
            assert "Je inschrijving is nog niet verstuurd" in response.content.decode()
            assert database_dump() == before
        transaction.set_rollback(True)
