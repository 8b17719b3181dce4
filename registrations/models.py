import re
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from programme.models import Edition, amsterdam_date


def new_token():
    # 32 random bytes: the confirmation page's only key, so it must not be guessable.
    return secrets.token_urlsafe(32)


class RegistrationClosed(Exception):
    """The edition does not take sign-ups at this moment."""


class AlreadyRegistered(Exception):
    """An active registration with this e-mail address exists for the edition."""


class RegistrationQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(status=Registration.Status.CONFIRMED)

    def waiting(self):
        return self.filter(status=Registration.Status.WAITING)

    def active(self):
        return self.exclude(status=Registration.Status.CANCELLED)

    def register(self, edition, at=None, **fields):
        """Sign a participant up for `edition`, or put them on its waiting list when full.

        The edition row is locked for the transaction, so parallel sign-ups count the
        confirmed places one after another and never overbook. The deadline is checked
        again inside the lock: what the browser showed does not matter.

        The confirmation and staff e-mail are queued with the transaction (tasks.atomic_with):
        with the database queue they exist exactly when the registration does, and the
        sign-up never waits for the mail server (see TASKS in settings).
        """
        from .tasks import atomic_with, send_registration_emails  # tasks.py imports this module

        at = at or timezone.now()
        try:
            with atomic_with(send_registration_emails) as queue_mail:
                # Only what the rule below reads: the lock is about the row, not its texts.
                locked = (
                    Edition.objects.select_for_update()
                    .only("is_published", "registration_deadline", "start_date", "capacity")
                    .get(pk=edition.pk)
                )
                if not locked.registration_is_open(at):
                    raise RegistrationClosed
                status = Registration.Status.CONFIRMED
                if locked.capacity is not None:
                    taken = self.filter(edition=locked).confirmed().count()
                    if taken >= locked.capacity:
                        status = Registration.Status.WAITING
                registration = self.create(edition=locked, status=status, **fields)
                queue_mail(registration.pk)
        except IntegrityError:
            # One active registration per e-mail address: the database constraint is the check,
            # so it also holds for a duplicate that arrives at the same moment.
            raise AlreadyRegistered from None
        return registration

    def submitted_with(self, edition, email, submission_key):
        """The active registration that this same form page already stored, if any.

        A double-clicked submit sends the form twice with the same key; the second should
        land on the first's confirmation, not on "already registered". Without a key (or
        from another form page) nothing matches, so a stranger who knows an e-mail address
        never reaches that person's confirmation page.
        """
        if not submission_key:
            return None
        return (
            self.active()
            .filter(edition=edition, email__iexact=email, submission_key=submission_key)
            .first()
        )


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "bevestigd"
        WAITING = "waiting", "wachtlijst"
        CANCELLED = "cancelled", "geannuleerd"

    class Sector(models.TextChoices):
        GEMEENTE = "gemeente", "Gemeente"
        WELZIJN = "welzijn", "Welzijnsinstelling"
        ONDERWIJS = "onderwijs", "Onderwijs"
        ZORG = "zorg", "Zorgverlening"
        SOCIAAL = "sociaal", "Sociaal en gemeenschapswerk"
        IMPACT = "impact", "Impactondernemer"
        INITIATIEF = "initiatief", "Maatschappelijk initiatief"
        CORPORATIE = "corporatie", "Woningcorporatie"
        POLITIE = "politie", "Politie"
        ANDERS = "anders", "Anders"

    class Role(models.TextChoices):
        LEIDER = "leider", "Programma- of projectleider"
        MANAGER = "manager", "Manager"
        ONDERZOEKER = "onderzoeker", "Onderzoeker"
        PROFESSIONAL = "professional", "Uitvoerend professional"
        ADVISEUR = "adviseur", "Adviseur"
        ANDERS = "anders", "Anders"

    edition = models.ForeignKey(
        Edition, on_delete=models.PROTECT, related_name="registrations", verbose_name="editie"
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    status = models.CharField(
        "status", max_length=20, choices=Status.choices, default=Status.CONFIRMED
    )

    first_name = models.CharField("voornaam", max_length=100)
    last_name = models.CharField("achternaam", max_length=100)
    email = models.EmailField("e-mailadres", max_length=254)
    phone = models.CharField("telefoonnummer", max_length=30)
    organisation = models.CharField("organisatie", max_length=200)
    job_title = models.CharField("functie", max_length=200)
    sector = models.CharField("sector", max_length=20, choices=Sector.choices)
    role = models.CharField("rol", max_length=20, choices=Role.choices)
    own_case = models.TextField("eigen casus of vraag", max_length=2000, blank=True)
    dietary_needs = models.CharField("dieetwensen", max_length=500, blank=True)
    accessibility_needs = models.CharField(
        "toegankelijkheid of andere wensen", max_length=500, blank=True
    )
    overnight_stay = models.BooleanField("overnachten op de locatie", default=True)

    invoice_organisation = models.CharField("organisatie (factuur)", max_length=200)
    invoice_attention = models.CharField("ter attentie van", max_length=200, blank=True)
    invoice_street = models.CharField("straat en huisnummer", max_length=200)
    invoice_postcode = models.CharField("postcode", max_length=20)
    invoice_city = models.CharField("plaats", max_length=100)
    invoice_country = CountryField("land", default="NL")
    invoice_email = models.EmailField("e-mailadres voor de factuur", max_length=254)
    po_number = models.CharField(
        "inkoopordernummer of kenmerk",
        max_length=100,
        blank=True,
        help_text="Staat op de factuur; veel gemeenten hebben dit nodig.",
    )
    vat_id = models.CharField("btw-nummer", max_length=30, blank=True)
    # A random value from the form page; see RegistrationQuerySet.submitted_with.
    submission_key = models.CharField(
        "formuliersleutel", max_length=64, blank=True, default="", editable=False
    )

    terms_accepted_at = models.DateTimeField("akkoord voorwaarden op")
    privacy_accepted_at = models.DateTimeField("akkoord privacyverklaring op")

    created_at = models.DateTimeField("ingeschreven op", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("gewijzigd", auto_now=True)
    cancelled_at = models.DateTimeField("geannuleerd op", null=True, blank=True)
    confirmation_sent_at = models.DateTimeField("bevestiging verstuurd op", null=True, blank=True)
    anonymised_at = models.DateTimeField("geanonimiseerd op", null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = "inschrijving"
        verbose_name_plural = "inschrijvingen"
        ordering = ["-created_at"]
        indexes = [
            # Every sign-up counts the edition's confirmed places under the edition lock.
            models.Index(fields=["edition", "status"], name="registration_edition_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "edition",
                condition=~models.Q(status="cancelled"),
                name="one_active_registration_per_email",
                violation_error_message="Met dit e-mailadres is al ingeschreven voor deze editie.",
            ),
        ]

    def __str__(self):
        return f"{self.full_name} – {self.reference}"

    def get_absolute_url(self):
        return reverse("registrations:detail", args=[self.token])

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def reference(self):
        """A short reference for logs and conversations; carries no personal data."""
        return f"INS-{self.pk:05d}" if self.pk else "INS-nieuw"

    @property
    def is_cancelled(self):
        return self.status == self.Status.CANCELLED

    def can_cancel(self, at=None):
        return not self.is_cancelled and self.edition.registration_is_open(at)

    def cancel(self, at=None):
        self.status = self.Status.CANCELLED
        self.cancelled_at = at or timezone.now()
        self.save(update_fields=["status", "cancelled_at", "updated_at"])

    def confirm_from_waiting_list(self):
        """Move from the waiting list to confirmed while a place is free. Returns success."""
        with transaction.atomic():
            edition = Edition.objects.select_for_update().get(pk=self.edition_id)
            current = Registration.objects.select_for_update().get(pk=self.pk)
            if current.status != self.Status.WAITING:
                return False
            if edition.capacity is not None:
                taken = Registration.objects.filter(edition=edition).confirmed().count()
                if taken >= edition.capacity:
                    return False
            current.status = self.Status.CONFIRMED
            current.save(update_fields=["status", "updated_at"])
        self.status = current.status
        return True

    def issue_invoice(self, at=None, by=None):
        """Issue this registration's invoice (numbered, with its PDF). See invoices.issue_invoice."""
        from .invoices import issue_invoice

        return issue_invoice(self, at=at, by=by)


def _validate_kvk(value):
    if not (len(value) == 8 and value.isdigit()):
        raise ValidationError("Een KvK-nummer bestaat uit 8 cijfers.")


def _validate_vat_id(value):
    from stdnum.nl import btw

    if not btw.is_valid(value):
        raise ValidationError("Dit is geen geldig Nederlands btw-id (NL…B..).")


def _validate_iban(value):
    from stdnum import iban

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
        "KvK-nummer", max_length=20, blank=True, validators=[_validate_kvk]
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

    def paid(self):
        return self.uncredited().filter(paid_on__isnull=False)

    def unpaid(self):
        return self.uncredited().filter(paid_on__isnull=True)

    def overdue(self, today=None):
        today = today or amsterdam_date(timezone.now())
        return self.unpaid().filter(due_date__lt=today)

    def open(self, today=None):
        today = today or amsterdam_date(timezone.now())
        return self.unpaid().filter(due_date__gte=today)


class Invoice(models.Model):
    """An issued invoice or credit note: a frozen snapshot of everything printed on it.

    Only the PDF (stored once), the payment date and the e-mail date may change after
    issue; database triggers refuse everything else, and any DELETE.
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", "factuur"
        CREDIT_NOTE = "credit", "creditfactuur"

    class Status(models.TextChoices):
        OPEN = "open", "open"
        PAID = "paid", "betaald"
        OVERDUE = "overdue", "te laat"
        CREDITED = "credited", "gecrediteerd"
        CREDIT_NOTE = "credit_note", "creditfactuur"

    MUTABLE_FIELDS = frozenset({"pdf", "pdf_sha256", "paid_on", "emailed_at"})

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
    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="invoices", verbose_name="inschrijving"
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
    po_number = models.CharField("inkoopordernummer of kenmerk", max_length=100, blank=True)
    payment_reference = models.CharField("betalingskenmerk", max_length=40)

    total_excl_vat = models.DecimalField("totaal excl. btw", max_digits=12, decimal_places=2)
    total_vat = models.DecimalField("btw", max_digits=12, decimal_places=2)
    total_incl_vat = models.DecimalField("totaal incl. btw", max_digits=12, decimal_places=2)
    vat_exemption_text = models.CharField("btw-vrijstelling", max_length=200, blank=True)

    pdf = models.FileField("pdf", upload_to="invoices/", blank=True, max_length=200)
    pdf_sha256 = models.CharField("SHA-256 van de pdf", max_length=64, blank=True)
    paid_on = models.DateField("betaald op", null=True, blank=True)
    emailed_at = models.DateTimeField("gemaild op", null=True, blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
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
            if update_fields is None or not set(update_fields) <= self.MUTABLE_FIELDS:
                raise InvoiceIsFinal(
                    f"Factuur {self.number} is al uitgereikt en kan niet meer worden gewijzigd. "
                    "Maak een creditfactuur."
                )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise InvoiceIsFinal(f"Factuur {self.number} is uitgereikt en mag niet worden verwijderd.")

    @property
    def is_credit_note(self):
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def is_credited(self):
        return not self.is_credit_note and hasattr(self, "credit_note")

    @property
    def filename(self):
        return f"factuur-{self.number}.pdf"

    def status(self, today=None):
        """open / paid / overdue / credited, derived from the dates and the credit note."""
        if self.is_credit_note:
            return self.Status.CREDIT_NOTE
        if self.is_credited:
            return self.Status.CREDITED
        if self.paid_on:
            return self.Status.PAID
        today = today or amsterdam_date(timezone.now())
        return self.Status.OVERDUE if self.due_date < today else self.Status.OPEN

    def vat_breakdown(self):
        """[(rate, amount excl. VAT, VAT)] per rate, each VAT amount rounded half-up once."""
        from .invoices import vat_breakdown

        return vat_breakdown(self.lines.all())


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="lines", verbose_name="factuur"
    )
    position = models.PositiveSmallIntegerField("regel", default=1)
    description = models.TextField("omschrijving")
    quantity = models.DecimalField("aantal", max_digits=9, decimal_places=2)
    unit_price = models.DecimalField("prijs per stuk excl. btw", max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField("btw-tarief (%)", max_digits=5, decimal_places=2)
    amount_excl_vat = models.DecimalField("bedrag excl. btw", max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = "factuurregel"
        verbose_name_plural = "factuurregels"
        ordering = ["invoice", "position"]

    def __str__(self):
        return self.description.splitlines()[0] if self.description else ""

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise InvoiceIsFinal("Een factuurregel kan na uitreiken niet meer worden gewijzigd.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise InvoiceIsFinal("Een factuurregel kan na uitreiken niet worden verwijderd.")
