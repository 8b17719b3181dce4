"""The mail of messages to participants, as tasks: one per person, queued by whatever sends
the message (the admin's send page, the scheduled-messages job) in its transaction."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from werkplaats.queue import all_sent, enqueue_with_transaction

from . import emails
from .models import Message, Recipient


@task()
def send_participant_message(recipient_id):
    """One person's mail of a message, at most once. The row is locked while it is sent, so
    the same row queued twice is mailed once; someone who cancelled after it was queued
    gets nothing (checked now, not when it was queued)."""
    with transaction.atomic():
        recipient = (
            Recipient.objects.select_for_update(of=("self",))
            .select_related("message", "registration__edition")
            .get(pk=recipient_id)
        )
        reference = recipient.registration.reference
        refusal = recipient.mail_refusal()
        if refusal == "geannuleerd":
            recipient.status = Recipient.Status.SKIPPED
            recipient.save(update_fields=["status"])
            return {"message": "cancelled before it was sent"}
        if refusal:
            return {"message": refusal}
        sent = emails.send_to_recipient(recipient)
        recipient.status = Recipient.Status.SENT if sent else Recipient.Status.FAILED
        recipient.sent_at = timezone.now() if sent else None
        recipient.save(update_fields=["status", "sent_at"])
    return all_sent(reference, {"message": sent})


@task()
def send_test_message(message_id, user_id):
    """'Stuur een test naar mijzelf': the message as its first recipient gets it, to the
    staff member's own address. Only ids in the task: its stored result carries no address."""
    message = Message.objects.select_related("edition").get(pk=message_id)
    user = get_user_model().objects.get(pk=user_id)
    registration = message.audience().select_related("edition").first()
    if registration is None or not user.email:
        return {"test": "nobody to show"}
    sent = emails.send_test(message, registration, user.email)
    return all_sent(f"message {message.pk}", {"test": sent})


def queue_mail(recipients):
    """Queue the mail of each of `recipients` inside the transaction that made them."""
    for recipient in recipients:
        enqueue_with_transaction(send_participant_message, recipient.pk)
