"""The reminder e-mail as a task, queued in the transaction that records the reminder."""

from django_tasks import task

from werkplaats.queue import all_sent

from . import emails
from .models import Reminder


@task()
def send_reminder_email(reminder_id):
    reminder = Reminder.objects.select_related("invoice").get(pk=reminder_id)
    return all_sent(reminder.invoice.number, {"reminder": emails.send_reminder(reminder)})
