"""The task queue, for every app: queueing a task with the transaction that causes it, and
what a mail task reports (see TASKS in settings).

Each app's tasks.py holds its own tasks; this module holds only the plumbing they share.
"""

from contextlib import contextmanager

from django.db import transaction
from django_tasks import TaskResultStatus
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult


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


def stored_in_transaction(queued_task):
    """Whether `queued_task` is stored in the database queue (and so can be queued inside a
    transaction); any other backend runs a task as it is queued."""
    return isinstance(queued_task.get_backend(), DatabaseBackend)


@contextmanager
def atomic_with(queued_task):
    """A transaction that queues `queued_task` for what it writes, e.g.
    ``with atomic_with(task) as queue: ...; queue(pk)``.

    The database queue stores the task inside the transaction, so the task exists exactly
    when the data does. Any other backend runs a task as it is queued, so it is queued once
    the block has ended: never with the transaction's locks held, where a slow mail server
    would hold up every other sign-up.
    """
    in_transaction = stored_in_transaction(queued_task)
    queued = Queued()
    with transaction.atomic():
        yield queued
        if in_transaction:
            queued.results = [queued_task.enqueue(argument) for argument in queued.arguments]
    if not in_transaction:
        queued.results = [queued_task.enqueue(argument) for argument in queued.arguments]


def enqueue_with_transaction(queued_task, argument):
    """Queue `queued_task` as part of the transaction already open (see atomic_with)."""
    if stored_in_transaction(queued_task):
        queued_task.enqueue(argument)
    else:
        transaction.on_commit(lambda: queued_task.enqueue(argument), robust=True)


def waiting_arguments(queued_task):
    """The arguments `queued_task` is queued with and not yet done (ready or running), so a
    job that catches up on what was missed does not queue the same thing twice. Empty for a
    backend that runs a task as it is queued: there nothing waits."""
    if not stored_in_transaction(queued_task):
        return set()
    waiting = DBTaskResult.objects.filter(
        task_path=queued_task.module_path,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    )
    return {
        stored["args"][0]
        for stored in waiting.values_list("args_kwargs", flat=True)
        if stored["args"]
    }


class MailNotSent(Exception):
    """The mail server refused or could not be reached; the task is recorded as failed.

    The message names the registration by reference only: the task's result is stored and
    logged, and must not carry an e-mail address.
    """


def all_sent(reference, sent):
    """Return what a mail task sent, `{what: ok}`; raise MailNotSent if anything failed."""
    # Every mail is tried, so a refused staff notification never holds back the participant's.
    failed = [what for what, ok in sent.items() if not ok]
    if failed:
        raise MailNotSent(f"{reference}: {', '.join(failed)} not sent")
    return sent
