"""From a statement to payments on invoices: the import, the matching by invoice number and by
our own references, and what finance does by hand (assign a payment, mark it not ours, record
a payment or refund).

The matcher reads the invoice numbers people type in a transfer's description, tolerantly
(spaces, lower case, a leading "factuur", a missing leading zero, two numbers in one
transfer, an RF creditor reference) but never guesses: a line it cannot pin on invoices
exactly waits in the queue. A line without an invoice number may quote the references we
gave: an order's BST-00042 or a participant's INS-00006 (as tolerantly read); it pays that
order's one open invoice, or of several the one whose outstanding amount it is. Names are
only ever suggestions (`suggestions`, for the assign screen). All invoices are indexed by
normalised number once per import, and the references of all lines are looked up in one
query, so the work grows with lines + invoices, not lines x invoices.
"""

import hashlib
import re
import unicodedata
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from programme.models import amsterdam_date
from registrations.history.models import OrderLogEntry
from registrations.invoicing.log import entries_for_invoices, record_for_invoice
from registrations.invoicing.models import Invoice, InvoiceLine
from werkplaats import formats

from . import camt
from .models import ZERO, Allocation, BankStatement, Payment, paid_amounts, settle

MAX_STATEMENT_BYTES = 25 * 1024 * 1024
LOG = OrderLogEntry.Kind
# Words people put before the number: removed so "factuur2022-0001" reads as the number.
NUMBER_WORDS = re.compile(r"\b(?:FACTUUR(?:NUMMER|NR)?|FACTNR|FACT|INVOICE|NR)[.:#]*", re.I)
SEPARATORS = "-._/"
# Our own references (Order.reference, Registration.reference): BST-00042, "bst 42", INS00006.
REFERENCES = re.compile(r"(?<![A-Z0-9])(BST|INS)\s*[-._/:#]?\s*(\d{1,9})(?![0-9])", re.I)


def references_in(texts):
    """[("BST" or "INS", pk)] quoted in `texts`, in order of appearance, each once."""
    found = []
    for text in texts:
        for match in REFERENCES.finditer(text):
            key = (match.group(1).upper(), int(match.group(2)))
            if key not in found:
                found.append(key)
    return found


def invoices_for_references(references):
    """{("BST"|"INS", pk): [invoice id, ...]}: the standing (uncredited) invoices with a line
    for that order's participants or that participant, oldest first, in one query for all
    `references` (a combined invoice, without an order of its own, is found by its lines)."""
    orders = {pk for kind, pk in references if kind == "BST"}
    participants = {pk for kind, pk in references if kind == "INS"}
    if not (orders or participants):
        return {}
    rows = (
        InvoiceLine.objects.filter(
            Q(registration__order_id__in=orders) | Q(registration_id__in=participants),
            invoice__kind=Invoice.Kind.INVOICE,
            invoice__credit_note__isnull=True,
        )
        .values_list("invoice_id", "registration_id", "registration__order_id")
        .order_by("invoice_id")
    )
    found = {}
    for invoice_id, registration_id, order_id in rows:
        for key in (("BST", order_id), ("INS", registration_id)):
            if key in references and invoice_id not in found.setdefault(key, []):
                found[key].append(invoice_id)
    return found


# What is still to be paid, in invoicing's own words (Invoice.status()).
OPEN_STATES = (Invoice.Status.OPEN, Invoice.Status.OVERDUE, Invoice.Status.PARTIALLY_PAID)


def open_first(invoices):
    """`invoices` with `is_open` (something still to be paid), open ones first, newest first
    within each: what the assign screen lists."""
    still_open = Invoice.objects.in_state(*OPEN_STATES).values("pk")
    return (
        invoices.annotate(
            is_open=ExpressionWrapper(Q(pk__in=still_open), output_field=BooleanField())
        )
        .select_related("credit_note", "credited_invoice")
        .order_by("-is_open", "-invoice_date", "-number")
    )


