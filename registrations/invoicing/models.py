"""Invoicing: who issues, the numbering, and the issued invoices and credit notes.

Invoicing builds on sign-up (an invoice is for an order's participants, one line each) and
never the other way round.
The tables kept their names from when these models lived in `registrations`
(`registrations_invoice`, ...): existing databases, their data and the triggers that freeze
an issued invoice stay exactly as they were.
"""

import datetime
import hashlib
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import connection, models, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import capfirst
from stdnum import iban
from stdnum.nl import btw

from programme.models import amsterdam_date
from registrations.history.models import OrderLogEntry, record
from registrations.models import (
    AGREED_PRICE_FIELDS,
    INVOICE_DETAIL_FIELDS,
    Order,
    Registration,
    validate_kvk_number,
)
from werkplaats import formats

from ..countries import CountryField

# What an invoice copies from a registration on it and from that registration's order: once
# invoiced, these change only through the correction path (credit note, change, new invoice);
# database triggers hold every path to them.
INVOICE_FROZEN_FIELDS = ["edition", "order", "first_name", "last_name", *AGREED_PRICE_FIELDS]
ORDER_FROZEN_FIELDS = INVOICE_DETAIL_FIELDS


class InvoiceRefused(Exception):
    """Issuing, crediting or a document is not possible now; the message says why, in Dutch."""


def vat_breakdown(lines):
    """[(rate, amount excl. VAT, VAT)] per VAT rate, highest rate first.

    VAT is computed once per rate over the sum of that rate's lines and rounded half-up to
    cents (away from zero, so a credit note mirrors its invoice to the cent), as EN 16931
    requires: per rate, never per line.
    """
    return formats.vat_per_rate((line.vat_rate, line.amount_excl_vat) for line in lines)


def _validate_vat_id(value):
    if not btw.is_valid(value):
        raise ValidationError("Dit is geen geldig Nederlands btw-id (NL…B..).")


def _validate_iban(value):
    if not iban.is_valid(value):
        raise ValidationError("Dit is geen geldig IBAN.")


def _validate_number_prefix(value):
    # The number ends up in file names and URLs: letters, digits and - _ . only.
    if not re.fullmatch(r"[A-Za-z0-9_.\-]*\{year\}[A-Za-z0-9_.\-]*", value):
        raise ValidationError(
            "Gebruik {year} één keer, met verder alleen letters, cijfers, '-', '_' of '.', "
            "bijvoorbeeld '{year}-'."
        )


