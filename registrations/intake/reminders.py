"""The one reminder to fill in the case (the `send_case_reminders` command)."""

from django.db import transaction
from django.utils import timezone

from programme.models import Edition, amsterdam_date
from registrations.models import Registration
from werkplaats.queue import enqueue_with_transaction

from .models import Intake, without_case
from .tasks import send_case_reminder_email


def intakes_due(at=None):
    """The intakes whose reminder should go now (see Intake.reminder_due), also of editions
    whose intake nobody stored yet (the defaults hold there)."""
    today = amsterdam_date(at or timezone.now())
    coming = Edition.objects.filter(start_date__gt=today).select_related("intake")
    intakes = [getattr(edition, "intake", None) or Intake(edition=edition) for edition in coming]
    return [intake for intake in intakes if intake.reminder_due(at)]


def addressees(intake):
    return without_case(Registration.objects.filter(edition=intake.edition).confirmed())


def send(intake, at=None):
    """Claim the edition's one reminder and queue a mail to each confirmed participant
    without a case, in one transaction; a second run (or a parallel one) claims nothing and
    sends nothing. Returns how many were queued, or None when already sent."""
    at = at or timezone.now()
    with transaction.atomic():
        intake = Intake.objects.for_edition(intake.edition)
        claimed = Intake.objects.filter(pk=intake.pk, reminder_sent_at__isnull=True).update(
            reminder_sent_at=at
        )
        if not claimed:
            return None
        people = list(addressees(intake).values_list("pk", flat=True))
        for registration_id in people:
            enqueue_with_transaction(send_case_reminder_email, registration_id)
    return len(people)