def _plain(text):
    """Lower case without accents, words separated by one space and padded with one, so
    ' el amrani ' is found as whole words in it."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(
        char if char.isalnum() else " " for char in text if not unicodedata.combining(char)
    )
    return f" {' '.join(text.split())} "


def suggestions(payment, limit=20):
    """What a bank line says, as invoices finance may assign it to, each with why:
    [(invoice, reason)]. First the invoices its invoice numbers and our references (BST-,
    INS-) name, then the open invoices of orders whose participants' or booker's names appear
    in its description or account name (the full name before a last name alone). A
    suggestion only: finance decides."""
    texts = [payment.remittance]
    reasons = {}
    for pk in InvoiceIndex().numbers_in(texts):
        reasons.setdefault(pk, "factuurnummer in de omschrijving")
    quoted = references_in(texts)
    for key, pks in invoices_for_references(quoted).items():
        for pk in pks:
            reasons.setdefault(pk, f"referentie {key[0]}-{key[1]:05d} in de omschrijving")
    said = _plain(f"{payment.remittance} {payment.counterparty_name}")
    by_name = {}
    people = (
        InvoiceLine.objects.filter(
            invoice__in=Invoice.objects.in_state(*OPEN_STATES).invoices(),
            registration__isnull=False,
        )
        .values_list(
            "invoice_id",
            "registration__first_name",
            "registration__last_name",
            "registration__order__first_name",
            "registration__order__last_name",
        )
        .order_by("invoice_id")
    )
    for pk, *names in people:
        for first, last, who in [(*names[:2], "deelnemer"), (*names[2:], "besteller")]:
            last_plain = _plain(last)
            if len(last_plain.strip()) < 3 or last_plain not in said:
                continue
            full = _plain(f"{first} {last}") in said
            rank = 0 if full else 1
            reason = f"naam {who} {first + ' ' if full else ''}{last}"
            if pk not in by_name or rank < by_name[pk][0]:
                by_name[pk] = (rank, reason)
    for pk, (_rank, reason) in sorted(by_name.items(), key=lambda item: item[1][0]):
        reasons.setdefault(pk, reason)
    wanted = list(reasons)[:limit]
    invoices = open_first(Invoice.objects.filter(pk__in=wanted)).in_bulk(wanted)
    return [(invoices[pk], reasons[pk]) for pk in wanted if pk in invoices]


def by_reference(amount, references, invoices_of, ledger):
    """(invoice ids, note) for money in that quotes `references`: the order's one open invoice,
    or of several the one whose open amount this is; else no invoice and a note for finance
    naming what it found."""
    candidates = []
    for key in references:
        for pk in invoices_of.get(key, []):
            if pk not in candidates:
                candidates.append(pk)
    quoted = ", ".join(f"{kind}-{pk:05d}" for kind, pk in references)
    open_ones = [pk for pk in candidates if ledger.open_amount(pk) > 0]
    if len(open_ones) == 1:
        return open_ones, f"Gekoppeld op referentie {quoted}."
    exact = [pk for pk in open_ones if ledger.open_amount(pk) == amount]
    if len(exact) == 1:
        return exact, f"Gekoppeld op referentie {quoted} en bedrag."
    if not open_ones:
        return None, f"Referentie {quoted} gevonden, maar daar staat geen open factuur op."
    numbers = ", ".join(ledger.index.number[pk] for pk in open_ones)
    return None, (
        f"Referentie {quoted} gevonden: open facturen {numbers}; geen met precies dit bedrag."
    )


class InvoiceIndex:
    """Every invoice by its normalised number (series in capitals + sequence without leading
    zeros), and one regular expression that finds any series' numbers in a text."""

    def __init__(self):
        self.by_key = {}
        self.kind = {}
        self.credit_of = {}
        self.credited = {}
        self.total = {}
        self.number = {}
        series = set()
        rows = Invoice.objects.values_list(
            "pk", "series", "sequence", "kind", "credited_invoice_id", "total_incl_vat", "number"
        )
        for pk, serie, sequence, kind, credited_id, total, number in rows:
            self.number[pk] = number
            serie = serie.upper()
            series.add(serie)
            self.by_key[(serie, sequence)] = pk
            self.kind[pk] = kind
            self.total[pk] = total
            if credited_id:
                self.credit_of[credited_id] = pk
                self.credited[pk] = credited_id
        self.series = sorted(series, key=len, reverse=True)
        alternatives = "|".join(
            f"(?P<s{i}>{self._pattern(serie)})" for i, serie in enumerate(self.series)
        )
        self.pattern = (
            re.compile(rf"(?<![A-Z0-9])(?:{alternatives})\s*(?P<seq>\d{{1,9}})(?![0-9])")
            if self.series
            else None
        )

    @staticmethod
    def _pattern(serie):
        # A separator may be typed with spaces around it, as another separator, as a space or
        # not at all (an RF reference has letters and digits only).
        return "".join(
            rf"(?:\s*[{re.escape(SEPARATORS)}]\s*|\s*)" if char in SEPARATORS else re.escape(char)
            for char in serie
        )

    def numbers_in(self, texts):
        """The invoices whose numbers appear in `texts`, in order of appearance."""
        found = []
        if self.pattern is None:
            return found
        for text in texts:
            text = NUMBER_WORDS.sub(" ", text.upper())
            for match in self.pattern.finditer(text):
                serie = next(
                    self.series[int(name[1:])]
                    for name, value in match.groupdict().items()
                    if name != "seq" and value is not None
                )
                digits = match.group("seq")
                typed = match.group(0)[: -len(digits)]
                # "2022 7" in "15-09-2022 7 deelnemers" is no number: a number typed with a
                # space for its separator needs all its printed digits.
                if (
                    any(c in SEPARATORS for c in serie)
                    and not any(c in SEPARATORS for c in typed)
                    and len(digits) < 4
                ):
                    continue
                pk = self.by_key.get((serie, int(digits)))
                if pk is not None and pk not in found:
                    found.append(pk)
        return found


