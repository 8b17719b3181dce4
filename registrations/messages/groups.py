"""Who a message goes to: the named groups of an edition's participants, one function each.

Each function gets the edition's registrations that may get mail (never a cancelled one)
and the day the message names (for the groups about one day), and returns who is in the
group. GROUPS is the registry the message's choice of group is made from: a layer that adds
a group (coach slots, cases) adds one entry here.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from registrations.attendance.models import Attendance
from registrations.coaching.models import with_coach_slot, without_coach_slot
from registrations.intake.models import without_case


@dataclass(frozen=True)
class Group:
    label: str
    select: Callable
    needs_day: bool = False


def everyone(registrations, day=None):
    return registrations


def confirmed(registrations, day=None):
    return registrations.confirmed()


def waiting(registrations, day=None):
    return registrations.waiting()


def _present_on(day):
    return Exists(Attendance.objects.filter(registration=OuterRef("pk"), date=day, present=True))


def present(registrations, day):
    return registrations.confirmed().filter(_present_on(day))


def absent(registrations, day):
    """Confirmed and not recorded as present that day: absent, or not checked in at all."""
    return registrations.confirmed().exclude(_present_on(day))


def with_slot(registrations, day=None):
    return with_coach_slot(registrations.confirmed())


def without_slot(registrations, day=None):
    return without_coach_slot(registrations.confirmed())


def case_missing(registrations, day=None):
    return without_case(registrations.confirmed())


GROUPS = {
    "all": Group("Iedereen (bevestigd en wachtlijst)", everyone),
    "confirmed": Group("Bevestigde deelnemers", confirmed),
    "waiting": Group("Wachtlijst", waiting),
    "with_slot": Group("Bevestigd, met een coachgesprek", with_slot),
    "without_slot": Group("Bevestigd, zonder coachgesprek", without_slot),
    "without_case": Group("Bevestigd, casus nog niet ingevuld", case_missing),
    "present": Group("Aanwezig op een dag", present, needs_day=True),
    "absent": Group("Afwezig op een dag", absent, needs_day=True),
}


def group_choices():
    return [(key, group.label) for key, group in GROUPS.items()]
