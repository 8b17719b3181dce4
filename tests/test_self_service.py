"""The participant's own page: changing their choices before the deadline, naming a substitute
until the start, and asking for the personal link again. Every change is recorded and staff
are told; the agreed price never changes."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from registrations.models import Registration, RegistrationChange, TransitionRefused
from tests.conftest import make_edition, make_registration

STAFF = "team-werkplaats@platform31.example.nl"


@pytest.fixture(autouse=True)
def _staff_address(settings):
    settings.STAFF_NOTIFICATION_EMAIL = STAFF


@pytest.fixture
def registration(db):
    return make_registration(make_edition(), dietary_needs="vegetarisch", overnight_stay=True)


def choices_url(registration):
    return reverse("registrations:change_choices", args=[registration.token])


def substitute_url(registration):
    return reverse("registrations:substitute", args=[registration.token])


def choices(**overrides):
    data = {
        "keuzes-overnight_stay": "",
        "keuzes-dietary_needs": "halal",
        "keuzes-accessibility_needs": "rolstoel",
    }
    data.update(overrides)
    return data


def substitute(**overrides):
    data = {
        "vervanger-first_name": "Sanne",
        "vervanger-last_name": "de Vries",
        "vervanger-email": "Sanne@Gemeente.example.nl",
        "vervanger-phone": "06 98765432",
        "vervanger-job_title": "Beleidsadviseur",
    }
    data.update(overrides)
    return data


def test_participant_changes_own_choices_before_the_deadline(client, registration, mailoutbox):
    response = client.post(choices_url(registration), choices())

    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.overnight_stay is False
    assert registration.dietary_needs == "halal"
    assert registration.accessibility_needs == "rolstoel"
    change = RegistrationChange.objects.get()
    assert change.kind == "choices"
    # Which fields, never their values: wishes do not outlive the registration's retention.
    assert "dieetwensen" in change.fields and "halal" not in change.fields
    [staff_mail] = mailoutbox
    assert staff_mail.to == [STAFF]
    assert registration.reference in staff_mail.subject
    assert "halal" in staff_mail.body


def test_the_personal_page_offers_the_choices_form_with_the_current_values(client, registration):
    html = client.get(registration.get_absolute_url()).content.decode()
    assert choices_url(registration) in html
    assert 'value="vegetarisch"' in html


def test_unchanged_choices_record_nothing_and_tell_nobody(client, registration, mailoutbox):
    client.post(
        choices_url(registration),
        choices(
            **{
                "keuzes-overnight_stay": "on",
                "keuzes-dietary_needs": "vegetarisch",
                "keuzes-accessibility_needs": "",
            }
        ),
    )
    assert RegistrationChange.objects.count() == 0
    assert mailoutbox == []


def test_choices_after_the_deadline_are_refused_and_change_nothing(client, db, mailoutbox):
    today = datetime.date.today()
    edition = make_edition(
        start_date=today + datetime.timedelta(days=10),
        end_date=today + datetime.timedelta(days=12),
        registration_deadline=today - datetime.timedelta(days=1),
    )
    registration = make_registration(edition, dietary_needs="vegetarisch")

    html = client.get(registration.get_absolute_url()).content.decode()
    assert choices_url(registration) not in html
    response = client.post(choices_url(registration), choices())

    assert response.status_code == 409
    assert "De deadline is voorbij" in response.content.decode()
    registration.refresh_from_db()
    assert registration.dietary_needs == "vegetarisch"
    assert RegistrationChange.objects.count() == 0
    assert mailoutbox == []


def test_the_deadline_rule_holds_in_the_shell_too(registration):
    after = timezone.now() + datetime.timedelta(days=400)
    with pytest.raises(TransitionRefused):
        registration.change_choices(at=after, dietary_needs="halal")
    with pytest.raises(ValueError):
        registration.change_choices(price_excl_vat=0)


def test_cancelled_registration_cannot_change_choices(client, registration):
    registration.cancel()
    response = client.post(choices_url(registration), choices())
    assert response.status_code == 409
    registration.refresh_from_db()
    assert registration.dietary_needs == "vegetarisch"


def test_choices_only_by_post(client, registration):
    assert client.get(choices_url(registration)).status_code == 405
    assert client.get(substitute_url(registration)).status_code == 405


def test_substitute_takes_the_place_with_a_new_link_and_the_same_price(
    client, registration, mailoutbox
):
    old_url = registration.get_absolute_url()
    old_email = registration.email
    price = registration.price_excl_vat

    response = client.post(substitute_url(registration), substitute())

    assert response.status_code == 200
    assert "Je vervanger is aangemeld" in response.content.decode()
    registration.refresh_from_db()
    assert registration.full_name == "Sanne de Vries"
    assert registration.email == "sanne@gemeente.example.nl"
    assert registration.organisation == "Gemeente Utrecht"
    assert registration.price_excl_vat == price
    assert registration.status == Registration.Status.CONFIRMED
    # The previous person's wishes go with them.
    assert registration.dietary_needs == ""
    assert client.get(old_url).status_code == 404
    assert client.get(registration.get_absolute_url()).status_code == 200
    assert RegistrationChange.objects.get().kind == "substitute"
    by_recipient = {message.to[0]: message for message in mailoutbox}
    # Whoever handed the place over is told it went (the booker is the same person here).
    assert set(by_recipient) == {STAFF, "sanne@gemeente.example.nl", old_email}
    confirmation = by_recipient["sanne@gemeente.example.nl"]
    assert confirmation.subject.startswith("Je bent aangemeld als vervanger")
    assert registration.get_absolute_url() in confirmation.body
    assert "Sanne de Vries" in by_recipient[STAFF].body


def test_substitute_with_an_address_already_signed_up_is_refused(client, registration):
    make_registration(registration.edition, email="sanne@gemeente.example.nl")
    response = client.post(substitute_url(registration), substitute())
    assert response.status_code == 409
    assert "al iemand ingeschreven" in response.content.decode()
    registration.refresh_from_db()
    assert registration.first_name == "Fatima"
    assert RegistrationChange.objects.count() == 0


def test_substitute_with_the_own_address_is_refused(client, registration):
    response = client.post(
        substitute_url(registration), substitute(**{"vervanger-email": registration.email.upper()})
    )
    assert response.status_code == 409
    registration.refresh_from_db()
    assert registration.first_name == "Fatima"


def test_substitute_form_errors_are_shown_and_change_nothing(client, registration):
    response = client.post(substitute_url(registration), substitute(**{"vervanger-email": "x"}))
    assert response.status_code == 400
    assert "Vul een geldig e-mailadres in" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    registration.refresh_from_db()
    assert registration.first_name == "Fatima"


def test_substitute_after_the_deadline_but_before_the_start_is_allowed(client, db):
    today = datetime.date.today()
    edition = make_edition(
        start_date=today + datetime.timedelta(days=3),
        end_date=today + datetime.timedelta(days=5),
        registration_deadline=today - datetime.timedelta(days=1),
    )
    registration = make_registration(edition)
    assert client.post(substitute_url(registration), substitute()).status_code == 200


def test_substitute_from_the_start_is_refused(client, registration):
    start = registration.edition.starts_at()
    with time_machine.travel(start, tick=False):
        response = client.post(substitute_url(registration), substitute())
    assert response.status_code == 409
    registration.refresh_from_db()
    assert registration.first_name == "Fatima"


# Stuur mij mijn bevestigingslink opnieuw


def resend_url(edition):
    return reverse("registrations:resend_link", args=[edition.slug])


SAME_ANSWER = "Als er een inschrijving is met dit adres"


def test_link_is_mailed_to_the_registered_address_only(client, registration, mailoutbox):
    response = client.post(resend_url(registration.edition), {"email": registration.email.upper()})

    assert SAME_ANSWER in response.content.decode()
    [message] = mailoutbox
    assert message.to == [registration.email]
    assert registration.get_absolute_url() in message.body
    # The page itself never shows the link.
    assert registration.token not in response.content.decode()


def test_unknown_address_gets_the_same_answer_and_no_mail(client, registration, mailoutbox):
    response = client.post(resend_url(registration.edition), {"email": "nobody@example.nl"})
    assert response.status_code == 200
    assert SAME_ANSWER in response.content.decode()
    assert mailoutbox == []


def test_cancelled_registration_gets_no_link(client, registration, mailoutbox):
    registration.cancel()
    mailoutbox.clear()
    client.post(resend_url(registration.edition), {"email": registration.email})
    assert mailoutbox == []


def test_resend_page_asks_for_an_address(client, registration):
    response = client.get(resend_url(registration.edition))
    assert response.status_code == 200
    assert "Stuur mij mijn bevestigingslink opnieuw" in response.content.decode()
    response = client.post(resend_url(registration.edition), {"email": "geen-adres"})
    assert "Vul een geldig e-mailadres in" in response.content.decode()


def test_resend_is_rate_limited_like_the_sign_up(client, registration, settings, mailoutbox):
    settings.REGISTRATION_RATE_LIMIT = 2
    for _ in range(2):
        client.post(resend_url(registration.edition), {"email": registration.email})
    response = client.post(resend_url(registration.edition), {"email": registration.email})
    assert response.status_code == 429
    assert "Retry-After" in response
    assert len(mailoutbox) == 2


def test_staff_read_the_change_log_on_the_registration_and_cannot_edit_it(
    client, registration, staff_member
):
    registration.change_choices(dietary_needs="halal")
    client.force_login(staff_member)
    url = reverse("admin:registrations_registration_change", args=[registration.pk])
    html = client.get(url).content.decode()
    assert "keuzes gewijzigd" in html
    assert "dieetwensen" in html
    assert 'name="changes-TOTAL_FORMS"' in html
    assert 'name="changes-0-fields"' not in html  # shown, not editable
