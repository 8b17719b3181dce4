"""Transmitting an invoice over Peppol: choosing the channel, each attempt to hand it to the
access point, and the access point's reports afterwards. Every step is recorded in the
order's history.

How an invoice leaves (channel_for): over Peppol when the access point is configured and the
buyer's electronic address on the invoice is an OIN (scheme 0190: every Dutch public body
must receive e-invoices over Peppol, addressed by OIN) or a Peppol ID the organisation gave
that is more than its KvK number (the address every Dutch company gets, 0106:<KvK>, says
nothing about whether it receives on Peppol). Before the first attempt the access point's
discovery confirms the receiver is registered; when it is not, the transmission is refused
with that reason and finance sends it by e-mail. Finance chooses per invoice
(choose_email, choose_peppol), also Peppol for a company known by its KvK number.

Across workers: an attempt is claimed in a short transaction under the transmission's row
lock (its next_attempt_at moves past the request's timeout), then the request runs without
any lock, and its answer is recorded under the lock again. A second worker finds nothing due
and skips. A worker that dies mid-request leaves the claim to expire; the attempt after it
uses the same idempotency key, so the access point delivers the document once.
"""

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from registrations.history.models import OrderLogEntry
from registrations.invoicing import sending
from registrations.invoicing.documents import Kind, document_bytes, sha256
from registrations.invoicing.einvoice import findings, rules_dir
from registrations.invoicing.log import record_for_invoice
from registrations.invoicing.models import Invoice, InvoiceRefused
from werkplaats import formats

from . import accesspoint
from .models import ALLOWED, Attempt, Channel, ProviderEvent, Status, Transmission

logger = logging.getLogger(__name__)

# Waits between attempts: a minute, then longer, at most six hours. A Retry-After from the
# access point is waited for as asked.
BACKOFF = [60, 300, 1800, 7200, 21600]
# An attempt's claim outlasts its request (connect plus read timeout) by a wide margin.
CLAIM = datetime.timedelta(minutes=10)


class NoReceiver(InvoiceRefused):
    """The invoice names no Peppol receiver (no Peppol ID and no OIN)."""


def receiver_of(invoice):
    """The buyer's Peppol identifier from the invoice's snapshot ("0190:<OIN>"), or ""."""
    if invoice.customer_peppol_id:
        return invoice.customer_peppol_id
    if invoice.customer_oin:
        return f"0190:{invoice.customer_oin}"
    return ""


def channel_for(invoice):
    """Peppol or e-mail: finance's choice for this invoice, else by its organisation."""
    chosen = Transmission.objects.filter(invoice=invoice).values_list("channel", flat=True).first()
    if chosen:
        return chosen
    receiver = receiver_of(invoice)
    if not accesspoint.configured() or not receiver:
        return Channel.EMAIL
    if receiver.startswith("0190:") or receiver != f"0106:{invoice.customer_kvk_number}":
        return Channel.PEPPOL
    return Channel.EMAIL


def _what(invoice):
    return f"{'Creditfactuur' if invoice.is_credit_note else 'Factuur'} {invoice.number}"


def _record(transmission, text, by=None, at=None):
    record_for_invoice(
        transmission.invoice,
        OrderLogEntry.Kind.TRANSMISSION,
        f"{_what(transmission.invoice)}: {text}",
        by=by,
        at=at,
    )


def queue(invoice, by=None):
    """The invoice's transmission over Peppol, queued now (created once, per invoice)."""
    receiver = receiver_of(invoice)
    if not receiver:
        raise NoReceiver(
            f"{invoice.number} kan niet via Peppol: de klant heeft geen Peppol-ID of OIN."
        )
    now = timezone.now()
    transmission, created = Transmission.objects.get_or_create(
        invoice=invoice,
        defaults={"receiver": receiver, "next_attempt_at": now, "queued_at": now},
    )
    if created:
        _record(transmission, f"in de wachtrij voor Peppol naar {receiver}", by=by, at=now)
    return transmission, created


def backoff(attempt_count, retry_after=None):
    if retry_after is not None:
        return datetime.timedelta(seconds=retry_after)
    return datetime.timedelta(seconds=BACKOFF[min(attempt_count, len(BACKOFF)) - 1])