class InvoiceIssuer(models.Model):
    """Who issues the invoices: one row, kept up to date by finance in the admin.

    Every invoice copies these details when it is issued; changing them later never
    changes an issued invoice.
    """

    name = models.CharField("statutaire naam", max_length=200, default="Platform31")
    street = models.CharField("straat en huisnummer", max_length=200, blank=True)
    postcode = models.CharField("postcode", max_length=20, blank=True)
    city = models.CharField("plaats", max_length=100, blank=True)
    country = CountryField("land", default="NL")
    kvk_number = models.CharField(
        "KvK-nummer", max_length=20, blank=True, validators=[validate_kvk_number]
    )
    vat_id = models.CharField("btw-id", max_length=20, blank=True, validators=[_validate_vat_id])
    iban = models.CharField("IBAN", max_length=34, blank=True, validators=[_validate_iban])
    bic = models.CharField("BIC", max_length=11, blank=True)
    email = models.EmailField("e-mailadres voor vragen over facturen", blank=True)
    payment_term_days = models.PositiveSmallIntegerField(
        "betalingstermijn (dagen)", default=30, validators=[MinValueValidator(1)]
    )
    footer_text = models.TextField(
        "voettekst",
        blank=True,
        help_text="Onderaan elke factuur, bijvoorbeeld de algemene voorwaarden.",
    )
    number_prefix = models.CharField(
        "voorvoegsel factuurnummer",
        max_length=20,
        default="{year}-",
        validators=[_validate_number_prefix],
        help_text="{year} wordt het jaar van de factuurdatum: '{year}-' geeft 2022-0001.",
    )
    credit_notes_own_series = models.BooleanField(
        "creditfacturen in een eigen reeks",
        default=False,
        help_text="Uit: creditfacturen krijgen het volgende nummer uit de factuurreeks.",
    )
    credit_note_prefix = models.CharField(
        "voorvoegsel creditfactuur",
        max_length=20,
        default="{year}-C",
        validators=[_validate_number_prefix],
        help_text="Alleen bij een eigen reeks: '{year}-C' geeft 2022-C0001.",
    )
    is_example = models.BooleanField(
        "voorbeeldgegevens",
        default=False,
        help_text="Aan voor demogegevens: facturen krijgen dan 'VOORBEELD' als watermerk.",
    )
    updated_at = models.DateTimeField("gewijzigd", auto_now=True)

    REQUIRED = ["name", "street", "postcode", "city", "country", "kvk_number", "vat_id", "iban"]

    class Meta:
        db_table = "registrations_invoiceissuer"
        verbose_name = "factuurafzender"
        verbose_name_plural = "factuurafzender"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # One row only: every save writes row 1.
        self.pk = 1
        super().save(*args, **kwargs)

    def clean(self):
        if self.credit_notes_own_series and self.credit_note_prefix == self.number_prefix:
            raise ValidationError(
                {"credit_note_prefix": "Een eigen reeks vraagt een ander voorvoegsel."}
            )

    @classmethod
    def load(cls):
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    def missing_details(self):
        """The labels of the details an invoice must show but that are still empty."""
        return [
            str(self._meta.get_field(name).verbose_name)
            for name in self.REQUIRED
            if not str(getattr(self, name) or "").strip()
        ]

    def series(self, year, credit=False):
        prefix = self.credit_note_prefix if credit and self.credit_notes_own_series else None
        return (prefix or self.number_prefix).format(year=year)


class InvoiceCounter(models.Model):
    """The last number handed out in one series, e.g. '2022-'. Locked while issuing."""

    series = models.CharField("reeks", max_length=40, unique=True)
    last_number = models.PositiveIntegerField("laatste nummer", default=0)

    class Meta:
        db_table = "registrations_invoicecounter"
        verbose_name = "factuurteller"
        verbose_name_plural = "factuurtellers"

    def __str__(self):
        return f"{self.series}{self.last_number:04d}"


class InvoiceIsFinal(Exception):
    """An issued invoice cannot be changed or deleted; correct it with a credit note."""


