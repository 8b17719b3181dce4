"""The e-mail that sign-up sends, as tasks (see TASKS in settings).

A task gets the registration's primary key, not the object: with the database queue it runs
later, in `manage.py db_worker`, and must read the registration as it is then. The view or
admin action that causes a mail queues it; nothing here is queued behind a caller's back.
"""

from contextlib import contextmanager

from django.db import transaction
from django.dispatch import receiver
from django_tasks import TaskResultStatus, task
from django_tasks_db import DatabaseBackend

from . import emails
from .models import Order, Registration, RegistrationChange, WaitingListOffer
from .signals import waiting_list_offer_made


class Queued:
    """What atomic_with queued: call it with a task's argument; `.results` once the block ended."""

    def __init__(self):
        self.arguments = []
        self.results = []

    def __call__(self, argument):
        self.arguments.append(argument)

    def outcome(self):
        """(sent, queued, failed) counts, for an honest admin message."""
        statuses = [result.status for result in self.results]
        return (
            statuses.count(TaskResultStatus.SUCCESSFUL),
            statuses.count(TaskResultStatus.READY),
            statuses.count(TaskResultStatus.FAILED),
        )


@contextmanager
def atomic_with(queued_task):
    """A transaction that queues `queued_task` for what it writes, e.g.
    ``with atomic_with(task) as queue: ...; queue(pk)``.

    The database queue stores the task inside the transaction, so the task exists exactly
    when the data does. Any other backend runs a task as it is queued, so it is queued once
    the block has ended: never with the transaction's locks held, where a slow mail server
    would hold up every other sign-up.
    """
    stored_in_transaction = isinstance(queued_task.get_backend(), DatabaseBackend)
    queued = Queued()
    with transaction.atomic():
        yield queued
        if stored_in_transaction:
            queued.results = [queued_task.enqueue(argument) for argument in queued.arguments]
    if not stored_in_transaction:
        queued.results = [queued_task.enqueue(argument) for argument in queued.arguments]


def enqueue_with_transaction(queued_task, argument):
    """Queue `queued_task` as part of the transaction already open (see atomic_with)."""
    if isinstance(queued_task.get_backend(), DatabaseBackend):
        queued_task.enqueue(argument)
    else:
        transaction.on_commit(lambda: queued_task.enqueue(argument), robust=True)


class MailNotSent(Exception):
    """The mail server refused or could not be reached; the task is recorded as failed.

    The message names the registration by reference only: the task's result is stored and
    logged, and must not carry an e-mail address.
    """


def _registration(registration_id):
    return Registration.objects.select_related("edition").get(pk=registration_id)


def all_sent(reference, sent):
    # Every mail is tried, so a refused staff notification never holds back the participant's.
    failed = [what for what, ok in sent.items() if not ok]
    if failed:
        raise MailNotSent(f"{reference}: {', '.join(failed)} not sent")
    return sent


@task()
def send_order_emails(order_id):
    """After a sign-up: each participant's confirmation (with the .ics), an overview for
    whoever signed up others, and one staff notification."""
    order = Order.objects.select_related("edition").get(pk=order_id)
    positions = list(order.positions.select_related("edition").order_by("pk"))
    sent = {
        f"confirmation {registration.reference}": emails.send_confirmation(registration)
        for registration in positions
    }
    if [registration.email.lower() for registration in positions] != [order.email.lower()]:
        sent["order_overview"] = emails.send_order_overview(order)
    sent["staff_notification"] = emails.notify_staff_of_order(order)
    return all_sent(order.reference, sent)


@task()
def send_confirmation_email(registration_id):
    """The confirmation again (staff resend it), without a new staff notification."""
    registration = _registration(registration_id)
    return all_sent(
        registration.reference, {"confirmation": emails.send_confirmation(registration)}
    )


@task()
def send_place_freed_email(registration_id):
    """Someone confirmed from the waiting list: the news that a place came free."""
    registration = _registration(registration_id)
    sent = emails.send_confirmation(registration, from_waiting_list=True)
    return all_sent(registration.reference, {"confirmation": sent})


@task()
def send_cancellation_emails(registration_id):
    registration = _registration(registration_id)
    sent = {
        "confirmation": emails.send_cancellation_confirmation(registration),
        "staff_notification": emails.notify_staff_of_cancellation(registration),
    }
    return all_sent(registration.reference, sent)


@task()
def send_waiting_list_offer_email(offer_id):
    """The personal offer of a freed place. Not sent once the offer is closed: a worker that
    runs late must not offer a place that has gone to someone else."""
    offer = WaitingListOffer.objects.select_related("registration__edition").get(pk=offer_id)
    if offer.state_at() != WaitingListOffer.State.OPEN:
        return {"offer": "closed before it was sent"}
    return all_sent(offer.registration.reference, {"offer": emails.send_waiting_list_offer(offer)})


@receiver(waiting_list_offer_made, dispatch_uid="waiting-list-offer-is-mailed")
def mail_the_offer(sender, offer, **kwargs):
    """Every offer is mailed, whichever path freed its place, in the same transaction."""
    enqueue_with_transaction(send_waiting_list_offer_email, offer.pk)


@task()
def send_change_emails(change_id):
    """A change on the participant's own page: staff are told; a substitute gets their own
    confirmation with their new link."""
    change = RegistrationChange.objects.select_related("registration__edition").get(pk=change_id)
    registration = change.registration
    sent = {"staff_notification": emails.notify_staff_of_change(change)}
    if change.kind == RegistrationChange.Kind.SUBSTITUTE:
        sent["confirmation"] = emails.send_confirmation(registration, as_substitute=True)
    return all_sent(registration.reference, sent)


@task()
def send_personal_link_email(registration_id):
    """The personal link again, asked for on the public resend page: to the registration's
    own address only."""
    registration = _registration(registration_id)
    return all_sent(registration.reference, {"link": emails.send_personal_link(registration)})