def claim(transmission_id, now=None):
    """(transmission, attempt) when this worker may make the next attempt, else None."""
    now = now or timezone.now()
    with transaction.atomic():
        transmission = (
            Transmission.objects.select_for_update(skip_locked=True)
            .select_related("invoice")
            .filter(pk=transmission_id)
            .due(now)
            .first()
        )
        if transmission is None:
            return None
        transmission.attempt_count += 1
        transmission.next_attempt_at = now + CLAIM
        transmission.save(update_fields=["attempt_count", "next_attempt_at", "updated_at"])
        attempt = Attempt.objects.create(
            transmission=transmission, number=transmission.attempt_count, started_at=now
        )
    return transmission, attempt


def checked_document(transmission):
    """The stored e-invoice (its SHA-256 of issue checked), validated with both official rule
    sets before the first attempt. Refused (accesspoint.Refused, local) when a rule fails."""
    invoice = transmission.invoice
    document = document_bytes(invoice, Kind.UBL)
    if transmission.validated_at is None:
        if rules_dir() is None:
            raise accesspoint.Retryable(
                "de e-factuurregels zijn niet ingesteld (EINVOICE_RULES_DIR): niet gecontroleerd"
            )
        fatal = sorted({f.rule for f in findings(document) if f.flag == "fatal"})
        if fatal:
            raise accesspoint.Refused("de e-factuur voldoet niet aan de regels", fatal)
    return document


def attempt(transmission_id, now=None, access_point=None):
    """Make the next attempt for this transmission, if it is due and no other worker has it.
    Returns the transmission afterwards, or None when there was nothing to do."""
    claimed = claim(transmission_id, now)
    if claimed is None:
        return None
    transmission, this = claimed
    access_point = access_point or accesspoint.access_point()
    first = transmission.validated_at is None
    message_id, failure, checksum = "", None, ""
    try:
        document = checked_document(transmission)
        if first and not access_point.receives(transmission.receiver):
            raise accesspoint.Refused(
                "ontvanger niet gevonden op Peppol",
                [f"{transmission.receiver} is niet geregistreerd voor e-facturen"],
            )
        # Only now: a first attempt counts as checked (finish) once the receiver was found,
        # so a lookup that failed for a while (network, 5xx) is made again next time.
        checksum = sha256(document)
        message_id = access_point.send(
            document,
            transmission.receiver,
            transmission.idempotency_key,
            credit_note=transmission.invoice.is_credit_note,
        )
    except (accesspoint.Retryable, accesspoint.Refused) as error:
        failure = error
    except InvoiceRefused as error:
        # The stored document is missing or damaged: nothing leaves; finance restores it.
        failure = accesspoint.Retryable(str(error))
    return finish(transmission.pk, this.pk, message_id, failure, checksum, first)


def finish(transmission_id, attempt_id, message_id, failure, checksum, first):
    now = timezone.now()
    with transaction.atomic():
        transmission = (
            Transmission.objects.select_for_update()
            .select_related("invoice")
            .get(pk=transmission_id)
        )
        this = Attempt.objects.get(pk=attempt_id)
        this.finished_at = now
        this.http_status = getattr(failure, "http_status", None) or (200 if message_id else None)
        if checksum and first and not isinstance(failure, accesspoint.Refused):
            transmission.ubl_sha256 = checksum
            transmission.validated_at = now
        if message_id:
            this.outcome = Attempt.Outcome.HANDED_OVER
            transmission.move(Status.HANDED_OVER)
            transmission.provider_message_id = message_id
            transmission.handed_over_at = now
            transmission.next_attempt_at = None
            transmission.last_error = ""
            _record(
                transmission,
                f"aangeboden aan het accesspoint (poging {this.number}, bericht {message_id})",
                at=now,
            )
        elif isinstance(failure, accesspoint.Refused):
            this.outcome = Attempt.Outcome.REFUSED
            this.error = str(failure)[:500]
            transmission.move(Status.REFUSED)
            transmission.rules = failure.rules
            transmission.last_error = str(failure)[:500]
            transmission.next_attempt_at = None
            transmission.decided_at = now
            _record(
                transmission,
                f"geweigerd ({failure}): {'; '.join(failure.rules) or 'geen regels genoemd'}",
                at=now,
            )
        else:
            this.outcome = Attempt.Outcome.RETRY
            this.error = str(failure)[:500]
            transmission.move(Status.RETRYING)
            transmission.last_error = str(failure)[:500]
            transmission.next_attempt_at = now + backoff(
                transmission.attempt_count, failure.retry_after
            )
            _record(
                transmission,
                f"poging {this.number} mislukt ({failure}); opnieuw vanaf "
                f"{formats.moment(transmission.next_attempt_at)}",
                at=now,
            )
        this.save()
        transmission.save()
    logger.info(
        "Transmission of invoice %s: attempt %s %s",
        transmission.invoice.number,
        this.number,
        this.outcome,
    )
    return transmission


