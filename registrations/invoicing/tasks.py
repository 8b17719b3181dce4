"""Invoicing's e-mail as tasks, queued by the admin action or the cancellation that causes
it, and the job that issues and mails an order's invoice (sending.py), queued by the
confirmation, the date command or finance."""

from django.utils import timezone
from django_tasks import task

from programme.models import InvoiceMoment, amsterdam_date
from registrations.models import Order, Registration
from werkplaats.queue import all_sent, enqueue_with_transaction, waiting_arguments
from werkplaats.refusals import refusal_text

from . import emails, sending
from .models import Invoice, InvoiceRefused


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


@task()
def invoice_order(order_id):
    """Issue and mail the order's invoice (sending.issue_and_send). A refusal holds the order
    with its reason and ends the task as done: it is not retried, nothing is sent; the date
    command or finance queues it again once the order can be invoiced. A mail server that
    refused fails the task (logged); the invoice stays unmailed for the next run."""
    order = Order.objects.get(pk=order_id)
    try:
        return {"done": sending.issue_and_send(order)}
    except sending.MailNotSent:
        raise
    except InvoiceRefused as refusal:
        return {"held": refusal_text(refusal)}


def queue_order_invoicing(order):
    """Queue the order's invoicing job with the transaction that is open (e.g. when finance
    fixed what held it), unless it is queued and waiting already."""
    if order.pk not in waiting_arguments(invoice_order):
        enqueue_with_transaction(invoice_order, order.pk)


def queue_invoicing_at_confirmation(registrations):
    """Participants were confirmed (sign-up, an accepted offer, staff): where their edition
    sends invoices at confirmation, queue their orders' jobs. Sign-up cannot import this; the
    view or admin action that confirms calls it through settings.CONFIRMATION_NOTICES, in
    its transaction."""
    orders = {
        registration.order_id
        for registration in registrations
        if registration.status == Registration.Status.CONFIRMED
        and registration.edition.invoice_moment == InvoiceMoment.AT_CONFIRMATION
    }
    if orders:
        for order in Order.objects.filter(pk__in=orders).order_by("pk"):
            queue_order_invoicing(order)


def queue_invoicing_when_invoiceable(orders):
    """Orders that were held (no KvK number or OIN, a PO missing) and now can be invoiced:
    where their edition sends invoices at confirmation, or by date and the date has come,
    queue their jobs now rather than waiting for the next confirmation or the date command."""
    today = amsterdam_date(timezone.now())
    for order in orders:
        edition = order.edition
        by_itself = edition.invoice_moment == InvoiceMoment.AT_CONFIRMATION or (
            edition.invoice_moment == InvoiceMoment.ON_DATE
            and edition.invoice_on is not None
            and edition.invoice_on <= today
        )
        if by_itself and sending.to_invoice(order).exists():
            queue_order_invoicing(order)
