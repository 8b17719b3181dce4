"""Payments: bank statements read in, the payments on them, and which invoice each one pays.

What the allocations here add up to is written onto the invoices by `settle()`, the one
function that does: the amounts paid and refunded and the days paid / refunded in full, in
mutable columns of the invoice (the only ones its guards let change). The invoice's state
(open, partially paid, paid, ...) is invoicing's, derived from those amounts
(`Invoice.status()`, `Invoice.objects.in_state()`); payments keeps no notion of its own.
"""

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Max, Q, Sum
from django.utils import timezone

from registrations.invoicing.models import Invoice
from werkplaats import formats

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
        return f"{formats.money(abs(self.amount))} {direction} op {formats.numeric_date(self.booking_date)}"

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


def paid_amounts(invoice_ids):
    """{invoice id: (sum of its allocations, last booking date)} for these invoices (absent:
    nothing paid)."""
    rows = (
        Allocation.objects.filter(invoice_id__in=invoice_ids)
        .values("invoice_id")
        .annotate(total=Sum("amount"), last=Max("payment__booking_date"))
    )
    return {row["invoice_id"]: (row["total"], row["last"]) for row in rows}


def settle(invoice_ids):
    """Write what the allocations say onto these invoices, their credit notes and originals:
    the one way payments tell invoicing what was paid (Invoice.status() derives the state).

    Both rows of an invoice and its credit note get amount_paid (allocations to the invoice)
    and amount_refunded (money that went back: minus the allocations to the credit note). The
    invoice gets paid_on, the day it was paid in full; the credit note refunded_on, the day its
    money went back in full. Call inside the transaction that changed the allocations. Returns
    the number of rows that changed."""
    invoice_ids = set(invoice_ids)
    rows = list(
        Invoice.objects.filter(
            Q(pk__in=invoice_ids)
            | Q(credited_invoice_id__in=invoice_ids)
            | Q(credit_note__pk__in=invoice_ids)
        ).values_list(
            "pk",
            "kind",
            "credited_invoice_id",
            "total_incl_vat",
            "paid_on",
            "refunded_on",
            "amount_paid",
            "amount_refunded",
        )
    )
    # An invoice named here whose credit note was not (or the other way round) is settled
    # with it: the pair shares its amounts.
    credit_of = {row[2]: row[0] for row in rows if row[1] == Invoice.Kind.CREDIT_NOTE}
    sums = paid_amounts({row[0] for row in rows} | set(credit_of))
    updates = defaultdict(list)
    for pk, kind, credited_id, total, paid_on, refunded_on, *amounts in rows:
        original = pk if kind == Invoice.Kind.INVOICE else credited_id
        paid, paid_last = sums.get(original, (ZERO, None))
        back, back_last = sums.get(credit_of.get(original), (ZERO, None))
        new = {"amount_paid": paid, "amount_refunded": -back}
        if kind == Invoice.Kind.INVOICE:
            new["paid_on"] = paid_last if total > 0 and paid >= total else None
            old = {"paid_on": paid_on}
        else:
            new["refunded_on"] = back_last if back < 0 and paid + back <= 0 else None
            old = {"refunded_on": refunded_on}
        old.update(zip(["amount_paid", "amount_refunded"], amounts, strict=True))
        if new != old:
            updates[tuple(sorted(new.items()))].append(pk)
    # One UPDATE per distinct outcome (a statement has a few days and amounts): these are
    # mutable columns of the invoice (Invoice.MUTABLE_FIELDS), which its guards let change.
    for values, pks in updates.items():
        for start in range(0, len(pks), 500):
            Invoice.objects.filter(pk__in=pks[start : start + 500]).update(**dict(values))
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
