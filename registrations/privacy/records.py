"""The record of what staff did with a person's data: ONE function, writing both the access
log (registrations/accesslog: who, when, what, for how many people) and the admin history of
each of the person's registrations and orders."""

from django.contrib.admin.models import CHANGE, LogEntry

from registrations.accesslog.changes import log_change
from registrations.accesslog.log import Kind
from registrations.accesslog.log import record as log_access

ACCESS = "inzage"
ERASURE = "verwijdering op verzoek"


def record(user, what, person, count, text="", request=None):
    """Record that `user` did `what` (ACCESS or ERASURE) for `person`, now, covering `count`
    rows: a LogEntry on each registration and order of theirs, so each one's history in the
    admin shows it (one without an object when they have neither, e.g. only a place they
    handed over). Named by reference (INS-00006, BST-00042), never by name or address: the
    record outlives an erasure."""
    references = ", ".join(person.references) or "geen eigen inschrijving"
    message = f"{what.capitalize()}: {count} gegevens ({references})."
    if text:
        message = f"{message} {text}"
    # The reason stays out of the access log: it is free text and may name the person.
    log_access(
        Kind.INZAGE if what == ACCESS else Kind.ERASURE,
        f"{what.capitalize()}: {count} gegevens",
        user=user,
        request=request,
        count=1,
        reference=references[:200],
    )
    rows = [*person.registrations, *person.orders]
    if rows:
        return log_change(rows, message, user=user)
    return [
        LogEntry.objects.create(
            user_id=user.pk, object_repr=what, action_flag=CHANGE, change_message=message
        )
    ]
