"""Payments: bank statements read in, the payments on them, and which invoice each one pays.

An invoice's payment state (open, partially paid, paid, overpaid, overdue, credited, refund
due, refunded) follows from the allocations here and its credit note; `settle()` writes the
result into the invoice's mutable columns paid_on and refunded_on (the only ones the invoice
guards let change), so invoicing's own filters keep working from one source of truth.
"""

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import DecimalField, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from programme.models import amsterdam_date
from registrations.invoicing.models import Invoice

ZERO = Decimal("0.00")


class BankStatement(models.Model):
    """One uploaded statement file. Its SHA-256 is unique: the same file twice adds nothing."""

    class Format(models.TextChoices):
        CAMT053 = "camt053", "CAMT.053"

    sha256 = models.CharField("SHA-256 van het bestand", max_length=64, unique=True)
    filename = models.CharField("bestandsnaam", max_length=255)
    format = models.CharField("formaat", max_length=10, choices=Format.choices)
    account_iban = models.CharField("rekening", max_length=34, blank=True)
    statement_ids = models.CharField("afschriftnummer(s)", max_length=500, blank=True)
    uploaded_at = models.DateTimeField("ingelezen op", default=timezone.now)
    uploaded_by = models.CharField("ingelezen door", max_length=150, blank=True)
    entries = models.PositiveIntegerField("nieuwe regels", default=0)
    known_entries = models.PositiveIntegerField(
        "al bekende regels", default=0, help_text="Stonden al op een eerder ingelezen afschrift."
    )
    matched = models.PositiveIntegerField("gekoppeld", default=0)

    class Meta:
        verbose_name = "bankafschrift"
        verbose_name_plural = "bankafschriften"
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.filename} ({self.statement_ids or self.sha256[:8]})"


class PaymentQuerySet(models.QuerySet):
    def unmatched(self):
        return self.filter(state=Payment.State.UNMATCHED)


