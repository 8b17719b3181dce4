"""Transmission's jobs: an attempt to hand an invoice to the access point, and fetching the
access point's reports. Queued where the invoice is sent (take_over, through
settings.INVOICE_TRANSMISSION) and by the `transmit_invoices` command (cron) for what is due
again and for the reports."""

from django_tasks import task

from werkplaats.queue import enqueue_with_transaction, waiting_arguments

from . import transmitting
from .models import Channel, Transmission


@task()
def transmit(transmission_id):
    """One attempt, if it is due and no other worker has it."""
    transmission = transmitting.attempt(transmission_id)
    if transmission is None:
        return {"skipped": transmission_id}
    return {"invoice": transmission.invoice.number, "status": transmission.status}


@task()
def poll_access_point():
    read, changed = transmitting.poll()
    return {"read": read, "changed": changed}


def queue_attempts(transmissions):
    """Queue an attempt for each of `transmissions` that has none waiting yet (the waiting
    ones read once, not per transmission)."""
    waiting = waiting_arguments(transmit)
    for transmission in transmissions:
        if transmission.pk not in waiting:
            enqueue_with_transaction(transmit, transmission.pk)


def queue_attempt(transmission):
    queue_attempts([transmission])


def take_over(invoice):
    """The invoice is being sent: when it goes over Peppol, queue its transmission (once) with
    the transaction that sends it, and answer True: the e-mail alongside is then a copy.
    Invoicing calls this through settings.INVOICE_TRANSMISSION; it may not import us."""
    if transmitting.channel_for(invoice) != Channel.PEPPOL:
        return False
    transmission, created = transmitting.queue(invoice)
    if created:
        queue_attempt(transmission)
    return True


def queue_due():
    """Queue an attempt for every transmission whose next attempt is due; returns how many."""
    due = list(Transmission.objects.due().order_by("next_attempt_at", "pk"))
    queue_attempts(due)
    return len(due)