def targets(index, entry_amount, found):
    """The invoices a payment is for: money in pays invoices; money out refunds credit notes
    (named by their own number or their invoice's). None when that is not certain."""
    chosen = []
    for pk in found:
        if entry_amount > 0:
            if index.kind[pk] != Invoice.Kind.INVOICE:
                return None
            chosen.append(pk)
        else:
            credit = pk if index.kind[pk] == Invoice.Kind.CREDIT_NOTE else index.credit_of.get(pk)
            if credit is None:
                return None
            if credit not in chosen:
                chosen.append(credit)
    return chosen or None


def split(amount, invoice_ids, open_amounts):
    """[(invoice id, amount)] for a payment: all of it to one invoice (full, partial or
    over-payment alike); over several only when it is exactly what they have open."""
    if len(invoice_ids) == 1:
        return [(invoice_ids[0], amount)]
    parts = [(pk, open_amounts[pk]) for pk in invoice_ids]
    if any(part == 0 for _pk, part in parts) or sum(part for _pk, part in parts) != amount:
        return None
    return parts


class Ledger:
    """What is open on the invoices during one import, kept up to date as lines are matched,
    so two lines for the same invoice on one statement see each other."""

    def __init__(self, index, invoice_ids):
        self.index = index
        ids = set(invoice_ids) | {index.credited[pk] for pk in invoice_ids if pk in index.credited}
        self.paid = {pk: total for pk, (total, _last) in paid_amounts(ids).items()}

    def open_amount(self, pk):
        """For an invoice: what is still to be paid; for a credit note: what is still to go
        back (negative)."""
        index = self.index
        if index.kind[pk] == Invoice.Kind.CREDIT_NOTE:
            original = index.credited[pk]
            return -max(self.paid.get(original, ZERO) + self.paid.get(pk, ZERO), ZERO)
        return max(index.total[pk] - self.paid.get(pk, ZERO), ZERO)

    def add(self, pk, amount):
        self.paid[pk] = self.paid.get(pk, ZERO) + amount


def _lock(invoice_ids):
    # Sorted, so two imports or an import and a hand assignment lock in the same order.
    return list(
        Invoice.objects.select_for_update().filter(pk__in=invoice_ids).order_by("pk").values("pk")
    )


