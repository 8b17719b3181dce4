"""The edition as an iCalendar file, for the page's download and the confirmation e-mail."""

import datetime

from django.conf import settings
from icalendar import Calendar, Event

from werkplaats import formats

# The version of the event a calendar file carries. A cancellation must come with a higher
# SEQUENCE than the event it cancels, or calendar clients ignore it (RFC 5545, 3.8.7.4).
SEQUENCE_PUBLISHED = 0
SEQUENCE_CANCELLED = 1


def edition_calendar(edition, cancelled=False):
    """The edition as one event; with `cancelled`, the same event (same UID) cancelled, for
    the participant who cancelled, so it leaves their agenda."""
    calendar = Calendar()
    calendar.add("prodid", "-//Platform31//Werkplaats//NL")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"werkplaats-{edition.slug}@platform31.nl")
    event.add("sequence", SEQUENCE_CANCELLED if cancelled else SEQUENCE_PUBLISHED)
    if cancelled:
        event.add("status", "CANCELLED")
    event.add("summary", f"Geannuleerd: {edition.title}" if cancelled else edition.title)
    # One event from the first morning to the last afternoon; the daily hours are in the
    # description, since the venue is a residential programme over consecutive days.
    # In UTC: a TZID needs a VTIMEZONE block (RFC 5545), and clients such as Outlook
    # misread local times without one; UTC means the same moment in every client.
    event.add("dtstart", edition.starts_at().astimezone(datetime.UTC))
    event.add("dtend", edition.ends_at().astimezone(datetime.UTC))
    event.add("dtstamp", edition.updated_at)
    event.add("location", edition.venue_full_address)
    event.add(
        "description",
        f"{edition.title}, georganiseerd door {edition.organisers}. "
        f"Dagelijks {formats.clock(edition.daily_start_time)}–{formats.clock(edition.daily_end_time)} uur. "
        f"{settings.SITE_URL}{edition.get_absolute_url()}",
    )
    event.add("url", f"{settings.SITE_URL}{edition.get_absolute_url()}")
    calendar.add_component(event)
    return calendar.to_ical()
