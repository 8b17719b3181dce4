"""The public sign-up form: what it stores, how it tells people what is wrong, and the rules the
server enforces (duplicates, double submits, honeypot, rate limit, CSRF, waiting list)."""

import copy
import datetime
import re
import threading
import time
from html.parser import HTMLParser
from unittest import mock

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.test import Client
from django.urls import reverse
from stdnum.eu import vat as eu_vat

from registrations import emails
from registrations.models import AlreadyRegistered, Registration
from tests.conftest import make_edition, make_registration, sign_up_data, submission_key_from


def register_url(edition):
    return reverse("registrations:register", args=[edition.slug])


@pytest.fixture
def post(client, open_edition):
    def _post(**overrides):
        return client.post(register_url(open_edition), sign_up_data(**overrides))

    return _post


def test_successful_sign_up_stores_one_normalised_record(client, open_edition, mailoutbox):
    moment = datetime.datetime(2026, 3, 2, 10, 15, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        response = client.post(
            register_url(open_edition), sign_up_data(invoice_postcode=" 1234ab ")
        )
    registration = Registration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/inschrijving/{registration.token}/"
    assert registration.edition == open_edition
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.order.invoice_postcode == "1234 AB"
    assert registration.order.terms_accepted_at == moment
    # The privacy statement is shown, not consented to: the agreement is the legal basis.
    assert registration.order.privacy_accepted_at == moment
    assert registration.created_at == moment
    assert registration.overnight_stay is True
    assert registration.sector == "gemeente"
    assert registration.order.po_number == "PO-2022-0042"
    assert str(registration.order.invoice_country) == "NL"
    # The token is the confirmation page's only key: long and random, not the id.
    assert len(registration.token) >= 40
    assert len(mailoutbox) == 2


def test_tokens_differ_between_registrations(client, open_edition):
    client.post(register_url(open_edition), sign_up_data(email="een@example.nl"))
    Client().post(register_url(open_edition), sign_up_data(email="twee@example.nl"))
    tokens = set(Registration.objects.values_list("token", flat=True))
    assert len(tokens) == 2


def test_not_staying_overnight_is_stored(post):
    post(overnight_stay="nee")
    assert Registration.objects.get().overnight_stay is False


def test_errors_are_in_dutch_next_to_the_field_and_summarised_at_the_top(post):
    response = post(first_name="", email="fatima@")
    html = response.content.decode()
    assert response.status_code == 200
    assert Registration.objects.count() == 0
    summary = html[html.index("form-error-summary") : html.index("</ul>", html.index("foutkop"))]
    assert "Je inschrijving is nog niet verstuurd. Verbeter deze 2 fouten:" in summary
    assert '<a href="#id_first_name">Voornaam: Dit veld is verplicht.</a>' in summary
    assert (
        '<a href="#id_email">E-mailadres: Vul een geldig e-mailadres in, zoals naam@organisatie.nl.</a>'
        in summary
    )
    # Next to the field, tied to it for screen readers.
    assert 'aria-describedby="id_first_name_error"' in html
    assert re.search(
        r'<div id="id_first_name_error" class="invalid-feedback">\s*'
        r'<span id="error_1_id_first_name"><strong>Dit veld is verplicht.</strong>',
        html,
    )
    assert re.search(r'name="email" value="fatima@"[^>]*aria-invalid="true"', html)
    assert "Fout in formulier" in html[: html.index("</title>")]


def test_form_keeps_what_was_typed_after_an_error(post):
    html = post(
        first_name="",
        own_case="Onze wijk <Kanaleneiland> & meer",
        sector="politie",
        overnight_stay="nee",
        invoice_country="BE",
    ).content.decode()
    assert 'name="last_name" value="El Amrani"' in html
    assert 'name="organisation" value="Gemeente Utrecht"' in html
    assert 'name="po_number" value="PO-2022-0042"' in html
    assert "Onze wijk &lt;Kanaleneiland&gt; &amp; meer</textarea>" in html
    assert '<option value="politie" selected>' in html
    assert '<option value="BE" selected>' in html
    assert re.search(r'value="nee"[^>]*checked|checked[^>]*value="nee"', html)


def test_sector_and_role_serve_only_statistics_and_may_stay_empty(post):
    assert post(sector="", role="", job_title="").status_code == 302


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("invoice_postcode", "12345", "Vul een Nederlandse postcode in."),
        ("invoice_postcode", "1234 A", "Vul een Nederlandse postcode in."),
        ("vat_id", "NL123456789B02", "Dit btw-nummer klopt niet."),
        ("vat_id", "onzin", "Dit btw-nummer klopt niet."),
        ("phone", "bel me maar", "Vul een geldig telefoonnummer in"),
        ("phone", "0612", "Vul een geldig telefoonnummer in"),
        (
            "email",
            "fatima@@example.nl",
            "Vul een geldig e-mailadres in, zoals naam@organisatie.nl.",
        ),
        ("invoice_email", "facturen", "Vul een geldig e-mailadres in, zoals naam@organisatie.nl."),
        ("first_name", "", "Dit veld is verplicht."),
        ("accept_terms", "", "Ga akkoord met de voorwaarden om in te schrijven."),
    ],
)
def test_invalid_value_is_refused_with_a_dutch_message(post, field, value, message):
    response = post(**{field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Registration.objects.count() == 0


def test_foreign_postcode_is_kept_as_typed(post):
    post(invoice_country="BE", invoice_postcode="1000", invoice_city="Brussel")
    registration = Registration.objects.get()
    assert registration.order.invoice_postcode == "1000"
    assert str(registration.order.invoice_country) == "BE"


def test_valid_vat_id_is_normalised(post):
    assert eu_vat.is_valid("NL000099998B57")
    response = post(vat_id=" nl 0000.99998.b57 ")
    assert response.status_code == 302
    assert Registration.objects.get().order.vat_id == "NL000099998B57"


def test_phone_in_international_form_is_accepted(post):
    assert post(phone="+31 (0)6-1234 5678").status_code == 302


def test_invoice_organisation_and_email_default_to_the_participants(post):
    post(invoice_organisation="", invoice_email="")
    registration = Registration.objects.get()
    assert registration.order.invoice_organisation == "Gemeente Utrecht"
    assert registration.order.invoice_email == "fatima@gemeente.example.nl"


def test_filled_honeypot_stores_nothing(post, mailoutbox):
    response = post(website="https://spam.example.com")
    assert response.status_code == 200
    assert "Je inschrijving kon niet worden verwerkt" in response.content.decode()
    assert Registration.objects.count() == 0
    assert mailoutbox == []


def test_rate_limit_answers_429_after_the_allowed_posts(client, open_edition, settings):
    settings.REGISTRATION_RATE_LIMIT = 3
    for _ in range(3):
        response = client.post(register_url(open_edition), sign_up_data(first_name=""))
        assert response.status_code == 200
    response = client.post(register_url(open_edition), sign_up_data())
    assert response.status_code == 429
    html = response.content.decode()
    assert "Even geduld" in html
    assert "Er is niets opgeslagen" in html
    assert Registration.objects.count() == 0
    # Reading the form is not limited.
    assert client.get(register_url(open_edition)).status_code == 200


def test_rate_limit_counts_per_client_address(open_edition, settings):
    settings.REGISTRATION_RATE_LIMIT = 1
    first = Client(REMOTE_ADDR="192.0.2.1")
    first.post(register_url(open_edition), sign_up_data(first_name=""))
    assert first.post(register_url(open_edition), sign_up_data()).status_code == 429
    other = Client(REMOTE_ADDR="192.0.2.2")
    assert other.post(register_url(open_edition), sign_up_data()).status_code == 302
    assert Registration.objects.count() == 1


def test_post_without_csrf_token_is_refused(open_edition):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(register_url(open_edition), sign_up_data())
    assert response.status_code == 403
    assert Registration.objects.count() == 0


def test_post_with_csrf_token_from_the_form_is_accepted(open_edition):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(register_url(open_edition)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    response = browser.post(
        register_url(open_edition), {**sign_up_data(), "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Registration.objects.count() == 1


def test_same_email_for_the_same_edition_gets_a_friendly_message(client, open_edition, mailoutbox):
    client.post(register_url(open_edition), sign_up_data())
    mailoutbox.clear()
    # Someone else (another browser) signs up with the same address in other capitals.
    response = Client().post(
        register_url(open_edition), sign_up_data(email="FATIMA@Gemeente.Example.NL")
    )
    assert response.status_code == 200
    assert "Met dit e-mailadres is al ingeschreven voor deze werkplaats." in (
        response.content.decode()
    )
    assert Registration.objects.count() == 1
    assert mailoutbox == []


def test_same_email_may_sign_up_for_another_edition(client, open_edition):
    other = make_edition(slug="ander")
    client.post(register_url(open_edition), sign_up_data())
    response = client.post(register_url(other), sign_up_data())
    assert response.status_code == 302
    assert Registration.objects.count() == 2


def test_same_email_may_sign_up_again_after_cancelling(client, open_edition):
    make_registration(
        open_edition, email="fatima@gemeente.example.nl", status=Registration.Status.CANCELLED
    )
    response = client.post(register_url(open_edition), sign_up_data())
    assert response.status_code == 302
    assert Registration.objects.count() == 2
    assert Registration.objects.active().count() == 1


def test_database_refuses_a_second_active_registration_for_the_same_email(open_edition):
    first = make_registration(open_edition, email="fatima@example.nl")
    with pytest.raises(AlreadyRegistered):
        make_registration(open_edition, email="Fatima@Example.NL")
    # The database itself refuses too, past the model (bulk_create skips save()).
    twin = Registration.objects.get(pk=first.pk)
    twin.pk, twin.token, twin.email = None, "another-token", "Fatima@Example.NL"
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.bulk_create([twin])
    assert Registration.objects.count() == 1
    # Once the first is cancelled the address is free: the rule is about active ones.
    first.cancel()
    make_registration(open_edition, email="FATIMA@example.nl")
    assert Registration.objects.count() == 2


def test_double_clicked_submit_creates_one_record_and_both_land_on_the_confirmation(
    client, open_edition, mailoutbox
):
    # Both POSTs of a double click carry the key of the one form page they came from.
    key = submission_key_from(client.get(register_url(open_edition)))
    first = client.post(register_url(open_edition), sign_up_data(submission_key=key))
    second = client.post(register_url(open_edition), sign_up_data(submission_key=key))
    registration = Registration.objects.get()
    assert registration.order.submission_key == key
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == registration.get_absolute_url()
    assert client.get(second["Location"]).status_code == 200
    # One confirmation and one staff notification, not two of each.
    assert len(mailoutbox) == 2


def test_every_form_page_has_its_own_submission_key(client, open_edition):
    keys = {submission_key_from(client.get(register_url(open_edition))) for _ in range(3)}
    assert len(keys) == 3
    assert all(len(key) >= 32 for key in keys)


def test_same_address_from_another_form_page_is_refused_not_shown_the_first_registration(
    open_edition,
):
    # Someone who knows Fatima's e-mail address must not reach her confirmation page.
    fatima, stranger = Client(), Client()
    key = submission_key_from(fatima.get(register_url(open_edition)))
    fatima.post(register_url(open_edition), sign_up_data(submission_key=key))
    for other_key in ["", submission_key_from(stranger.get(register_url(open_edition)))]:
        response = stranger.post(register_url(open_edition), sign_up_data(submission_key=other_key))
        assert response.status_code == 200
        assert "Met dit e-mailadres is al ingeschreven" in response.content.decode()
        assert Registration.objects.get().token not in response.content.decode()


def test_a_malformed_submission_key_is_ignored_not_an_error(client, open_edition):
    response = client.post(register_url(open_edition), sign_up_data(submission_key="<script>" * 20))
    assert response.status_code == 302
    assert Registration.objects.get().order.submission_key == ""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_double_click_creates_one_record_and_both_land_on_the_confirmation(postgres):
    edition = make_edition()
    url = register_url(edition)
    form_page = Client()
    key = submission_key_from(form_page.get(url))
    real_send = emails.send_confirmation

    def slow_send(registration):
        # A mail server that takes its time: the second click is waiting meanwhile.
        time.sleep(0.3)
        return real_send(registration)

    start = threading.Barrier(2)
    responses = []

    def click():
        browser = Client()
        browser.cookies = copy.deepcopy(form_page.cookies)
        start.wait()
        try:
            responses.append(browser.post(url, sign_up_data(submission_key=key)))
        finally:
            db_connection.close()

    with mock.patch.object(emails, "send_confirmation", slow_send):
        threads = [threading.Thread(target=click) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    registration = Registration.objects.get()
    assert [r.status_code for r in responses] == [302, 302]
    assert {r["Location"] for r in responses} == {registration.get_absolute_url()}


def test_full_edition_puts_new_sign_ups_on_the_waiting_list(client, db, mailoutbox):
    edition = make_edition(capacity=1)
    make_registration(edition)
    response = client.post(register_url(edition), sign_up_data(), follow=True)
    registration = Registration.objects.get(email="fatima@gemeente.example.nl")
    assert registration.status == Registration.Status.WAITING
    html = response.content.decode()
    assert "Je staat op de wachtlijst" in html
    assert "De factuur volgt" not in html
    confirmation = next(m for m in mailoutbox if m.to == ["fatima@gemeente.example.nl"])
    assert "wachtlijst" in confirmation.subject
    assert "je staat op de wachtlijst" in confirmation.body
    assert edition.registrations.confirmed().count() == 1


def test_cancelled_registrations_do_not_take_a_place(client, db):
    edition = make_edition(capacity=1)
    make_registration(edition, status=Registration.Status.CANCELLED)
    client.post(register_url(edition), sign_up_data())
    assert Registration.objects.get(email="fatima@gemeente.example.nl").status == "confirmed"


def test_stored_text_is_shown_escaped_on_the_confirmation_page(client, open_edition):
    response = client.post(
        register_url(open_edition),
        sign_up_data(
            first_name="<script>alert(1)</script>",
            organisation="Wonen & Zo <b>",
            dietary_needs='"><img src=x onerror=alert(2)>',
        ),
        follow=True,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Wonen &amp; Zo &lt;b&gt;" in html
    assert "<img src=x" not in html


class _Fields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.labels = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in (
            "hidden",
            "submit",
        ):
            self.ids.append(attrs.get("id"))


def test_every_form_field_has_a_real_label(client, open_edition):
    parser = _Fields()
    parser.feed(client.get(register_url(open_edition)).content.decode())
    assert len(parser.ids) > 20
    missing = [field_id for field_id in parser.ids if field_id not in parser.labels]
    assert missing == []


def test_sector_and_role_choices_follow_the_published_audience(client, open_edition):
    html = client.get(register_url(open_edition)).content.decode()
    for label in [
        "Gemeente",
        "Welzijnsinstelling",
        "Onderwijs",
        "Zorgverlening",
        "Sociaal en gemeenschapswerk",
        "Impactondernemer",
        "Maatschappelijk initiatief",
        "Woningcorporatie",
        "Politie",
        "Programma- of projectleider",
        "Manager",
        "Onderzoeker",
        "Uitvoerend professional",
        "Adviseur",
    ]:
        assert f">{label}</option>" in html, label
    assert '<option value="" selected>Maak een keuze</option>' in html