def import_statement(content, filename, by=""):
    """Read a CAMT.053 statement in: a BankStatement, a Payment per new line, allocations for
    the lines that match. All or nothing; camt.StatementRefused (Dutch) changes nothing."""
    if len(content) > MAX_STATEMENT_BYTES:
        raise camt.StatementRefused(
            f"Dit bestand is groter dan {MAX_STATEMENT_BYTES // (1024 * 1024)} MB; een "
            "maandafschrift is veel kleiner. Is het wel een afschrift?"
        )
    digest = hashlib.sha256(content).hexdigest()
    earlier = BankStatement.objects.filter(sha256=digest).first()
    if earlier:
        raise camt.StatementRefused(
            f"Dit afschrift is al ingelezen op "
            f"{formats.moment(earlier.uploaded_at)}; er is niets toegevoegd."
        )
    statement = camt.parse(content)
    index = InvoiceIndex()
    found = {
        id(entry): index.numbers_in([*entry.references, entry.remittance])
        for entry in statement.entries
    }
    # Our references count only where no invoice number is named: the number is the sharper.
    quoted = {
        id(entry): references_in([*entry.references, entry.remittance])
        for entry in statement.entries
        if entry.amount > 0 and not found[id(entry)]
    }
    try:
        with transaction.atomic():
            return _store(statement, digest, filename, by, index, found, quoted)
    except IntegrityError as error:
        # A parallel upload of the same file or of an overlapping statement won the race.
        raise camt.StatementRefused(
            "Dit afschrift wordt op dit moment al ingelezen (of een afschrift met dezelfde "
            "regels). Kijk over een minuut bij de bankafschriften."
        ) from error


def _store(statement, digest, filename, by, index, found, quoted):
    record = BankStatement.objects.create(
        sha256=digest,
        filename=filename[:255],
        format=BankStatement.Format.CAMT053,
        account_iban=statement.account_iban[:34],
        statement_ids=", ".join(statement.statement_ids)[:500],
        uploaded_by=by,
    )
    dates = [entry.booking_date for entry in statement.entries]
    known = set()
    if dates:
        known = set(
            Payment.objects.filter(
                booking_date__gte=min(dates),
                booking_date__lte=max(dates),
                account_iban__in={entry.account_iban for entry in statement.entries},
            ).values_list("bank_reference", "account_iban", "booking_date", "amount")
        )
    new, seen = [], set()
    for entry in statement.entries:
        if entry.key in known or entry.key in seen:
            continue
        seen.add(entry.key)
        new.append(entry)
    invoices_of = invoices_for_references(
        {key for entry in new for key in quoted.get(id(entry), [])}
    )
    candidates = set()
    for entry in new:
        for key in quoted.get(id(entry), []):
            candidates.update(invoices_of.get(key, []))
        for pk in found[id(entry)]:
            candidates.add(pk)
            candidates.update(
                pk2 for pk2 in (index.credit_of.get(pk), index.credited.get(pk)) if pk2
            )
    _lock(candidates)
    ledger = Ledger(index, candidates)
    payments, parts_of = [], []
    for entry in new:
        chosen = targets(index, entry.amount, found[id(entry)])
        parts = None
        if chosen:
            open_amounts = {pk: ledger.open_amount(pk) for pk in chosen}
            parts = split(entry.amount, chosen, open_amounts)
        note = ""
        if found[id(entry)] and not parts:
            note = "Factuurnummer(s) gevonden, maar niet eenduidig te koppelen."
        elif quoted.get(id(entry)):
            chosen, note = by_reference(entry.amount, quoted[id(entry)], invoices_of, ledger)
            parts = [(chosen[0], entry.amount)] if chosen else None
        payments.append(
            Payment(
                statement=record,
                amount=entry.amount,
                booking_date=entry.booking_date,
                account_iban=entry.account_iban,
                counterparty_name=entry.counterparty_name,
                counterparty_iban=entry.counterparty_iban,
                bank_reference=entry.bank_reference,
                remittance=entry.remittance or " ".join(entry.references),
                state=Payment.State.MATCHED if parts else Payment.State.UNMATCHED,
                note=note[:300],
            )
        )
        parts_of.append(parts or [])
        for pk, amount in parts or []:
            ledger.add(pk, amount)
    Payment.objects.bulk_create(payments, batch_size=1000)
    allocations = [
        Allocation(payment=payment, invoice_id=pk, amount=amount)
        for payment, parts in zip(payments, parts_of, strict=True)
        for pk, amount in parts
    ]
    Allocation.objects.bulk_create(allocations, batch_size=1000)
    settle({allocation.invoice_id for allocation in allocations})
    steps = [
        (pk, LOG.PAYMENT, _paid_text(payment, amount, index.number[pk], "automatisch "), None)
        for payment, parts in zip(payments, parts_of, strict=True)
        for pk, amount in parts
    ]
    OrderLogEntry.objects.bulk_create(entries_for_invoices(steps), batch_size=1000)
    record.entries = len(payments)
    record.known_entries = len(statement.entries) - len(new)
    record.matched = sum(1 for parts in parts_of if parts)
    record.save(update_fields=["entries", "known_entries", "matched"])
    return record


