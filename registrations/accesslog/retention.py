"""The access log leaves after its period (settings.ACCESS_LOG_RETENTION_MONTHS, default two
years): a step of apply_retention (settings.RETENTION_STEPS). The database refuses to remove
a younger entry (guards.py), so the period cannot be set below the trigger's."""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import AccessLogEntry

# The database's clock and ours may differ a little: an entry at the very edge waits a day
# rather than make the trigger refuse the whole step.
MARGIN = datetime.timedelta(days=1)


def database_now():
    """The database's own clock, which its trigger reads: ours may run ahead of it (a
    server's drift, or time-machine in tests), and an entry it deems young stays."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT CURRENT_TIMESTAMP")
        (value,) = cursor.fetchone()
    if isinstance(value, str):  # SQLite: UTC as text
        value = datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
    return value


def expired(at=None):
    now = min(at or timezone.now(), database_now())
    cutoff = now - relativedelta(months=settings.ACCESS_LOG_RETENTION_MONTHS)
    return AccessLogEntry.objects.filter(at__lt=cutoff - MARGIN)


def remove_expired(dry_run=False, at=None):
    """The step apply_retention runs: the lines it reports."""
    if dry_run:
        return [f"Dry run: {expired(at).count()} regel(s) van het toegangslog te verwijderen."]
    with transaction.atomic():
        removed, _ = expired(at).delete()
    return (
        [f"Toegangslog: {removed} regel(s) ouder dan de bewaartermijn verwijderd."]
        if removed
        else []
    )
