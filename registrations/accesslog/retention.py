"""The access log leaves after its period (settings.ACCESS_LOG_RETENTION_MONTHS, default two
years): a step of apply_retention (settings.RETENTION_STEPS). The database refuses to remove
a younger entry (guards.py), so the period cannot be set below the trigger's."""

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import AccessLogEntry

# The database's clock and ours may differ a little: an entry at the very edge waits a day
# rather than make the trigger refuse the whole step.
MARGIN = datetime.timedelta(days=1)


def expired(at=None):
    cutoff = (at or timezone.now()) - relativedelta(months=settings.ACCESS_LOG_RETENTION_MONTHS)
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
