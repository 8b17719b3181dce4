"""The booked coach conversation as an iCalendar file, for the booking mail and the page."""

import datetime

from django.conf import settings
from icalendar import Calendar, Event


def slot_calendar(slot):
    calendar = Calendar()
    calendar.add("prodid", "-//Platform31//Werkplaats//NL")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    # One UID per participant's conversation: a moved booking updates the same agenda item.
    event.add("uid", f"coachgesprek-{slot.registration_id}@platform31.nl")
    event.add("summary", f"Coachgesprek met {slot.coach.name}")
    # In UTC, like the edition's file (programme/ics.py): no VTIMEZONE needed.
    event.add("dtstart", slot.starts_at().astimezone(datetime.UTC))
    event.add("dtend", slot.ends_at().astimezone(datetime.UTC))
    event.add("dtstamp", datetime.datetime.now(datetime.UTC))
    location = ", ".join(p for p in [slot.room, slot.edition.venue_full_address] if p)
    event.add("location", location)
    event.add("description", f"{slot.edition.title}. {settings.SITE_URL}")
    calendar.add_component(event)
    return calendar.to_ical()
