"""The placeholders staff write in a message, such as {voornaam}: one named value each,
computed per registration when its mail is made.

PLACEHOLDERS is the registry the message form checks against and the admin lists; a layer
that adds a value (the person's coach slot, the state of their case) adds one entry here.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from registrations.coaching.models import slot_text
from registrations.intake.models import case_state
from werkplaats import formats

PATTERN = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Placeholder:
    description: str
    value: Callable


def _dates(registration):
    edition = registration.edition
    return (
        f"{formats.period(edition.start_date, edition.end_date, weekdays=True)}, "
        f"{formats.clock(edition.daily_start_time)}–{formats.clock(edition.daily_end_time)} uur"
    )


PLACEHOLDERS = {
    "voornaam": Placeholder("de voornaam", lambda r: r.first_name),
    "naam": Placeholder("voor- en achternaam", lambda r: r.full_name),
    "persoonlijke_link": Placeholder(
        "de persoonlijke link naar de eigen inschrijving",
        lambda r: f"{settings.SITE_URL}{r.get_absolute_url()}",
    ),
    "locatie": Placeholder("de locatie met adres", lambda r: r.edition.venue_full_address),
    "route": Placeholder("een link naar de routeplanner", lambda r: r.edition.route_url),
    "meenemen": Placeholder(
        "wat je meeneemt (bij de editie ingevuld)", lambda r: r.edition.what_to_bring
    ),
    "coachgesprek": Placeholder(
        "het coachgesprek (tijd, zaal, coach) of dat er nog geen is", slot_text
    ),
    "casus": Placeholder("of de eigen casus is ingevuld", case_state),
    "data": Placeholder("de dagen en tijden van de werkplaats", _dates),
}


def unknown(text):
    """The names in `text` between braces that are no placeholder, in order, once each."""
    return list(dict.fromkeys(n for n in PATTERN.findall(text) if n not in PLACEHOLDERS))


def fill(text, registration):
    """`text` with each placeholder replaced by its value for `registration`; each value is
    computed once, and only when the text uses it."""
    values = {}

    def value(match):
        name = match[1]
        if name not in PLACEHOLDERS:
            return match[0]
        if name not in values:
            values[name] = str(PLACEHOLDERS[name].value(registration))
        return values[name]

    return PATTERN.sub(value, text)