class InvoiceQuerySet(models.QuerySet):
    def invoices(self):
        return self.filter(kind=Invoice.Kind.INVOICE)

    def credit_notes(self):
        return self.filter(kind=Invoice.Kind.CREDIT_NOTE)

    def credited(self):
        return self.invoices().filter(credit_note__isnull=False)

    def uncredited(self):
        return self.invoices().filter(credit_note__isnull=True)

    def to_credit(self):
        """Standing invoices with a line for a cancelled participant: finance's queue (credit,
        and reissue for whoever still comes)."""
        cancelled = InvoiceLine.objects.filter(
            invoice=models.OuterRef("pk"), registration__status=Registration.Status.CANCELLED
        )
        return self.uncredited().filter(models.Exists(cancelled))

    def with_edition(self):
        """Each invoice with `edition_id`: the edition of its participants (an invoice is for
        one edition), in the same query."""
        first_line = InvoiceLine.objects.filter(invoice=models.OuterRef("pk")).order_by("position")
        return self.annotate(
            edition_id=models.Subquery(first_line.values("registration__edition_id")[:1])
        )

    def with_edition_label(self):
        """Each invoice with the start date and title of its edition (`edition_start`,
        `edition_title`), in the same query, for the list finance works in."""
        first_line = InvoiceLine.objects.filter(invoice=models.OuterRef("pk")).order_by("position")
        return self.annotate(
            edition_start=models.Subquery(
                first_line.values("registration__edition__start_date")[:1]
            ),
            edition_title=models.Subquery(first_line.values("registration__edition__title")[:1]),
        )

    def of_organisation(self, organisation):
        """The invoices and credit notes for the orders linked to `organisation` (its pk) in
        the register: one of their participants' order is."""
        return self.filter(
            models.Exists(
                InvoiceLine.objects.filter(
                    invoice=models.OuterRef("pk"), registration__order__debtor=organisation
                )
            )
        )

    def with_organisation(self):
        """Each invoice with `organisation_id`: the organisation its first line's order is
        linked to (None: not linked yet), in the same query."""
        first_line = InvoiceLine.objects.filter(invoice=models.OuterRef("pk")).order_by("position")
        return self.annotate(
            organisation_id=models.Subquery(first_line.values("registration__order__debtor_id")[:1])
        )

    def totals(self):
        """Excl. btw, btw and incl. btw summed over these invoices in one query; a credit note
        counts negative, as it is stored."""
        zero = models.Value(Decimal("0.00"), output_field=models.DecimalField())
        return self.aggregate(
            excl_vat=Coalesce(models.Sum("total_excl_vat"), zero),
            vat=Coalesce(models.Sum("total_vat"), zero),
            incl_vat=Coalesce(models.Sum("total_incl_vat"), zero),
        )

    def for_registration(self, registration):
        """The invoices and credit notes with a line for `registration`."""
        return self.filter(
            models.Exists(
                InvoiceLine.objects.filter(invoice=models.OuterRef("pk"), registration=registration)
            )
        )

    def in_state(self, *states, today=None):
        """The invoices and credit notes in one of `states` (Invoice.Status), in SQL: the same
        rule as Invoice.status(), so a list filtered by a state shows what its rows say."""
        today = today or amsterdam_date(timezone.now())
        condition = models.Q(pk__in=[])
        for state in states:
            condition |= state_condition(state, today)
        return self.filter(condition)

    def refund_due(self):
        """Credited invoices and their credit notes whose money has not all gone back."""
        return self.in_state(Invoice.Status.REFUND_DUE)


def state_condition(state, today):
    """The Q of Invoice.status() for one state (see there for the rules)."""
    credited = models.Q(kind=Invoice.Kind.CREDIT_NOTE) | models.Q(
        kind=Invoice.Kind.INVOICE, credit_note__isnull=False
    )
    uncredited = models.Q(kind=Invoice.Kind.INVOICE, credit_note__isnull=True)
    held = models.Q(amount_paid__gt=models.F("amount_refunded"))
    owed = models.Q(total_incl_vat__gt=0, amount_paid__lt=models.F("total_incl_vat"))
    Status = Invoice.Status
    conditions = {
        Status.REFUND_DUE: credited & held,
        Status.REFUNDED: credited & ~held & models.Q(amount_refunded__gt=0),
        Status.CREDIT_NOTE: models.Q(kind=Invoice.Kind.CREDIT_NOTE)
        & ~held
        & models.Q(amount_refunded=0),
        Status.CREDITED: models.Q(kind=Invoice.Kind.INVOICE, credit_note__isnull=False)
        & ~held
        & models.Q(amount_refunded=0),
        Status.OVERPAID: uncredited & models.Q(amount_paid__gt=models.F("total_incl_vat")),
        Status.PAID: uncredited & models.Q(amount_paid__lte=models.F("total_incl_vat")) & ~owed,
        Status.PARTIALLY_PAID: uncredited & owed & models.Q(amount_paid__gt=0),
        Status.OVERDUE: uncredited & owed & models.Q(amount_paid__lte=0, due_date__lt=today),
        Status.OPEN: uncredited & owed & models.Q(amount_paid__lte=0, due_date__gte=today),
    }
    return conditions[state]


