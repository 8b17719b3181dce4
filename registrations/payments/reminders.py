"""Payment reminders: which invoice is due for which reminder today, and recording one.

A reminder is recorded (unique per invoice and level) and its e-mail queued in one
transaction, so running the command twice on a day, or the command and the admin action at
once, sends each reminder once.
"""

import datetime
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from programme.models import amsterdam_date
from registrations.history.models import OrderLogEntry
from registrations.invoicing.log import record_for_invoice
from registrations.invoicing.models import Invoice, OrderInvoicing
from werkplaats import formats
from werkplaats.queue import enqueue_with_transaction

from . import tasks
from .models import InvoiceHold, Reminder, ReminderSettings

# The states that get reminders once the due date has passed: nothing paid ("te laat") or
# part of it ("deels betaald", which an invoice stays after its due date; Invoice.status()).
REMINDABLE = [Invoice.Status.OVERDUE, Invoice.Status.PARTIALLY_PAID]


def remindable(today):
    """The invoices that may get a reminder today, in SQL: the same rule as level_due()'s."""
    return (
        Invoice.objects.in_state(*REMINDABLE, today=today)
        .filter(due_date__lt=today, hold__isnull=True)
        .exclude(order__invoicing__pays_after__gte=today)
    )


def pays_after(invoice):
    """The day after which the invoice's order pays ("betaalt na afloop", set on the order),
    or None: until then its reminders are held as by an InvoiceHold. Read from the
    `pays_after` annotation where candidates() made one."""
    if hasattr(invoice, "pays_after"):
        return invoice.pays_after
    if invoice.order_id is None:
        return None
    return (
        OrderInvoicing.objects.filter(order_id=invoice.order_id)
        .values_list("pays_after", flat=True)
        .first()
    )


def held_text(invoice, today):
    """Why the invoice's reminders are held today, or None: finance's hold, or its order
    paying after a date that has not passed."""
    hold = getattr(invoice, "hold", None)
    if hold is not None:
        return (
            f"herinneringen aangehouden sinds {formats.day(timezone.localtime(hold.since))}"
            f": {hold.reason}"
        )
    until = pays_after(invoice)
    if until is not None and today <= until:
        return f"herinneringen aangehouden: betaalt na {formats.day(until)}"
    return None


def level_due(invoice, settings, today, force=False, reminders=None):
    """The reminder level this invoice is due for today, or None (level_or_reason says why)."""
    return level_or_reason(invoice, settings, today, force, reminders)[0]


def level_or_reason(invoice, settings, today, force=False, reminders=None):
    """(the reminder level this invoice is due for today, None) or (None, why not): the one
    rule, which names the part of it that refuses.

    Never for a paid, credited or on-hold invoice, a credit note, or one not yet late. The
    second waits until its day after the due date and as long after the first as the two
    settings lie apart. `force` (the admin action) skips the waiting, not the rules.
    `reminders`: the invoice's reminders when the caller fetched them for many at once."""
    held = held_text(invoice, today)
    if held is not None:
        return None, held
    status = invoice.status(today)
    if status not in REMINDABLE:
        return None, _not_remindable(invoice, status, today)
    if invoice.due_date >= today:
        return None, f"nog niet vervallen: vervalt op {formats.day(invoice.due_date)}"
    if reminders is None:
        reminders = invoice.reminders.all()
    sent = {reminder.level: reminder for reminder in reminders}
    late = (today - invoice.due_date).days
    if Reminder.Level.FIRST not in sent:
        if force or late >= settings.first_after_days:
            return Reminder.Level.FIRST, None
        first_on = invoice.due_date + datetime.timedelta(days=settings.first_after_days)
        return None, f"de eerste herinnering gaat pas op {formats.day(first_on)}"
    if Reminder.Level.SECOND in sent:
        second_at = timezone.localtime(sent[Reminder.Level.SECOND].sent_at)
        return None, (
            f"beide herinneringen zijn al verstuurd, de tweede op {formats.day(second_at)}"
        )
    gap = settings.second_after_days - settings.first_after_days
    first_day = amsterdam_date(sent[Reminder.Level.FIRST].sent_at)
    if force or (late >= settings.second_after_days and (today - first_day).days >= gap):
        return Reminder.Level.SECOND, None
    second_on = max(
        invoice.due_date + datetime.timedelta(days=settings.second_after_days),
        first_day + datetime.timedelta(days=gap),
    )
    return None, f"de tweede herinnering gaat pas op {formats.day(second_on)}"


