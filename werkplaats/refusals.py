"""A refused step as one line of Dutch text, for a message, a job's outcome or a command; and
the one test for a database that refuses to write, used by every admin action, job and command
that writes."""

from contextlib import contextmanager

from django.core.management.base import CommandError
from django.db import DatabaseError


def refusal_text(refusal):
    """The reasons of a ValidationError joined with "; ", or the message of any other refusal
    (TransitionRefused, InvoiceRefused, ...)."""
    return "; ".join(refusal.messages) if hasattr(refusal, "messages") else str(refusal)


# A database that answers but refuses to write: no privilege on the table (read-only storage
# or a revoked grant, 42501), a read-only transaction or replica (25006), a full disk (53100)
# or out of memory (53200). PostgreSQL gives the SQLSTATE; SQLite names its result code.
WRITE_REFUSED_SQLSTATES = {"42501", "25006", "53100", "53200"}
WRITE_REFUSED_SQLITE = {"SQLITE_READONLY", "SQLITE_FULL", "SQLITE_PERM", "SQLITE_NOMEM"}

WRITE_REFUSED = "de database kan nu niet schrijven (alleen-lezen of een volle schijf)"
TRY_AGAIN = "Probeer het later opnieuw en meld het aan de beheerder als het blijft."


def is_write_refused(error):
    """Whether a database error (Django's, wrapping the driver's as its __cause__) says the
    database refuses to write now, rather than a bug in a query or a database that is down."""
    cause = error.__cause__ or error
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return (
        sqlstate in WRITE_REFUSED_SQLSTATES
        or getattr(cause, "sqlite_errorname", None) in WRITE_REFUSED_SQLITE
    )


def write_refused_text(what="Niet gedaan"):
    """The Dutch line for a step that the database refused to write, `what` naming the step
    ("Factuur voor INS-00004 is niet gemaakt"): the step rolled back, so none of it is kept."""
    return f"{what}: {WRITE_REFUSED}. Er is niets van vastgelegd. {TRY_AGAIN}"


class WriteRefused(CommandError):
    """A command's row that the database refused to write: the command stops there, says so in
    Dutch and exits with an error code, so cron reports it; the rows before it are kept."""


@contextmanager
def writing(what):
    """Around one row's step of a command (a cron job): when the database refuses to write,
    stop with WriteRefused naming `what` ("Herinnering voor 2026-0004 is niet verstuurd").
    The step's own transaction rolled back, so nothing of that row is kept."""
    try:
        yield
    except DatabaseError as error:
        if not is_write_refused(error):
            raise
        raise WriteRefused(write_refused_text(what)) from error
