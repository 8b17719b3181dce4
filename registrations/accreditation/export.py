"""The export of a register: everyone who earned points in it, in the columns its portal
imports (Register.export_columns)."""

from dataclasses import dataclass
from decimal import Decimal

from registrations.models import Registration
from werkplaats import formats
from werkplaats.exports import dutch_name_key

from .models import Entry, parts_attended


@dataclass
class Earned:
    registration: Registration
    entry: Entry
    parts: list
    points: Decimal
    hours: Decimal


def earners(register):
    """[Earned] of the register, in Dutch name order: confirmed participants with a
    registration number in it whose day parts attended earn points. Three queries."""
    edition = register.edition
    entries = {
        e.registration_id: e
        for e in Entry.objects.with_number().filter(
            register=register, registration__status=Registration.Status.CONFIRMED
        )
    }
    people = Registration.objects.filter(pk__in=entries)
    attended = parts_attended(people, edition)
    found = []
    for person in people:
        parts = attended.get(person.pk, [])
        points = register.points_for(len(parts))
        if points:
            found.append(
                Earned(person, entries[person.pk], parts, points, register.hours_for(len(parts)))
            )
    return sorted(
        found, key=lambda e: dutch_name_key(e.registration.last_name, e.registration.first_name)
    )


def _values(earned, register):
    """Every column the register's set may name, of one person who earned points."""
    person = earned.registration
    edition = register.edition
    days = sorted({day for day, _ in earned.parts})
    return {
        "registratienummer": earned.entry.number,
        "voornaam": person.first_name,
        "achternaam": person.last_name,
        "naam": person.full_name,
        "email": person.email,
        "accreditatienummer": register.accreditation_id,
        "punten": formats.decimal(earned.points),
        "uren": formats.decimal(earned.hours),
        "dagdelen": str(len(earned.parts)),
        "data": ", ".join(formats.numeric_date(day) for day in days),
        "startdatum": formats.numeric_date(edition.start_date),
        "einddatum": formats.numeric_date(edition.end_date),
        "eindopdracht": "ja" if earned.entry.final_assignment_passed else "nee",
    }


def table(register):
    """(header, rows) in the register's column set; the final assignment's mark is added
    where the register requires one and staff left it out of the set."""
    columns = register.columns()
    if register.final_assignment_required and "eindopdracht" not in {k for k, _ in columns}:
        columns.append(("eindopdracht", "Eindopdracht behaald"))
    header = [title for _, title in columns]
    rows = []
    for earned in earners(register):
        values = _values(earned, register)
        rows.append([values[key] for key, _ in columns])
    return header, rows
