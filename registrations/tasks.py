"""The e-mail a registration or cancellation sends, as tasks (see TASKS in settings).

A task gets the registration's primary key, not the object: with the database queue it runs
later, in `manage.py db_worker`, and must read the registration as it is then.
"""

from contextlib import contextmanager

from django.db import transaction
from django_tasks import task
from django_tasks_db import DatabaseBackend

from . import emails
from .models import Registration


@contextmanager
def atomic_with(queued_task):
    """A transaction that queues `queued_task` for what it writes: call the yielded function
    with the task's argument, e.g. ``with atomic_with(task) as queue: ...; queue(pk)``.

    The database queue stores the task inside the transaction, so the task exists exactly
    when the data does. Any other backend runs a task as it is queued, so it is queued once
    the block has ended: never with the transaction's locks held, where a slow mail server
    would hold up every other sign-up.
    """
    stored_in_transaction = isinstance(queued_task.get_backend(), DatabaseBackend)
    arguments = []
    with transaction.atomic():
        yield arguments.append
        if stored_in_transaction:
            for argument in arguments:
                queued_task.enqueue(argument)
    if not stored_in_transaction:
        for argument in arguments:
            queued_task.enqueue(argument)


class MailNotSent(Exception):
    """The mail server refused or could not be reached; the task is recorded as failed.

    The message names the registration by reference only: the task's result is stored and
    logged, and must not carry an e-mail address.
    """


def _registration(registration_id):
    return Registration.objects.select_related("edition").get(pk=registration_id)


def _all_sent(registration, sent):
    # Every mail is tried, so a refused staff notification never holds back the participant's.
    failed = [what for what, ok in sent.items() if not ok]
    if failed:
        raise MailNotSent(f"{registration.reference}: {', '.join(failed)} not sent")
    return sent


@task()
def send_registration_emails(registration_id):
    """The participant's confirmation (with the .ics) and the staff notification."""
    registration = _registration(registration_id)
    sent = {
        "confirmation": emails.send_confirmation(registration),
        "staff_notification": emails.notify_staff_of_registration(registration),
    }
    return _all_sent(registration, sent)


@task()
def send_cancellation_emails(registration_id):
    registration = _registration(registration_id)
    sent = {
        "confirmation": emails.send_cancellation_confirmation(registration),
        "staff_notification": emails.notify_staff_of_cancellation(registration),
    }
    return _all_sent(registration, sent)