EVENT_STATUS = {
    "delivered": Status.DELIVERED,
    "failed": Status.REFUSED,
    "accepted": Status.ACCEPTED,
    "rejected": Status.REJECTED,
}


def apply_event(event):
    """Apply one status report of the access point, once: a report seen before (a replay)
    changes nothing. Returns whether it changed a transmission."""
    now = timezone.now()
    with transaction.atomic():
        _seen, new = ProviderEvent.objects.get_or_create(
            event_id=event.event_id, defaults={"body": event.body}
        )
        if not new or event.kind not in EVENT_STATUS:
            return False
        transmission = (
            Transmission.objects.select_for_update()
            .select_related("invoice")
            .filter(provider_message_id=event.message_id)
            .exclude(provider_message_id="")
            .first()
        )
        if transmission is None:
            logger.warning("Access point event %s names no transmission of ours", event.event_id)
            return False
        status = EVENT_STATUS[event.kind]
        if status not in {Status.DELIVERED, Status.ACCEPTED} and status == transmission.status:
            return False
        if status not in ALLOWED[Status(transmission.status)]:
            logger.warning(
                "Access point event %s (%s) ignored for invoice %s in state %s",
                event.event_id,
                event.kind,
                transmission.invoice.number,
                transmission.status,
            )
            return False
        transmission.move(status)
        if status == Status.DELIVERED:
            transmission.delivered_at = now
            _record(transmission, "afgeleverd bij het accesspoint van de klant", at=now)
        elif status == Status.ACCEPTED:
            transmission.decided_at = now
            _record(transmission, "geaccepteerd door de klant", at=now)
        else:
            transmission.rules = event.rules
            transmission.decided_at = now
            transmission.last_error = "; ".join(event.rules)[:500]
            who = "afgewezen door de klant" if status == Status.REJECTED else "niet afgeleverd"
            _record(
                transmission,
                f"{who}: {'; '.join(event.rules) or 'geen regels genoemd'}",
                at=now,
            )
        transmission.save()
    return True


def poll(access_point=None, limit=500):
    """Fetch and apply the access point's queued reports, acknowledging each once applied.
    Returns (reports read, transmissions changed)."""
    access_point = access_point or accesspoint.access_point()
    read = changed = 0
    while read < limit:
        event = access_point.next_event()
        if event is None:
            break
        read += 1
        changed += apply_event(event)
        access_point.acknowledge(event)
    return read, changed


def choose_email(transmission, by):
    """Finance sends the invoice by e-mail instead, as the original: mailed now."""
    with transaction.atomic():
        locked = Transmission.objects.select_for_update().get(pk=transmission.pk)
        if Status.EMAILED not in ALLOWED[Status(locked.status)]:
            # Refused before anything is mailed (e.g. the buyer accepted it already).
            locked.move(Status.EMAILED)
        locked.channel = Channel.EMAIL
        locked.channel_set_by = getattr(by, "username", by) or ""
        locked.save(update_fields=["channel", "channel_set_by", "updated_at"])
    invoice = Invoice.objects.get(pk=transmission.invoice_id)
    sending.send(invoice, again=True)
    with transaction.atomic():
        locked = Transmission.objects.select_for_update().get(pk=transmission.pk)
        locked.move(Status.EMAILED)
        locked.next_attempt_at = None
        locked.save()
        _record(locked, "per e-mail verstuurd als origineel (gekozen door financiën)", by=by)
    return locked


def choose_peppol(invoice, by):
    """Finance sends the invoice over Peppol (again): a new round of attempts, queued now."""
    now = timezone.now()
    with transaction.atomic():
        transmission, created = queue(invoice, by=by)
        transmission = Transmission.objects.select_for_update().get(pk=transmission.pk)
        if not created:
            transmission.move(Status.QUEUED)
            transmission.rules = []
            transmission.last_error = ""
            transmission.queued_at = now
            transmission.next_attempt_at = now
            transmission.decided_at = None
        transmission.channel = Channel.PEPPOL
        transmission.channel_set_by = getattr(by, "username", by) or ""
        transmission.save()
        if not created:
            _record(transmission, "opnieuw in de wachtrij voor Peppol", by=by, at=now)
    return transmission
