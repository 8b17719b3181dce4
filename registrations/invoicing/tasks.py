"""Invoicing's e-mail as tasks, queued by the admin action or the cancellation that causes it."""

from django_tasks import task

from registrations.models import Registration
from werkplaats.queue import all_sent, enqueue_with_transaction

from . import emails
from .models import Invoice


@task()
def send_invoice_email(invoice_id):
    invoice = Invoice.objects.select_related("credited_invoice").get(pk=invoice_id)
    return all_sent(invoice.number, {"invoice": emails.send_invoice(invoice)})


@task()
def notify_finance_of_cancellation(registration_id):
    registration = Registration.objects.get(pk=registration_id)
    invoice = Invoice.objects.uncredited().for_registration(registration).first()
    if invoice is None:
        # Credited (or corrected) before the mail went out: nothing left to tell.
        return {}
    sent = emails.notify_finance_of_cancellation(registration, invoice)
    return all_sent(registration.reference, {"finance_notification": sent})


def queue_finance_notice(registration):
    """A cancelled, invoiced registration's invoice waits in finance's 'te crediteren' queue:
    tell finance. Sign-up cannot import this, so the view or admin action that cancels calls
    it through settings.CANCELLATION_NOTICES, inside its transaction."""
    if Invoice.objects.uncredited().for_registration(registration).exists():
        enqueue_with_transaction(notify_finance_of_cancellation, registration.pk)