class Invoice(models.Model):
    """An issued invoice or credit note: a frozen snapshot of everything printed on it.

    Only MUTABLE_FIELDS may change after issue: its documents' checksums (each set once), the
    e-mail date, and what was paid and refunded; database triggers refuse everything else, and
    any DELETE. The money columns (amount_paid, amount_refunded, paid_on, refunded_on) are
    written by the payments app, through its settle() only, from the payments allocated to the
    invoice; status() derives the one state every screen shows from them.
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", "factuur"
        CREDIT_NOTE = "credit", "creditfactuur"

    class Status(models.TextChoices):
        OPEN = "open", "open"
        OVERDUE = "overdue", "te laat"
        PARTIALLY_PAID = "partial", "deels betaald"
        PAID = "paid", "betaald"
        OVERPAID = "overpaid", "te veel betaald"
        CREDITED = "credited", "gecrediteerd"
        CREDIT_NOTE = "credit_note", "creditfactuur"
        REFUND_DUE = "refund_due", "terug te betalen"
        REFUNDED = "refunded", "terugbetaald"

    # The columns that may change after issue: the one list, which the database triggers
    # (guards.py) and save() both use. The checksums are set once, in the issuing transaction
    # (the triggers refuse a second value); the money columns are payments' settle()'s.
    MUTABLE_FIELDS = (
        "pdf_sha256",
        "ubl_sha256",
        "paid_on",
        "emailed_at",
        "refunded_on",
        "amount_paid",
        "amount_refunded",
    )

    number = models.CharField("factuurnummer", max_length=40, unique=True)
    series = models.CharField("reeks", max_length=40, editable=False)
    sequence = models.PositiveIntegerField("volgnummer in reeks", editable=False)
    kind = models.CharField("soort", max_length=10, choices=Kind.choices, default=Kind.INVOICE)
    credited_invoice = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_note",
        verbose_name="crediteert factuur",
    )
    # The order whose participants it bills; empty for an invoice finance combined from
    # several orders (same organisation and reference): its lines name the registrations.
    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name="bestelling",
    )
    invoice_date = models.DateField("factuurdatum")
    due_date = models.DateField("vervaldatum")
    supply_start = models.DateField("levering van")
    supply_end = models.DateField("levering tot en met")
    issued_at = models.DateTimeField("aangemaakt op")
    issued_by = models.CharField("aangemaakt door", max_length=150, blank=True)

    issuer_name = models.CharField("afzender", max_length=200)
    issuer_street = models.CharField("straat afzender", max_length=200)
    issuer_postcode = models.CharField("postcode afzender", max_length=20)
    issuer_city = models.CharField("plaats afzender", max_length=100)
    issuer_country = models.CharField("land afzender", max_length=100)
    issuer_kvk_number = models.CharField("KvK-nummer afzender", max_length=20)
    issuer_vat_id = models.CharField("btw-id afzender", max_length=20)
    issuer_iban = models.CharField("IBAN", max_length=34)
    issuer_bic = models.CharField("BIC", max_length=11, blank=True)
    issuer_email = models.EmailField("e-mail afzender", blank=True)
    issuer_is_example = models.BooleanField("voorbeeldgegevens", default=False)
    footer_text = models.TextField("voettekst", blank=True)

    customer_organisation = models.CharField("klant", max_length=200)
    customer_attention = models.CharField("ter attentie van", max_length=200, blank=True)
    customer_street = models.CharField("straat en huisnummer", max_length=200)
    customer_postcode = models.CharField("postcode", max_length=20)
    customer_city = models.CharField("plaats", max_length=100)
    customer_country = models.CharField("landcode", max_length=2)
    customer_country_name = models.CharField("land", max_length=100)
    customer_email = models.EmailField("e-mailadres voor de factuur", max_length=254)
    customer_vat_id = models.CharField("btw-nummer klant", max_length=30, blank=True)
    customer_kvk_number = models.CharField("KvK-nummer klant", max_length=8, blank=True)
    customer_oin = models.CharField("OIN klant", max_length=20, blank=True)
    customer_peppol_id = models.CharField("Peppol-ID klant", max_length=60, blank=True)
    po_number = models.CharField("inkoopordernummer of kenmerk", max_length=100, blank=True)
    payment_reference = models.CharField("betalingskenmerk", max_length=40)

    total_excl_vat = models.DecimalField("totaal excl. btw", max_digits=12, decimal_places=2)
    total_vat = models.DecimalField("btw", max_digits=12, decimal_places=2)
    total_incl_vat = models.DecimalField("totaal incl. btw", max_digits=12, decimal_places=2)
    vat_exemption_text = models.CharField("btw-vrijstelling", max_length=200, blank=True)

    class Layout(models.IntegerChoices):
        TABLES = 1, "1: met tabellen (tot december 2026)"
        PARAGRAPHS = 2, "2: alinea's en tabstops"
        LIGHT = 3, "3: alinea's, lichter te maken (december 2026)"
        # Layout 3's pages, pixel for pixel, made faster (registrations/invoicing/pdf.py).
        PARSED = 4, "4: als 3, sneller te maken (vanaf december 2026)"

    # The layout the PDF was made with: restoring it renders the snapshot with that same
    # layout (registrations/invoicing/pdf.py), so an invoice always gets its own bytes back.
    layout = models.PositiveSmallIntegerField(
        "opmaak van de pdf", choices=Layout.choices, default=Layout.PARSED, editable=False
    )
    pdf_sha256 = models.CharField("SHA-256 van de pdf", max_length=64, blank=True)
    # Empty for invoices issued before e-invoices existed: they have a PDF only.
    ubl_sha256 = models.CharField("SHA-256 van de e-factuur", max_length=64, blank=True)
    paid_on = models.DateField("betaald op", null=True, blank=True)
    emailed_at = models.DateTimeField("gemaild op", null=True, blank=True)
    refunded_on = models.DateField(
        "terugbetaald op",
        null=True,
        blank=True,
        help_text="Alleen bij een creditfactuur van een betaalde factuur.",
    )
    # An invoice and its credit note carry the same two amounts (settle() writes both rows):
    # the money that came in for the invoice, and the money that went back (positive).
    amount_paid = models.DecimalField(
        "betaald", max_digits=12, decimal_places=2, default=Decimal("0.00"), editable=False
    )
    amount_refunded = models.DecimalField(
        "terugbetaald", max_digits=12, decimal_places=2, default=Decimal("0.00"), editable=False
    )

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        db_table = "registrations_invoice"
        verbose_name = "factuur"
        verbose_name_plural = "facturen"
        ordering = ["-invoice_date", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["series", "sequence"], name="one_number_per_series"),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="invoice", credited_invoice__isnull=True)
                    | models.Q(kind="credit", credited_invoice__isnull=False)
                ),
                name="credit_note_refers_to_invoice",
            ),
        ]
        permissions = [
            ("issue_invoice", "Mag facturen aanmaken"),
            ("credit_invoice", "Mag creditfacturen aanmaken"),
            ("mark_paid", "Mag facturen als betaald markeren"),
            ("send_invoice", "Mag facturen mailen"),
        ]

    def __str__(self):
        return f"{self.get_kind_display().capitalize()} {self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= set(self.MUTABLE_FIELDS):
                raise InvoiceIsFinal(
                    f"Factuur {self.number} is al uitgereikt en kan niet meer worden gewijzigd. "
                    "Maak een creditfactuur."
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise InvoiceIsFinal(f"Factuur {self.number} is uitgereikt en mag niet worden verwijderd.")

    def ordered_lines(self):
        """The invoice's lines in their order, read in one plain query.

        The invoice PDF reads them on every render, and building the ORM's query for them
        costs more than running it (0.35 against 0.1 ms, of a 14 ms render: issue 28).
        """
        table, invoice, position = map(
            connection.ops.quote_name, [InvoiceLine._meta.db_table, "invoice_id", "position"]
        )
        query = f"SELECT * FROM {table} WHERE {invoice} = %s ORDER BY {position}"
        return list(InvoiceLine.objects.raw(query, [self.pk]))

    @property
    def is_credit_note(self):
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def is_credited(self):
        return not self.is_credit_note and hasattr(self, "credit_note")

    def credit_text(self):
        """Why no money comes in on it, naming the credit (for a refusal), or None: "2026-C0001
        is een creditfactuur (van 2026-0001)", "2026-0001 is al gecrediteerd met 2026-C0001 op
        5 januari 2027"."""
        if self.is_credit_note:
            return f"{self.number} is een creditfactuur (van {self.credited_invoice.number})"
        if self.is_credited:
            credit = self.credit_note
            return (
                f"{self.number} is al gecrediteerd met {credit.number} op "
                f"{formats.day(credit.invoice_date)}"
            )
        return None

    def paid_text(self):
        """ "2026-0001 is al betaald op 5 januari 2027" (without the date when none is recorded)."""
        on = f" op {formats.day(self.paid_on)}" if self.paid_on else ""
        return f"{self.number} is al betaald{on}"

    @property
    def file_stem(self):
        """ "factuur-2026-0001", "creditfactuur-2026-0002": what its files are called."""
        return f"{'creditfactuur' if self.is_credit_note else 'factuur'}-{self.number}"

    @property
    def filename(self):
        return f"{self.file_stem}.pdf"

    @property
    def ubl_filename(self):
        return f"{self.file_stem}.xml"

    @property
    def is_settled_by_credit(self):
        """A credit note, or an invoice with one: its money can only go back."""
        return self.is_credit_note or self.is_credited

    @property
    def outstanding(self):
        """What the customer still owes (0 for a credited invoice or a credit note)."""
        if self.is_settled_by_credit:
            return Decimal("0.00")
        return max(self.total_incl_vat - self.amount_paid, Decimal("0.00"))

    def status(self, today=None):
        """The invoice's one state, from the amounts payments recorded, the credit note and
        the due date; InvoiceQuerySet.in_state() is the same rule in SQL.

        A credit note and the invoice it credits share one state: "terug te betalen" while we
        hold money for them (paid minus refunded above zero), then "terugbetaald" once money
        went back, otherwise "creditfactuur" / "gecrediteerd". An invoice standing on its own:
        "te veel betaald" above its total, "betaald" at its total (or with nothing to pay),
        "deels betaald" with part of it paid (also after the due date: part-paid invoices past
        their due date get reminders like "te laat" ones, see payments/reminders.py), and
        without any payment "te laat" after the due date, else "open".
        """
        if self.is_settled_by_credit:
            if self.amount_paid > self.amount_refunded:
                return self.Status.REFUND_DUE
            if self.amount_refunded > 0:
                return self.Status.REFUNDED
            return self.Status.CREDIT_NOTE if self.is_credit_note else self.Status.CREDITED
        total, paid = self.total_incl_vat, self.amount_paid
        if paid > total:
            return self.Status.OVERPAID
        if paid == total or total <= 0:
            return self.Status.PAID
        if paid > 0:
            return self.Status.PARTIALLY_PAID
        today = today or amsterdam_date(timezone.now())
        return self.Status.OVERDUE if self.due_date < today else self.Status.OPEN


