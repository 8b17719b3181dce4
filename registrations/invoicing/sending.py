"""Invoices that leave by themselves: issuing an order's invoice and mailing it, as one job.

Finance chooses per edition when that happens (Edition.invoice_moment): by hand (only the
orders list's action "Factureren en versturen"), at confirmation (queued by whatever confirms
a participant, through settings.CONFIRMATION_NOTICES), or from a date on (the
`invoice_due_orders` command, run by cron). Every path runs issue_and_send() for one order.

It is safe to run twice, also at the same moment in two workers:
- issuing locks the order's row first, and issue_invoice() refuses anyone already on a
  standing invoice: one invoice per order (a colleague confirmed after the order was invoiced
  gets an invoice of their own for their own line, as issue_invoice() does for any
  participant not yet invoiced);
- mailing locks the invoice's row and skips it once `emailed_at` is set, which the send
  records in that same transaction: one mail per invoice, unless finance asks again
  (resend()).
Issuing and mailing are two transactions: the invoice counter's lock is not held while the
mail server answers. An invoice issued but not mailed (the server refused) is mailed by the
next run.

Issuing refused (InvoiceRefused: e.g. the order lacks what finance needs) holds the order
with the reason on its OrderInvoicing and sends nothing; the next run tries again.
"""

import logging

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from programme.models import InvoiceMoment, amsterdam_date
from registrations.models import Order, Registration
from werkplaats.refusals import refusal_text

from . import emails, issuing
from .documents import document_bytes, kinds
from .models import Invoice, InvoiceRefused, OrderInvoicing, on_standing_invoice

logger = logging.getLogger(__name__)


class MailNotSent(InvoiceRefused):
    """The mail server refused or could not be reached; the invoice stays unmailed."""


def to_invoice(order):
    """The order's participants who are confirmed and on no standing invoice."""
    return (
        Registration.objects.confirmed()
        .filter(order=order)
        .exclude(on_standing_invoice())
        .order_by("pk")
    )


def unsent(order):
    """The order's standing invoices that were never mailed."""
    return Invoice.objects.invoices().uncredited().filter(order=order, emailed_at__isnull=True)


def due_orders(today=None):
    """The orders whose invoices leave by date and are due: the edition's date has come and
    someone is confirmed and not invoiced, or an invoice of theirs was not mailed."""
    today = today or amsterdam_date(timezone.now())
    waiting = Registration.objects.confirmed().filter(order=OuterRef("pk"))
    waiting = waiting.exclude(on_standing_invoice())
    not_mailed = (
        Invoice.objects.invoices()
        .uncredited()
        .filter(order=OuterRef("pk"), emailed_at__isnull=True)
    )
    return (
        Order.objects.filter(
            edition__invoice_moment=InvoiceMoment.ON_DATE, edition__invoice_on__lte=today
        )
        .filter(Q(Exists(waiting)) | Q(Exists(not_mailed)))
        .order_by("pk")
    )


def issue(order, by=None):
    """The invoice for the order's participants not yet invoiced, or None when there are
    none. Refused (InvoiceRefused) with the reason, which is recorded on the order."""
    try:
        with transaction.atomic():
            # A second run for the same order waits here, then finds everyone invoiced.
            Order.objects.select_for_update().filter(pk=order.pk).first()
            participants = list(to_invoice(order))
            if not participants:
                return None
            invoice = issuing.issue_invoice(participants, by=by)
    except InvoiceRefused as refusal:
        hold(order, refusal)
        raise
    OrderInvoicing.objects.filter(order=order).update(held_reason="", held_at=None)
    return invoice


def hold(order, refusal):
    """Record on the order why issuing refused (shown on the order and finance's worklist).
    A mail server's refusal holds nothing: the invoice exists and the next run mails it."""
    if isinstance(refusal, MailNotSent):
        return
    # By reference only: the reason may name people or organisations.
    logger.info("Order %s held from invoicing", order.reference)
    OrderInvoicing.objects.update_or_create(
        order=order,
        defaults={"held_reason": refusal_text(refusal), "held_at": timezone.now()},
    )


def send(invoice, again=False):
    """Mail the invoice, once: locked, skipped when it was mailed already (unless `again`),
    its `emailed_at` recorded with the send. Returns whether this call mailed it."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.emailed_at is not None and not again:
            return False
        # A missing or damaged document refuses before anything is sent.
        for kind in kinds(locked):
            document_bytes(locked, kind)
        if not emails.send_invoice(locked):
            raise MailNotSent(
                f"{locked.number} is niet gemaild: de mailserver weigerde of reageerde niet. "
                "De volgende ronde probeert het opnieuw."
            )
    invoice.emailed_at = locked.emailed_at
    return True


def issue_and_send(order, by=None):
    """The one job per order: issue what is not invoiced yet, mail what was not mailed.
    Returns a short text of what it did; raises InvoiceRefused (held, nothing sent) or
    MailNotSent."""
    invoice = issue(order, by=by)
    done = [f"factuur {invoice.number}"] if invoice else []
    mailed = [invoice.number for invoice in unsent(order).order_by("number") if send(invoice)]
    if mailed:
        done.append(f"gemaild naar {order.invoice_email}: {', '.join(mailed)}")
    if not done:
        return f"{order.reference}: niets te doen (gefactureerd en gemaild)"
    return f"{order.reference}: {'; '.join(done)}"


def resend(order):
    """Finance asks to mail the order's standing invoices again."""
    invoices = list(Invoice.objects.invoices().uncredited().filter(order=order).order_by("number"))
    if not invoices:
        raise InvoiceRefused(f"{order.reference} heeft geen openstaande factuur om te versturen.")
    for invoice in invoices:
        send(invoice, again=True)
    numbers = ", ".join(invoice.number for invoice in invoices)
    return f"{order.reference}: {numbers} opnieuw gemaild naar {order.invoice_email}"