class Payment(models.Model):
    """Money that came in (positive) or went out (negative, a refund) on our account."""

    class State(models.TextChoices):
        MATCHED = "matched", "gekoppeld"
        UNMATCHED = "unmatched", "niet gekoppeld"
        NOT_OURS = "not_ours", "niet van ons"

    class Source(models.TextChoices):
        BANK = "bank", "bankafschrift"
        MANUAL = "manual", "handmatig geregistreerd"
        # Money of a credited invoice moved to its replacement: a pair that nets to zero.
        TRANSFER = "transfer", "verrekend"

    statement = models.ForeignKey(
        BankStatement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name="bankafschrift",
    )
    source = models.CharField("bron", max_length=10, choices=Source.choices, default=Source.BANK)
    amount = models.DecimalField(
        "bedrag", max_digits=12, decimal_places=2, help_text="Negatief: geld dat wij betaalden."
    )
    booking_date = models.DateField("boekdatum")
    account_iban = models.CharField("onze rekening", max_length=34, blank=True)
    counterparty_name = models.CharField("naam tegenpartij", max_length=200, blank=True)
    counterparty_iban = models.CharField("IBAN tegenpartij", max_length=34, blank=True)
    bank_reference = models.CharField("referentie van de bank", max_length=100, blank=True)
    remittance = models.TextField("omschrijving", blank=True)
    state = models.CharField(
        "status", max_length=10, choices=State.choices, default=State.UNMATCHED
    )
    note = models.CharField("toelichting", max_length=300, blank=True)
    created_at = models.DateTimeField("geregistreerd op", default=timezone.now)
    handled_by = models.CharField("afgehandeld door", max_length=150, blank=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = "betaling"
        verbose_name_plural = "betalingen"
        ordering = ["-booking_date", "-pk"]
        constraints = [
            # An entry that two overlapping statements both hold is stored once.
            models.UniqueConstraint(
                fields=["bank_reference", "account_iban", "booking_date", "amount"],
                condition=~Q(bank_reference=""),
                name="one_payment_per_bank_entry",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="payment_is_not_zero"),
        ]
        indexes = [models.Index(fields=["state", "booking_date"])]

    def __str__(self):
        direction = "ontvangen" if self.amount > 0 else "betaald"
        return f"€ {abs(self.amount)} {direction} op {self.booking_date:%d-%m-%Y}"

    @property
    def is_refund(self):
        return self.amount < 0


class Allocation(models.Model):
    """The part of a payment that pays one invoice (or, negative, refunds one credit note).

    A matched payment's allocations add up to its amount; only the functions in matching.py
    make them, under a lock on the invoices."""

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="allocations", verbose_name="betaling"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="allocations", verbose_name="factuur"
    )
    amount = models.DecimalField("bedrag", max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = "toewijzing"
        verbose_name_plural = "toewijzingen"
        constraints = [
            models.UniqueConstraint(fields=["payment", "invoice"], name="one_allocation_each"),
        ]

    def __str__(self):
        return f"{self.payment} → {self.invoice.number}"


class InvoiceState(models.TextChoices):
    OPEN = "open", "open"
    PARTIALLY_PAID = "partial", "deels betaald"
    PAID = "paid", "betaald"
    OVERPAID = "overpaid", "te veel betaald"
    OVERDUE = "overdue", "te laat"
    CREDITED = "credited", "gecrediteerd"
    CREDIT_NOTE = "credit_note", "creditfactuur"
    REFUND_DUE = "refund_due", "terug te betalen"
    REFUNDED = "refunded", "terugbetaald"


def paid_amounts(invoice_ids):
    """{invoice id: sum of its allocations} for these invoices (absent: nothing paid)."""
    rows = (
        Allocation.objects.filter(invoice_id__in=invoice_ids)
        .values("invoice_id")
        .annotate(total=Sum("amount"), last=Max("payment__booking_date"))
    )
    return {row["invoice_id"]: (row["total"], row["last"]) for row in rows}


class Balance:
    """What is paid on an invoice and its credit note, and the state that follows.

    `paid`: allocations to the invoice (money in). `refunded`: allocations to its credit note
    (negative: money that went back). The one place the payment state is decided."""

    def __init__(self, invoice, paid=ZERO, refunded=ZERO):
        self.invoice = invoice
        self.paid = paid
        self.refunded = refunded

    @property
    def outstanding(self):
        """What the customer still owes (0 for a credited invoice or a credit note)."""
        invoice = self.invoice
        if invoice.kind != Invoice.Kind.INVOICE or invoice.is_credited:
            return ZERO
        return max(invoice.total_incl_vat - self.paid, ZERO)

    @property
    def refund_due(self):
        """Money we hold for a credited invoice: paid minus what went back."""
        return max(self.paid + self.refunded, ZERO)

    def state(self, today=None):
        invoice = self.invoice
        credited = invoice.kind == Invoice.Kind.CREDIT_NOTE or invoice.is_credited
        if credited:
            if self.paid + self.refunded > 0:
                return InvoiceState.REFUND_DUE
            if self.refunded < 0:
                return InvoiceState.REFUNDED
            if invoice.kind == Invoice.Kind.CREDIT_NOTE:
                return InvoiceState.CREDIT_NOTE
            return InvoiceState.CREDITED
        total = invoice.total_incl_vat
        if self.paid > total:
            return InvoiceState.OVERPAID
        if self.paid == total and total > 0 or total <= 0:
            return InvoiceState.PAID
        if self.paid > 0:
            return InvoiceState.PARTIALLY_PAID
        today = today or amsterdam_date(timezone.now())
        return InvoiceState.OVERDUE if invoice.due_date < today else InvoiceState.OPEN


def balances(invoices):
    """{invoice id: Balance} for these invoices, in two queries whatever their number.

    Each invoice needs credit_note / credited_invoice loaded (select_related) for credited
    ones; a credit note's balance is its original's."""
    invoices = list(invoices)
    originals = {}
    for invoice in invoices:
        if invoice.kind == Invoice.Kind.CREDIT_NOTE:
            originals[invoice.pk] = invoice.credited_invoice_id
        else:
            originals[invoice.pk] = invoice.pk
    credit_of = dict(
        Invoice.objects.filter(credited_invoice_id__in=set(originals.values())).values_list(
            "credited_invoice_id", "pk"
        )
    )
    ids = set(originals.values()) | set(credit_of.values())
    sums = {pk: total for pk, (total, _last) in paid_amounts(ids).items()}
    result = {}
    for invoice in invoices:
        original = originals[invoice.pk]
        credit = credit_of.get(original)
        result[invoice.pk] = Balance(
            invoice, sums.get(original, ZERO), sums.get(credit, ZERO) if credit else ZERO
        )
    return result


def balance(invoice):
    if hasattr(invoice, "paid_own"):
        return annotated_balance(invoice)
    return balances([invoice])[invoice.pk]


def _paid(**filters):
    total = (
        Allocation.objects.filter(**filters)
        .values("invoice__kind")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return Coalesce(Subquery(total, output_field=money), Value(ZERO), output_field=money)


def with_payments(invoices):
    """The invoices with what is paid on them and on their credit note or original, for lists
    (one query, whatever the number of rows); `balance()` reads these."""
    return invoices.annotate(
        paid_own=_paid(invoice=OuterRef("pk")),
        paid_credit_note=_paid(invoice__credited_invoice=OuterRef("pk")),
        paid_original=_paid(invoice=OuterRef("credited_invoice")),
    )


def annotated_balance(invoice):
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        return Balance(invoice, invoice.paid_original, invoice.paid_own)
    return Balance(invoice, invoice.paid_own, invoice.paid_credit_note)


def settle(invoice_ids):
    """Write paid_on (the day the invoice was paid in full) and refunded_on (the day a credit
    note's money went back in full) for these invoices and their credit notes/originals, from
    the allocations. Call inside the transaction that changed the allocations. Returns the
    number of invoices whose date changed."""
    invoice_ids = set(invoice_ids)
    rows = Invoice.objects.filter(
        Q(pk__in=invoice_ids)
        | Q(credited_invoice_id__in=invoice_ids)
        | Q(credit_note__pk__in=invoice_ids)
    ).values_list("pk", "kind", "credited_invoice_id", "total_incl_vat", "paid_on", "refunded_on")
    rows = list(rows)
    sums = paid_amounts([row[0] for row in rows])
    updates = defaultdict(list)
    for pk, kind, credited_id, total, paid_on, refunded_on in rows:
        paid, last = sums.get(pk, (ZERO, None))
        if kind == Invoice.Kind.INVOICE:
            new = last if total > 0 and paid >= total else None
            if paid_on != new:
                updates["paid_on", new].append(pk)
        else:
            original_paid, _ = sums.get(credited_id, (ZERO, None))
            new = last if paid < 0 and original_paid + paid <= 0 else None
            if refunded_on != new:
                updates["refunded_on", new].append(pk)
    # One UPDATE per distinct date (a statement has a few): paid_on and refunded_on are the
    # invoice's mutable columns, which its guards let change.
    for (column, value), pks in updates.items():
        for start in range(0, len(pks), 500):
            Invoice.objects.filter(pk__in=pks[start : start + 500]).update(**{column: value})
    return sum(len(pks) for pks in updates.values())


class InvoiceHold(models.Model):
    """Finance holds the reminders of an invoice, e.g. a public body that pays after the
    event. The invoice itself is frozen; the hold lives beside it."""

    invoice = models.OneToOneField(
        Invoice, on_delete=models.PROTECT, related_name="hold", verbose_name="factuur"
    )
    reason = models.CharField("reden", max_length=300)
    since = models.DateTimeField("sinds", default=timezone.now)
    by = models.CharField("door", max_length=150, blank=True)

    class Meta:
        verbose_name = "aangehouden factuur"
        verbose_name_plural = "aangehouden facturen"

    def __str__(self):
        return f"{self.invoice.number}: {self.reason}"


class ReminderSettings(models.Model):
    """When the reminders go out and what they say: one row, kept by finance."""

    first_after_days = models.PositiveSmallIntegerField(
        "eerste herinnering, dagen na de vervaldatum", default=7, validators=[MinValueValidator(1)]
    )
    second_after_days = models.PositiveSmallIntegerField(
        "tweede herinnering, dagen na de vervaldatum",
        default=21,
        validators=[MinValueValidator(1)],
    )
    first_text = models.TextField(
        "tekst eerste herinnering",
        default=(
            "Volgens onze administratie hebben we de betaling van deze factuur nog niet "
            "ontvangen. Wil je het openstaande bedrag overmaken onder vermelding van het "
            "factuurnummer? Heb je al betaald, dan kun je deze herinnering negeren."
        ),
    )
    second_text = models.TextField(
        "tekst tweede herinnering",
        default=(
            "We hebben je eerder herinnerd aan deze factuur, maar de betaling is nog niet "
            "binnen. Wil je het openstaande bedrag binnen 14 dagen overmaken onder vermelding "
            "van het factuurnummer? Neem contact met ons op als er iets niet klopt."
        ),
    )

    class Meta:
        verbose_name = "herinneringsinstellingen"
        verbose_name_plural = "herinneringsinstellingen"

    def __str__(self):
        return "Herinneringen"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    def clean(self):
        if self.second_after_days <= self.first_after_days:
            raise ValidationError({"second_after_days": "De tweede herinnering komt na de eerste."})

    @classmethod
    def load(cls):
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    def days_after_due(self, level):
        return self.first_after_days if level == Reminder.Level.FIRST else self.second_after_days

    def text(self, level):
        return self.first_text if level == Reminder.Level.FIRST else self.second_text


class Reminder(models.Model):
    """A payment reminder sent for an invoice; at most one per level, by a constraint."""

    class Level(models.IntegerChoices):
        FIRST = 1, "eerste herinnering"
        SECOND = 2, "tweede herinnering"

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="reminders", verbose_name="factuur"
    )
    level = models.PositiveSmallIntegerField("herinnering", choices=Level.choices)
    sent_at = models.DateTimeField("verstuurd op", default=timezone.now)
    sent_to = models.EmailField("naar", max_length=254)
    outstanding = models.DecimalField("openstaand bedrag", max_digits=12, decimal_places=2)
    by = models.CharField("door", max_length=150, blank=True)

    class Meta:
        verbose_name = "herinnering"
        verbose_name_plural = "herinneringen"
        ordering = ["invoice", "level"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "level"], name="one_reminder_per_level"),
        ]

    def __str__(self):
        return f"{self.get_level_display()} {self.invoice.number}"