def on_standing_invoice():
    """For a registration queryset: whether the registration has a line on an invoice that was
    not credited. The one home of "already invoiced", for filter() and annotate() alike."""
    standing = InvoiceLine.objects.filter(
        registration__isnull=False,
        invoice__kind=Invoice.Kind.INVOICE,
        invoice__credit_note__isnull=True,
    ).values("registration_id")
    # `pk IN (one uncorrelated subquery)`: PostgreSQL hashes it once. A correlated EXISTS was
    # planned as nested loops per registration on tables with thin statistics (a fresh
    # database): minutes for a thousand rows.
    return models.ExpressionWrapper(models.Q(pk__in=standing), output_field=models.BooleanField())


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="lines", verbose_name="factuur"
    )
    position = models.PositiveSmallIntegerField("regel", default=1)
    # The participant the line is for.
    registration = models.ForeignKey(
        Registration,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_lines",
        verbose_name="deelnemer",
    )
    description = models.TextField("omschrijving")
    quantity = models.DecimalField("aantal", max_digits=9, decimal_places=2)
    unit_price = models.DecimalField("prijs per stuk excl. btw", max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField("btw-tarief (%)", max_digits=5, decimal_places=2)
    amount_excl_vat = models.DecimalField("bedrag excl. btw", max_digits=12, decimal_places=2)

    class Meta:
        db_table = "registrations_invoiceline"
        verbose_name = "factuurregel"
        verbose_name_plural = "factuurregels"
        # By the invoice's id, not "invoice": that orders by the invoice's own ordering, which
        # joins the invoices to every query for one invoice's lines and sorts them by date.
        ordering = ["invoice_id", "position"]

    def __str__(self):
        return self.description.splitlines()[0] if self.description else ""

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise InvoiceIsFinal("Een factuurregel kan na uitreiken niet meer worden gewijzigd.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise InvoiceIsFinal("Een factuurregel kan na uitreiken niet worden verwijderd.")


class InvoiceDocument(models.Model):
    """A document of an issued invoice, stored in the issuing transaction (see documents.py).

    Its checksum lives on the invoice, frozen at issue; this row only holds the bytes, so a
    missing or damaged document can be put back (and is checked on every read).
    """

    class Kind(models.TextChoices):
        PDF = "pdf", "pdf"
        UBL = "ubl", "e-factuur"

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="documents", verbose_name="factuur"
    )
    kind = models.CharField("soort", max_length=10, choices=Kind.choices)
    content = models.BinaryField("inhoud")
    stored_at = models.DateTimeField("opgeslagen op", default=timezone.now)

    class Meta:
        verbose_name = "factuurdocument"
        verbose_name_plural = "factuurdocumenten"
        constraints = [
            models.UniqueConstraint(fields=["invoice", "kind"], name="one_document_per_kind"),
        ]

    def __str__(self):
        return f"{self.invoice.number} ({self.kind})"


# A job without progress for this long lost its worker (a deploy, a crash).
STALLED_AFTER = datetime.timedelta(minutes=10)
# A job's ZIP can be tens of megabytes of database: its bytes are kept this long after the
# job finished; the job and its outcomes stay as the record of what was done.
RESULT_KEPT = datetime.timedelta(days=7)


class BulkJobQuerySet(models.QuerySet):
    def unfinished(self):
        return self.filter(finished_at__isnull=True)

    def drop_old_results(self, now=None):
        cutoff = (now or timezone.now()) - RESULT_KEPT
        return self.filter(finished_at__lt=cutoff, result__isnull=False).update(result=None)

    def visible_to(self, user):
        """The jobs whose action `user` may do: only they see its progress and result (on the
        job pages, which need invoicing.view_bulkjob besides)."""
        return self.filter(kind__in=BulkJob.kinds_for(user))


class BulkJob(models.Model):
    """An admin action on many invoices or registrations, run by the task worker.

    Issuing, crediting, mailing, checking or zipping hundreds of invoices outlasts a request;
    the action then stores what was asked here and queues `jobs.run_job`, and the admin shows
    the progress and each item's outcome. One job per action and selection runs at a time (a
    partial unique constraint), and each item's outcome is stored in the same transaction as
    its work (BulkJobItem), so a job that runs again skips what it already did.
    """

    class Kind(models.TextChoices):
        ISSUE = "issue", "facturen aanmaken"
        CREDIT = "credit", "creditfacturen maken"
        EMAIL = "email", "facturen mailen"
        RESTORE = "restore", "pdf's controleren en herstellen"
        ZIP = "zip", "ZIP van pdf's en e-facturen"
        SEND = "send", "bestellingen factureren en versturen"
        RESEND = "resend", "facturen van bestellingen opnieuw versturen"

    # Who may start and see a job: whoever may do its admin action.
    PERMISSIONS = {
        Kind.ISSUE: "invoicing.issue_invoice",
        Kind.CREDIT: "invoicing.credit_invoice",
        Kind.EMAIL: "invoicing.send_invoice",
        Kind.RESTORE: "invoicing.issue_invoice",
        Kind.ZIP: "invoicing.view_invoice",
        Kind.SEND: "invoicing.issue_invoice",
        Kind.RESEND: "invoicing.send_invoice",
    }

    ORDER_KINDS = (Kind.SEND, Kind.RESEND)

    kind = models.CharField("soort", max_length=10, choices=Kind.choices)
    selection = models.JSONField("selectie", help_text="De primaire sleutels, oplopend.")
    selection_key = models.CharField(max_length=64, editable=False)
    total = models.PositiveIntegerField("aantal")
    done = models.PositiveIntegerField("verwerkt", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="aangevraagd door",
    )
    created_at = models.DateTimeField("aangevraagd op", default=timezone.now)
    started_at = models.DateTimeField("begonnen op", null=True, blank=True)
    updated_at = models.DateTimeField("laatst bijgewerkt", default=timezone.now)
    finished_at = models.DateTimeField("klaar op", null=True, blank=True)
    result = models.BinaryField("resultaat", null=True, blank=True)
    result_name = models.CharField("bestandsnaam", max_length=100, blank=True)

    objects = BulkJobQuerySet.as_manager()

    class Meta:
        verbose_name = "achtergrondtaak"
        verbose_name_plural = "achtergrondtaken"
        ordering = ["-created_at"]
        constraints = [
            # Starting the same action on the same selection again, while it is queued or
            # running, finds this job instead of making a second one.
            models.UniqueConstraint(
                fields=["kind", "selection_key"],
                condition=models.Q(finished_at__isnull=True),
                name="one_unfinished_job_per_selection",
            ),
        ]

    def __str__(self):
        return f"{capfirst(self.get_kind_display())} ({self.total} {self.rows_label})"

    @property
    def rows_label(self):
        if self.kind in self.ORDER_KINDS:
            return "bestellingen"
        return "inschrijvingen" if self.kind == self.Kind.ISSUE else "facturen"

    @classmethod
    def kinds_for(cls, user):
        return [kind for kind, permission in cls.PERMISSIONS.items() if user.has_perm(permission)]

    @staticmethod
    def key_of(kind, pks):
        return hashlib.sha256(f"{kind}:{','.join(map(str, pks))}".encode()).hexdigest()

    @property
    def status(self):
        if self.finished_at:
            return "klaar"
        if self.started_at:
            return "bezig"
        return "in de wachtrij"

    def is_stalled(self, now=None):
        """Unfinished without progress for STALLED_AFTER: its worker stopped (a deploy, a
        crash), so starting it again resumes it."""
        return not self.finished_at and (now or timezone.now()) - self.updated_at > STALLED_AFTER


class BulkJobItem(models.Model):
    """What became of one selected row: done (with what was done) or skipped (with why)."""

    job = models.ForeignKey(
        BulkJob, on_delete=models.CASCADE, related_name="items", verbose_name="taak"
    )
    object_id = models.PositiveBigIntegerField("sleutel")
    succeeded = models.BooleanField("gelukt")
    message = models.TextField("uitkomst")
    done_at = models.DateTimeField("op", default=timezone.now)

    class Meta:
        verbose_name = "uitkomst"
        verbose_name_plural = "uitkomsten"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "object_id"], name="one_outcome_per_item"),
        ]

    def __str__(self):
        return self.message