def _paid_text(payment, amount, number, how=""):
    """The history's line for a payment (or refund) allocated to invoice `number`."""
    what = "Terugbetaling" if amount < 0 else "Betaling"
    return (
        f"{what} van {formats.money(abs(amount))} ({formats.numeric_date(payment.booking_date)}) "
        f"{how}gekoppeld aan {number}"
    )


def assign(payment, invoices, by=""):
    """Finance assigns an unmatched payment by hand to one invoice (all of it), or to several
    when it is exactly what they have open. Raises ValidationError (Dutch)."""
    invoices = list(invoices)
    if not invoices:
        raise ValidationError("Kies de factuur waarvoor deze betaling is.")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.state != Payment.State.UNMATCHED:
            raise ValidationError(
                f"Deze betaling is al {payment.get_state_display()}; er is niets gewijzigd."
            )
        index = InvoiceIndex()
        chosen = targets(index, payment.amount, [invoice.pk for invoice in invoices])
        if not chosen:
            raise ValidationError(
                "Geld dat binnenkwam hoort bij een factuur; geld dat wij terugbetaalden bij een "
                "gecrediteerde factuur of creditfactuur."
            )
        related = set(chosen) | {index.credited[pk] for pk in chosen if pk in index.credited}
        _lock(related)
        ledger = Ledger(index, related)
        parts = split(payment.amount, chosen, {pk: ledger.open_amount(pk) for pk in chosen})
        if not parts:
            raise ValidationError(
                "Over meerdere facturen verdelen kan alleen als de betaling precies hun open "
                "bedragen samen is. Wijs haar anders toe aan één factuur."
            )
        Allocation.objects.bulk_create(
            Allocation(payment=payment, invoice_id=pk, amount=amount) for pk, amount in parts
        )
        payment.state = Payment.State.MATCHED
        payment.handled_by = by
        payment.note = "Met de hand gekoppeld."
        payment.save(update_fields=["state", "handled_by", "note"])
        settle(chosen)
        steps = [
            (pk, LOG.PAYMENT, _paid_text(payment, amount, index.number[pk], "met de hand "), by)
            for pk, amount in parts
        ]
        OrderLogEntry.objects.bulk_create(entries_for_invoices(steps))
    return payment


def mark_not_ours(payment, reason="", by=""):
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.state != Payment.State.UNMATCHED:
            raise ValidationError(
                f"Deze betaling is al {payment.get_state_display()}; er is niets gewijzigd."
            )
        payment.state = Payment.State.NOT_OURS
        payment.note = (reason or "Niet van ons.")[:300]
        payment.handled_by = by
        payment.save(update_fields=["state", "note", "handled_by"])
    return payment


def _check_date(day, invoice, today, what):
    if day > today:
        raise ValidationError(f"Een {what} kan niet in de toekomst liggen.")
    if day < invoice.invoice_date:
        raise ValidationError(
            f"Een {what} kan niet voor de factuurdatum ({formats.day(invoice.invoice_date)}) liggen."
        )


def record_payment(invoice, day, amount=None, by="", today=None):
    """Finance records money that came in outside a statement (the old "mark paid"): a
    manual payment of what is open (or `amount`), allocated to the invoice."""
    today = today or amsterdam_date(timezone.now())
    with transaction.atomic():
        _lock([invoice.pk])
        invoice = Invoice.objects.select_related("credited_invoice").get(pk=invoice.pk)
        if invoice.is_settled_by_credit:
            raise ValidationError(
                f"{invoice.credit_text()}; registreer een terugbetaling op de creditfactuur."
            )
        _check_date(day, invoice, today, "betaaldatum")
        index = InvoiceIndex()
        open_amount = Ledger(index, [invoice.pk]).open_amount(invoice.pk)
        amount = open_amount if amount is None else Decimal(amount)
        if amount <= 0:
            raise ValidationError(f"{invoice.paid_text()}; er is niets te registreren.")
        return _manual(invoice, day, amount, by, f"Betaling van factuur {invoice.number}")