def _not_remindable(invoice, status, today):
    Status = Invoice.Status
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        return "een creditfactuur krijgt geen herinnering"
    credit_note = getattr(invoice, "credit_note", None)
    if credit_note is not None:
        return f"gecrediteerd met {credit_note.number}"
    if status in (Status.PAID, Status.OVERPAID):
        paid = f" op {formats.day(invoice.paid_on)}" if invoice.paid_on else ""
        return f"al betaald{paid}"
    # Open: nothing paid and not yet due.
    return f"nog niet vervallen: vervalt op {formats.day(invoice.due_date)}"


CANDIDATE_FIELDS = [
    "number",
    "order_id",
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
        .annotate(pays_after=F("order__invoicing__pays_after"))
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
            due_level, reason = level_or_reason(fresh, ReminderSettings.load(), today, force)
            if due_level != level:
                if due_level is not None:
                    reason = f"nu is de {Reminder.Level(due_level).label} aan de beurt"
                raise ValidationError(
                    f"{invoice.number}: geen {Reminder.Level(level).label}: {reason}."
                )
            reminder = Reminder.objects.create(
                invoice=fresh,
                level=level,
                sent_to=fresh.customer_email,
                outstanding=fresh.outstanding,
                by=by,
            )
            enqueue_with_transaction(tasks.send_reminder_email, reminder.pk)
            record_for_invoice(
                fresh,
                OrderLogEntry.Kind.REMINDER,
                f"{reminder.get_level_display().capitalize()} voor factuur {fresh.number}: "
                f"{formats.money(reminder.outstanding)} open",
                by=by,
            )
    except IntegrityError:
        raise ValidationError(
            f"{invoice.number}: de {Reminder.Level(level).label} is al verstuurd."
        ) from None
    return reminder


def next_reminder(invoice, today=None):
    """The next reminder this invoice may get now (the admin action), unsaved: what the
    confirmation page previews; ValidationError names the reason when there is none."""
    today = today or amsterdam_date(timezone.now())
    level, reason = level_or_reason(invoice, ReminderSettings.load(), today, force=True)
    if level is None:
        raise ValidationError(f"{invoice.number} krijgt geen herinnering: {reason}.")
    return Reminder(
        invoice=invoice,
        level=level,
        sent_to=invoice.customer_email,
        outstanding=invoice.outstanding,
    )


def send_next(invoice, by=""):
    """The admin action: the next reminder this invoice may get, now."""
    today = amsterdam_date(timezone.now())
    fresh = Invoice.objects.select_related("credit_note").get(pk=invoice.pk)
    reminder = next_reminder(fresh, today)
    return send(fresh, reminder.level, by=by, today=today, force=True)


def hold(invoice, reason, by=""):
    """Finance holds the invoice's reminders (with the reason); ValidationError when it is
    held already. The orders' history records it, without the reason (free text that
    outlives no one's retention)."""
    with transaction.atomic():
        _hold, created = InvoiceHold.objects.get_or_create(
            invoice=invoice, defaults={"reason": reason, "by": by}
        )
        if not created:
            raise ValidationError(f"{invoice.number} wordt al aangehouden.")
        record_for_invoice(
            invoice,
            OrderLogEntry.Kind.HOLD_SET,
            f"Herinneringen voor factuur {invoice.number} aangehouden",
            by=by,
        )
    return _hold


def lift_hold(invoice_hold, by=""):
    """The hold goes: reminders may go out again."""
    with transaction.atomic():
        invoice = invoice_hold.invoice
        InvoiceHold.objects.filter(pk=invoice_hold.pk).delete()
        record_for_invoice(
            invoice,
            OrderLogEntry.Kind.HOLD_LIFTED,
            f"Herinneringen voor factuur {invoice.number} weer aan",
            by=by,
        )
