"""Payment reminders: which invoice is due for which reminder today, and recording one.

A reminder is recorded (unique per invoice and level) and its e-mail queued in one
transaction, so running the command twice on a day, or the command and the admin action at
once, sends each reminder once.
"""

import datetime
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from programme.models import amsterdam_date
from registrations.invoicing.models import Invoice
from werkplaats.queue import enqueue_with_transaction

from . import tasks
from .models import Reminder, ReminderSettings

# The states that get reminders once the due date has passed: nothing paid ("te laat") or
# part of it ("deels betaald", which an invoice stays after its due date; Invoice.status()).
REMINDABLE = [Invoice.Status.OVERDUE, Invoice.Status.PARTIALLY_PAID]


def remindable(today):
    """The invoices that may get a reminder today, in SQL: the same rule as level_due()'s."""
    return Invoice.objects.in_state(*REMINDABLE, today=today).filter(
        due_date__lt=today, hold__isnull=True
    )


def level_due(invoice, settings, today, force=False, reminders=None):
    """The reminder level this invoice is due for today, or None.

    Never for a paid, credited or on-hold invoice, a credit note, or one not yet late. The
    second waits until its day after the due date and as long after the first as the two
    settings lie apart. `force` (the admin action) skips the waiting, not the rules.
    `reminders`: the invoice's reminders when the caller fetched them for many at once."""
    if hasattr(invoice, "hold"):
        return None
    if invoice.status(today) not in REMINDABLE or invoice.due_date >= today:
        return None
    if reminders is None:
        reminders = invoice.reminders.all()
    sent = {reminder.level: reminder for reminder in reminders}
    late = (today - invoice.due_date).days
    if Reminder.Level.FIRST not in sent:
        if force or late >= settings.first_after_days:
            return Reminder.Level.FIRST
        return None
    if Reminder.Level.SECOND in sent:
        return None
    gap = settings.second_after_days - settings.first_after_days
    first_day = amsterdam_date(sent[Reminder.Level.FIRST].sent_at)
    if force or (late >= settings.second_after_days and (today - first_day).days >= gap):
        return Reminder.Level.SECOND
    return None


CANDIDATE_FIELDS = [
    "number",
    "kind",
    "customer_organisation",
    "due_date",
    "total_incl_vat",
    "amount_paid",
    "amount_refunded",
    "credit_note__id",
    "credit_note__kind",
    "hold__id",
]


def candidates(today):
    """Invoices that may be due for a reminder: late, unpaid in full, uncredited, not held."""
    settings = ReminderSettings.load()
    latest_due = today - datetime.timedelta(days=settings.first_after_days)
    return (
        remindable(today)
        .filter(due_date__lte=latest_due)
        # "hold" too: level_due() asks each invoice for it, which would be a query apiece.
        .select_related("credit_note", "hold")
        # What level_due() and the callers' messages read; send() fetches the invoice afresh.
        # The snapshot columns (issuer, customer, ...) would make a finance-wide list slow.
        .only(*CANDIDATE_FIELDS)
        .order_by("due_date", "number")
    )


def due(today=None):
    """[(invoice, level)] of the reminders that should go out today."""
    today = today or amsterdam_date(timezone.now())
    settings = ReminderSettings.load()
    invoices = list(candidates(today))
    # The reminders already sent, fetched for every candidate in one query and grouped here:
    # prefetch_related builds a queryset per invoice, which a finance-wide list feels.
    sent = defaultdict(list)
    for reminder in Reminder.objects.filter(invoice__in=[invoice.pk for invoice in invoices]):
        sent[reminder.invoice_id].append(reminder)
    result = []
    for invoice in invoices:
        level = level_due(invoice, settings, today, reminders=sent[invoice.pk])
        if level:
            result.append((invoice, level))
    return result


def send(invoice, level, by="", today=None, force=False):
    """Record the reminder and queue its e-mail; ValidationError when it was sent already or
    the invoice is not (or no longer) to be reminded."""
    today = today or amsterdam_date(timezone.now())
    try:
        with transaction.atomic():
            # The invoice row lock orders the command against the admin action.
            Invoice.objects.select_for_update().filter(pk=invoice.pk).first()
            fresh = Invoice.objects.select_related("credit_note").get(pk=invoice.pk)
            if level_due(fresh, ReminderSettings.load(), today, force=force) != level:
                raise ValidationError(
                    f"{invoice.number}: geen {Reminder.Level(level).label} nodig (betaald, "
                    "gecrediteerd, aangehouden, nog niet te laat of al verstuurd)."
                )
            reminder = Reminder.objects.create(
                invoice=fresh,
                level=level,
                sent_to=fresh.customer_email,
                outstanding=fresh.outstanding,
                by=by,
            )
            enqueue_with_transaction(tasks.send_reminder_email, reminder.pk)
    except IntegrityError:
        raise ValidationError(
            f"{invoice.number}: de {Reminder.Level(level).label} is al verstuurd."
        ) from None
    return reminder


def send_next(invoice, by=""):
    """The admin action: the next reminder this invoice may get, now."""
    today = amsterdam_date(timezone.now())
    fresh = Invoice.objects.select_related("credit_note").get(pk=invoice.pk)
    level = level_due(fresh, ReminderSettings.load(), today, force=True)
    if level is None:
        raise ValidationError(
            f"{invoice.number} krijgt geen herinnering: betaald, gecrediteerd, aangehouden, nog "
            "niet te laat, of beide herinneringen zijn al verstuurd."
        )
    return send(fresh, level, by=by, today=today, force=True)
