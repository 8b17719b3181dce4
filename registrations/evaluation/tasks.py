from django_tasks import task

from werkplaats.queue import all_sent

from . import emails
from .models import Invitation


def _unanswered(invitation_id):
    invitation = Invitation.objects.select_related("registration__edition").get(pk=invitation_id)
    # Answered (through the certificate's link) since the mail was queued: nothing to ask.
    return None if invitation.answered else invitation


@task()
def send_evaluation_email(invitation_id):
    invitation = _unanswered(invitation_id)
    if invitation is None:
        return {}
    sent = emails.send_invitation(invitation)
    return all_sent(invitation.registration.reference, {"evaluation_invitation": sent})


@task()
def send_evaluation_reminder_email(invitation_id):
    invitation = _unanswered(invitation_id)
    if invitation is None:
        return {}
    sent = emails.send_reminder(invitation)
    return all_sent(invitation.registration.reference, {"evaluation_reminder": sent})
