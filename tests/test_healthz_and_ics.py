"""/healthz for the load balancer and Docker, and the edition's calendar file."""

import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import OperationalError
from icalendar import Calendar

from programme.ics import edition_calendar
from tests.conftest import make_edition

UTC = datetime.UTC
AMS = ZoneInfo("Europe/Amsterdam")


def test_healthz_is_200_when_the_database_answers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_when_a_query_fails(client, db):
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute",
        side_effect=OperationalError("server closed the connection unexpectedly"),
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "database unavailable"}
    # Nothing about the failure leaks to whoever asks.
    assert b"server closed" not in response.content
    assert b"Traceback" not in response.content


def test_healthz_is_503_when_the_database_cannot_be_reached(client, db):
    with mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection",
        side_effect=OperationalError("connection refused"),
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert b"refused" not in response.content


@pytest.fixture
def ics_2022(client, edition_2022):
    response = client.get("/werkplaats/werken-aan-wijkontwikkeling-2022/agenda.ics")
    assert response.status_code == 200
    return response


def _event(response):
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_ics_download_is_a_calendar_attachment(ics_2022):
    assert ics_2022["Content-Type"].startswith("text/calendar")
    assert ics_2022["Content-Disposition"] == (
        'attachment; filename="werkplaats-werken-aan-wijkontwikkeling-2022.ics"'
    )


def test_ics_has_the_2022_start_end_location_and_summary(ics_2022):
    calendar, event = _event(ics_2022)
    assert str(calendar["VERSION"]) == "2.0"
    start = event.decoded("DTSTART")
    end = event.decoded("DTEND")
    assert start == datetime.datetime(2022, 11, 21, 9, 30, tzinfo=AMS)
    assert end == datetime.datetime(2022, 11, 23, 17, 0, tzinfo=AMS)
    assert start.astimezone(UTC) == datetime.datetime(2022, 11, 21, 8, 30, tzinfo=UTC)
    assert str(event["LOCATION"]) == "Kaap Doorn Conferentiecentrum, Doorn"
    assert str(event["SUMMARY"]) == "Werkplaats ‘Werken aan wijkontwikkeling’"
    assert str(event["UID"]) == "werkplaats-werken-aan-wijkontwikkeling-2022@platform31.nl"
    assert str(event["URL"]).endswith("/werkplaats/werken-aan-wijkontwikkeling-2022/")
    assert "9:30–17:00" in str(event["DESCRIPTION"])
    assert "DTSTAMP" in event


def test_ics_every_tzid_has_its_vtimezone(ics_2022):
    # RFC 5545 3.2.19: a TZID parameter must refer to a VTIMEZONE in the same file.
    calendar, event = _event(ics_2022)
    defined = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    for name in ("DTSTART", "DTEND"):
        tzid = event[name].params.get("TZID")
        assert tzid is None or tzid in defined, (name, tzid)


def test_ics_summer_edition_uses_summer_time(client, db):
    edition = make_edition(
        slug="zomer",
        start_date=datetime.date(2023, 6, 12),
        end_date=datetime.date(2023, 6, 14),
        registration_deadline=datetime.date(2023, 5, 1),
    )
    _, event = _event(client.get(f"/werkplaats/{edition.slug}/agenda.ics"))
    assert event.decoded("DTSTART").astimezone(UTC) == datetime.datetime(
        2023, 6, 12, 7, 30, tzinfo=UTC
    )
    assert event.decoded("DTEND").astimezone(UTC) == datetime.datetime(
        2023, 6, 14, 15, 0, tzinfo=UTC
    )


def test_ics_of_an_unpublished_edition_is_404(client, db):
    edition = make_edition(is_published=False, slug="concept")
    assert client.get(f"/werkplaats/{edition.slug}/agenda.ics").status_code == 404


def test_edition_page_links_to_its_ics(client, db):
    edition = make_edition()
    html = client.get(edition.get_absolute_url()).content.decode()
    assert f'href="/werkplaats/{edition.slug}/agenda.ics"' in html


def test_past_edition_no_longer_offers_zet_in_je_agenda(client, edition_2022):
    html = client.get("/").content.decode()
    assert "agenda.ics" not in html
    assert "Zet in je agenda" not in html


def test_calendar_cancellation_has_the_same_uid_and_a_higher_sequence(db):
    edition = make_edition()
    published = Calendar.from_ical(edition_calendar(edition))
    cancelled = Calendar.from_ical(edition_calendar(edition, cancelled=True))
    [event] = published.walk("VEVENT")
    [cancel] = cancelled.walk("VEVENT")
    assert published["METHOD"] == "PUBLISH"
    assert cancelled["METHOD"] == "CANCEL"
    assert cancel["UID"] == event["UID"]
    assert cancel["SEQUENCE"] > event["SEQUENCE"]
    assert cancel["STATUS"] == "CANCELLED"
    assert cancel.decoded("DTSTART") == event.decoded("DTSTART")
