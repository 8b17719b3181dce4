"""The evaluation leaves by itself (the `send_evaluations` command): after the last day an
invitation to everyone recorded present, and one reminder to those who have not answered."""

from django.db import transaction
from django.utils import timezone

from programme.models import Edition, amsterdam_date
from werkplaats.queue import enqueue_with_transaction

from .models import Invitation, Questionnaire, present_participants, questionnaire_of
from .tasks import send_evaluation_email, send_evaluation_reminder_email


def editions_open(at=None):
    """Ended editions whose evaluation can still be filled in (the defaults hold where staff
    stored no questionnaire yet)."""
    at = at or timezone.now()
    ended = Edition.objects.filter(end_date__lt=amsterdam_date(at)).select_related("questionnaire")
    found = []
    for edition in ended:
        if questionnaire_of(edition).is_open(at):
            found.append(edition)
    return found


def to_invite(edition):
    """Those present who have not been invited (nor answered through another link)."""
    return present_participants(edition).filter(evaluation_invitation__isnull=True)


def invite(edition, at=None):
    """Record an invitation for each participant of `edition` recorded present and not invited
    yet, and queue its mail, in one transaction under the edition's row lock: a second run (or
    a parallel one) finds nobody left. Returns how many were invited."""
    at = at or timezone.now()
    with transaction.atomic():
        Edition.objects.select_for_update().filter(pk=edition.pk).first()
        Questionnaire.objects.for_edition(edition)
        people = list(to_invite(edition))
        for registration in people:
            invitation = Invitation.objects.create(registration=registration, invited_at=at)
            enqueue_with_transaction(send_evaluation_email, invitation.pk)
    return len(people)


def remind(at=None):
    """Claim and queue the one reminder of every invitation due (Invitation.objects.to_remind);
    a claimed one is never sent again. Returns how many were queued."""
    at = at or timezone.now()
    with transaction.atomic():
        due = [invitation.pk for invitation in Invitation.objects.to_remind(at)]
        claimed = list(
            Invitation.objects.select_for_update()
            .filter(pk__in=due, reminded_at__isnull=True, answered=False)
            .values_list("pk", flat=True)
        )
        Invitation.objects.filter(pk__in=claimed).update(reminded_at=at)
        for pk in claimed:
            enqueue_with_transaction(send_evaluation_reminder_email, pk)
    return len(claimed)
