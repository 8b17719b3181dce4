"""The one reminder to fill in the case (the `send_case_reminders` command)."""

from django.db import transaction
from django.utils import timezone

from programme.models import amsterdam_date
from registrations.models import Registration
from werkplaats.queue import enqueue_with_transaction

from .models import Intake, without_case
from .tasks import send_case_reminder_email


def intakes_due(at=None):
    """The intakes whose reminder should go now (see Intake.reminder_due)."""
    today = amsterdam_date(at or timezone.now())
    pending = Intake.objects.filter(
        reminder_sent_at__isnull=True, edition__start_date__gt=today
    ).select_related("edition")
    return [intake for intake in pending if intake.reminder_due(at)]


def addressees(intake):
    return without_case(Registration.objects.filter(edition=intake.edition).confirmed())


def send(intake, at=None):
    """Claim the edition's one reminder and queue a mail to each confirmed participant
    without a case, in one transaction; a second run (or a parallel one) claims nothing and
    sends nothing. Returns how many were queued, or None when already sent."""
    at = at or timezone.now()
    with transaction.atomic():
        claimed = Intake.objects.filter(pk=intake.pk, reminder_sent_at__isnull=True).update(
            reminder_sent_at=at
        )
        if not claimed:
            return None
        people = list(addressees(intake).values_list("pk", flat=True))
        for registration_id in people:
            enqueue_with_transaction(send_case_reminder_email, registration_id)
    return len(people)