class OrderInvoicing(models.Model):
    """What the invoicing job (sending.py) last found for an order: held, and why, when
    issuing refused (finance fixes the order's data, then it goes again); and the date after
    which the order pays ("betaalt na afloop", pretix#800), which holds its invoices'
    reminders until then (payments' reminders read it through the invoice's order)."""

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="invoicing", verbose_name="bestelling"
    )
    held_reason = models.TextField("niet gefactureerd, want", blank=True)
    held_at = models.DateTimeField("tegengehouden op", null=True, blank=True)
    pays_after = models.DateField(
        "betaalt na",
        null=True,
        blank=True,
        help_text="Betaalt na afloop: tot en met deze dag geen betalingsherinneringen.",
    )

    class Meta:
        verbose_name = "facturatie van een bestelling"
        verbose_name_plural = "facturatie van bestellingen"

    def __str__(self):
        return f"{self.order.reference}: {self.held_reason or 'in orde'}"

    @classmethod
    def set_pays_after(cls, order, day, by=None):
        """The order pays after `day` (None: within the payment term again); a step of its
        history, as finance's hold of one invoice is."""
        with transaction.atomic():
            cls.objects.update_or_create(order=order, defaults={"pays_after": day})
            if day is None:
                record(
                    order, OrderLogEntry.Kind.HOLD_LIFTED, "betaalt weer binnen de termijn", by=by
                )
            else:
                record(
                    order,
                    OrderLogEntry.Kind.HOLD_SET,
                    f"betaalt na {formats.day(day)}: tot dan geen herinneringen",
                    by=by,
                )
