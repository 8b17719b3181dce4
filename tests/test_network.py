"""A network by consent: on the personal page a participant shares name, organisation,
function and e-mail with the others of their edition who do the same, in one click, and stops
in one click; recorded with dates; the only personal data that outlives the retention, and
only while the consent stands."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from registrations.models import Registration
from registrations.network.models import Consent
from registrations.retention import anonymise_on
from tests.conftest import make_edition, make_registration

START = datetime.date(2027, 3, 8)
DURING = START + datetime.timedelta(days=1)


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def new_edition(start=START, **fields):
    with time_machine.travel(at(start - datetime.timedelta(days=100)), tick=False):
        return make_edition(
            start_date=start,
            end_date=start + datetime.timedelta(days=2),
            registration_deadline=start - datetime.timedelta(days=14),
            **fields,
        )


def person(edition, first_name, **fields):
    with time_machine.travel(at(edition.start_date - datetime.timedelta(days=60)), tick=False):
        return make_registration(
            edition,
            first_name=first_name,
            last_name="Bakker",
            email=f"{first_name.lower()}@example.nl",
            organisation=f"Wijkteam {first_name}",
            job_title="Opbouwwerker",
            **fields,
        )


@pytest.fixture
def edition(db):
    return new_edition()


def share(client, registration, yes=True, day=DURING):
    with time_machine.travel(at(day), tick=False):
        return client.post(
            reverse("network:consent", args=[registration.token]),
            {"share": "ja" if yes else "nee"},
        )


def page(client, registration, day=DURING):
    with time_machine.travel(at(day), tick=False):
        return client.get(registration.get_absolute_url()).content.decode()


def test_a_participant_shares_in_one_click_and_stops_in_one_click(client, edition):
    sanne = person(edition, "Sanne")
    response = share(client, sanne)
    assert response.status_code == 302
    assert response["Location"].endswith("#netwerk")
    consent = Consent.objects.get(registration=sanne)
    assert consent.given_on == DURING
    assert consent.withdrawn_on is None
    assert (consent.name, consent.organisation, consent.job_title, consent.email) == (
        "Sanne Bakker",
        "Wijkteam Sanne",
        "Opbouwwerker",
        "sanne@example.nl",
    )
    later = DURING + datetime.timedelta(days=20)
    assert share(client, sanne, yes=False, day=later).status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_on == later  # recorded, with its date
    assert (consent.name, consent.organisation, consent.job_title, consent.email) == (
        "",
        "",
        "",
        "",
    )
    # Sharing again is a new consent; the old one stays as it was recorded.
    share(client, sanne, day=later)
    assert Consent.objects.filter(registration=sanne).count() == 2
    assert Consent.objects.standing().get(registration=sanne).given_on == later


def test_sharing_twice_records_one_consent(client, edition):
    sanne = person(edition, "Sanne")
    share(client, sanne)
    share(client, sanne)
    assert Consent.objects.filter(registration=sanne).count() == 1


def test_the_network_list_shows_only_those_who_consented(client, edition):
    sanne, noor, kim = (person(edition, name) for name in ("Sanne", "Noor", "Kim"))
    elsewhere = person(new_edition(START + datetime.timedelta(days=30), slug="elders"), "Jet")
    share(client, sanne)
    share(client, noor)
    share(client, elsewhere, day=START + datetime.timedelta(days=31))
    html = page(client, sanne)
    assert "Noor Bakker" in html
    assert "noor@example.nl" in html
    assert "Wijkteam Noor" in html
    assert "kim@example.nl" not in html  # did not consent
    assert "jet@example.nl" not in html  # another edition
    assert "Stop met delen" in html


def test_who_does_not_share_sees_nobody(client, edition):
    sanne, kim = person(edition, "Sanne"), person(edition, "Kim")
    share(client, sanne)
    html = page(client, kim)
    assert "Deel mijn gegevens" in html
    assert "sanne@example.nl" not in html
    assert "Sanne Bakker" not in html


def test_only_a_confirmed_participant_can_share(client, edition):
    waiting = person(edition, "Wim", status=Registration.Status.WAITING)
    response = share(client, waiting)
    assert response.status_code == 409
    assert "bevestigd" in response.content.decode()
    assert not Consent.objects.exists()


def test_the_network_opens_on_the_first_day(client, edition):
    sanne = person(edition, "Sanne")
    before = START - datetime.timedelta(days=1)
    assert "netwerk" not in page(client, sanne, day=before).lower()
    response = share(client, sanne, day=before)
    assert response.status_code == 409
    assert "vanaf de eerste dag" in response.content.decode()
    assert not Consent.objects.exists()
    assert "Deel mijn gegevens" in page(client, sanne, day=START)


def test_the_consent_is_changed_by_post_only(client, edition):
    sanne = person(edition, "Sanne")
    response = client.get(reverse("network:consent", args=[sanne.token]))
    assert response.status_code == 405
    assert not Consent.objects.exists()


def test_a_cancelled_participant_leaves_the_network(client, edition):
    sanne, noor = person(edition, "Sanne"), person(edition, "Noor")
    share(client, sanne)
    share(client, noor)
    with time_machine.travel(at(START - datetime.timedelta(days=20)), tick=False):
        Registration.objects.get(pk=noor.pk).cancel()
    consent = Consent.objects.get(registration=noor)
    assert consent.withdrawn_on is not None
    assert consent.email == ""
    assert "noor@example.nl" not in page(client, sanne)


def test_the_network_outlives_the_retention_only_while_consent_stands(client, edition):
    sanne, noor, kim, jet = (person(edition, n) for n in ("Sanne", "Noor", "Kim", "Jet"))
    share(client, sanne)
    share(client, noor)
    share(client, jet)
    share(client, jet, yes=False, day=DURING + datetime.timedelta(days=1))
    due = anonymise_on(edition)
    out = io.StringIO()
    with time_machine.travel(at(due), tick=False):
        call_command("apply_retention", stdout=out)
    assert "netwerk: 2 toestemming(en) bewaard" in out.getvalue()
    for registration in (sanne, noor, kim, jet):
        registration.refresh_from_db()
        assert registration.anonymised_at is not None
        assert registration.email.endswith("@invalid")
    # Kept: the two who consent, with what they shared; nothing of who withdrew or never did.
    kept = {c.email for c in Consent.objects.standing()}
    assert kept == {"sanne@example.nl", "noor@example.nl"}
    assert not Consent.objects.filter(email__in=["jet@example.nl", "kim@example.nl"]).exists()
    html = page(client, sanne, day=due)
    assert "Noor Bakker" in html
    assert "noor@example.nl" in html
    # Withdrawn after the retention: the last copy goes.
    share(client, noor, yes=False, day=due)
    assert not Consent.objects.filter(email="noor@example.nl").exists()
    assert "noor@example.nl" not in page(client, sanne, day=due)
    # An anonymised registration cannot start sharing again: its details are gone.
    assert share(client, kim, day=due).status_code == 409
