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


GROUPS = {
    "all": Group("Iedereen (bevestigd en wachtlijst)", everyone),
    "confirmed": Group("Bevestigde deelnemers", confirmed),
    "waiting": Group("Wachtlijst", waiting),
    "present": Group("Aanwezig op een dag", present, needs_day=True),
    "absent": Group("Afwezig op een dag", absent, needs_day=True),
}


def group_choices():
    return [(key, group.label) for key, group in GROUPS.items()]