def record_refund(credit_note, day, by="", today=None):
    """Finance records that the money of a credited, paid invoice went back: a refund on its
    credit note (either of the two may be given; both show "terug te betalen")."""
    today = today or amsterdam_date(timezone.now())
    credit_note = Invoice.objects.filter(credited_invoice=credit_note).first() or credit_note
    with transaction.atomic():
        _lock([credit_note.pk, credit_note.credited_invoice_id or credit_note.pk])
        credit_note = Invoice.objects.select_related("credited_invoice").get(pk=credit_note.pk)
        if credit_note.kind != Invoice.Kind.CREDIT_NOTE:
            raise ValidationError(
                f"{credit_note.number} is niet gecrediteerd; een terugbetaling hoort bij een "
                "creditfactuur."
            )
        due = Ledger(InvoiceIndex(), [credit_note.pk]).open_amount(credit_note.pk)
        if due >= 0:
            raise ValidationError(_no_refund_due(credit_note))
        _check_date(day, credit_note, today, "terugbetaaldatum")
        return _manual(
            credit_note, day, due, by, f"Terugbetaling creditfactuur {credit_note.number}"
        )


def _no_refund_due(credit_note):
    """Which rule leaves nothing to refund on this credit note."""
    credited = credit_note.credited_invoice
    if credit_note.amount_refunded > 0:
        on = f" op {formats.day(credit_note.refunded_on)}" if credit_note.refunded_on else ""
        return f"{credit_note.number}: de terugbetaling is al geregistreerd{on}."
    return f"{credited.number} is niet betaald; er is niets terug te betalen."


def _manual(invoice, day, amount, by, text):
    payment = Payment.objects.create(
        source=Payment.Source.MANUAL,
        amount=amount,
        booking_date=day,
        counterparty_name=invoice.customer_organisation,
        remittance=text,
        state=Payment.State.MATCHED,
        handled_by=by,
    )
    Allocation.objects.create(payment=payment, invoice=invoice, amount=amount)
    settle([invoice.pk])
    record_for_invoice(
        invoice, LOG.PAYMENT, _paid_text(payment, amount, invoice.number, "geregistreerd en "), by
    )
    return payment


def transfer(credited, target, by="", today=None):
    """Move the money paid on a credited invoice to another invoice of the customer (after
    "corrigeren en opnieuw factureren"): a refund on the credit note and a payment on the
    target of the same amount (what the one still owes back, at most what the other still
    owes), booked today. Nothing leaves the bank, so the pair nets to zero."""
    today = today or amsterdam_date(timezone.now())
    with transaction.atomic():
        index = InvoiceIndex()
        credit = (
            credited.pk
            if index.kind[credited.pk] == Invoice.Kind.CREDIT_NOTE
            else (index.credit_of.get(credited.pk))
        )
        if credit is None:
            raise ValidationError(
                f"{credited.number} is niet gecrediteerd; er is niets te verrekenen."
            )
        if index.kind[target.pk] != Invoice.Kind.INVOICE or target.pk in index.credit_of:
            fresh = Invoice.objects.select_related("credited_invoice").get(pk=target.pk)
            raise ValidationError(f"{fresh.credit_text()}: geen openstaande factuur.")
        related = {credit, index.credited[credit], target.pk}
        _lock(related)
        ledger = Ledger(index, related)
        amount = min(-ledger.open_amount(credit), ledger.open_amount(target.pk))
        if -ledger.open_amount(credit) <= 0:
            raise ValidationError(
                f"Er is niets te verrekenen: op {credited.number} staat geen terug te betalen "
                "bedrag."
            )
        if amount <= 0:
            fresh = Invoice.objects.get(pk=target.pk)
            raise ValidationError(f"Er is niets te verrekenen: {fresh.paid_text()}.")
        original = Invoice.objects.get(pk=index.credited[credit])
        text = f"Verrekend: {original.number} (gecrediteerd) naar {target.number}"
        for pk, signed in [(credit, -amount), (target.pk, amount)]:
            payment = Payment.objects.create(
                source=Payment.Source.TRANSFER,
                amount=signed,
                booking_date=today,
                counterparty_name=original.customer_organisation,
                remittance=text,
                state=Payment.State.MATCHED,
                handled_by=by,
            )
            Allocation.objects.create(payment=payment, invoice_id=pk, amount=signed)
        settle(related)
        steps = [
            (pk, LOG.PAYMENT, f"{text}: {formats.money(amount)}", by) for pk in {credit, target.pk}
        ]
        OrderLogEntry.objects.bulk_create(entries_for_invoices(steps))
    return amount