class LedgerAccount(models.Model):
    """Per VAT rate: the revenue account and the VAT code the accountant's import expects."""

    vat_rate = models.DecimalField("btw-tarief (%)", max_digits=5, decimal_places=2, unique=True)
    revenue_account = models.CharField("omzetrekening", max_length=20)
    vat_code = models.CharField("btw-code", max_length=20)

    class Meta:
        verbose_name = "grootboekrekening per btw-tarief"
        verbose_name_plural = "grootboekrekeningen per btw-tarief"
        ordering = ["-vat_rate"]

    def __str__(self):
        return f"{self.vat_rate.normalize():f}%: {self.revenue_account} / {self.vat_code}"


class CostCentre(models.Model):
    """The cost centre an edition's invoices are booked on; without one, the edition's slug."""

    edition = models.OneToOneField(
        "programme.Edition",
        on_delete=models.CASCADE,
        related_name="cost_centre",
        verbose_name="editie",
    )
    code = models.CharField("kostenplaats", max_length=30)

    class Meta:
        verbose_name = "kostenplaats"
        verbose_name_plural = "kostenplaatsen"

    def __str__(self):
        return f"{self.code} ({self.edition})"


class Debtor(models.Model):
    """An organisation's debtor number in the bookkeeping: given at its first export, by KvK
    number when the invoice has one, else by name; finance may change it."""

    key = models.CharField("herkenning", max_length=220, unique=True, editable=False)
    organisation = models.CharField("organisatie", max_length=200)
    number = models.PositiveIntegerField("debiteurnummer", unique=True)

    FIRST_NUMBER = 10001

    class Meta:
        verbose_name = "debiteur"
        verbose_name_plural = "debiteuren"
        ordering = ["number"]

    def __str__(self):
        return f"{self.number} {self.organisation}"

    @staticmethod
    def key_of(invoice):
        if invoice.customer_kvk_number:
            return f"kvk:{invoice.customer_kvk_number}"
        return "naam:" + " ".join(invoice.customer_organisation.casefold().split())
