import re
import secrets
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from programme.models import Edition

from .signals import registration_cancelled


def new_token():
    # 32 random bytes: the confirmation page's only key, so it must not be guessable.
    return secrets.token_urlsafe(32)


class RegistrationClosed(Exception):
    """The edition does not take sign-ups at this moment."""


class AlreadyRegistered(Exception):
    """An active registration with this e-mail address exists for the edition."""


class TransitionRefused(Exception):
    """A status change that the rules do not allow now; the message says why, in Dutch."""


# The groups of fields a registration holds, named once for the form, the admin and invoicing.
PARTICIPANT_FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "organisation",
    "job_title",
    "sector",
    "role",
]
PARTICIPATION_FIELDS = ["own_case", "dietary_needs", "accessibility_needs", "overnight_stay"]
# What a participant changes on their own page until the deadline (Registration.change_choices).
CHOICE_FIELDS = ["overnight_stay", "dietary_needs", "accessibility_needs"]
# What a substitute brings: their own person; the organisation, price and invoice stay.
SUBSTITUTE_FIELDS = ["first_name", "last_name", "email", "phone", "job_title"]
INVOICE_DETAIL_FIELDS = [
    "invoice_organisation",
    "invoice_attention",
    "invoice_street",
    "invoice_postcode",
    "invoice_city",
    "invoice_country",
    "invoice_email",
    "po_number",
    "vat_id",
    "kvk_number",
    "oin",
    "peppol_id",
]
# What was agreed at sign-up; finance's (permission change_billing).
AGREED_PRICE_FIELDS = ["price_excl_vat", "vat_rate", "vat_exemption_text"]


def validate_kvk_number(value):
    # python-stdnum has no Dutch KvK module: a KvK number is 8 digits, without a check digit.
    if not (len(value) == 8 and value.isdigit()):
        raise ValidationError("Een KvK-nummer bestaat uit 8 cijfers.")


def validate_oin(value):
    if not (len(value) == 20 and value.isdigit()):
        raise ValidationError("Een OIN bestaat uit precies 20 cijfers.")


def validate_peppol_id(value):
    """scheme:identifier, the scheme an ISO 6523 code of 4 digits (0106 KvK, 0190 OIN, ...)."""
    scheme, _, identifier = value.partition(":")
    valid = re.fullmatch(r"\d{4}", scheme) and re.fullmatch(r"[A-Za-z0-9._\-]{1,50}", identifier)
    if valid and scheme == "0106":
        valid = len(identifier) == 8 and identifier.isdigit()
    if valid and scheme == "0190":
        valid = len(identifier) == 20 and identifier.isdigit()
    if not valid:
        raise ValidationError(
            "Een Peppol-ID heeft de vorm schema:nummer, bijvoorbeeld 0106:12345678 (KvK-nummer) "
            "of 0190: gevolgd door het OIN van 20 cijfers."
        )


def count_with_status(status):
    """An annotation for editions: how many of their registrations have `status`."""
    return models.Count("registrations", filter=models.Q(registrations__status=status))


class RegistrationQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(status=Registration.Status.CONFIRMED)

    def waiting(self):
        """The waiting list of an edition as a queue: first come, first in line."""
        return self.filter(status=Registration.Status.WAITING).order_by("waiting_since", "pk")

    def active(self):
        return self.exclude(status=Registration.Status.CANCELLED)

    def counts(self, edition):
        """{'confirmed': n, 'waiting': n} for `edition`, in one query."""
        return self.filter(edition=edition).aggregate(
            confirmed=models.Count("pk", filter=models.Q(status=Registration.Status.CONFIRMED)),
            waiting=models.Count("pk", filter=models.Q(status=Registration.Status.WAITING)),
        )

    def places_left(self, edition, counts=None):
        """Free places of `edition` (None: no maximum). The one home of this rule: the
        sign-up, the transitions, the page and the admin all ask here."""
        if edition.capacity is None:
            return None
        confirmed = (counts or self.counts(edition))["confirmed"]
        return max(edition.capacity - confirmed, 0)

    def newcomer_waits(self, edition):
        """Whether someone joining `edition` now goes on the waiting list: when no place is
        left, and while anyone waits (the queue is never jumped). Ask under the edition lock."""
        counts = self.counts(edition)
        return counts["waiting"] > 0 or self.places_left(edition, counts) == 0

    def register(self, edition, at=None, **fields):
        """Sign a participant up for `edition` through the public form: see `place`."""
        return self.place(self.model(edition=edition, **fields), at=at)

    def place(self, registration, at=None, *, by_staff=False):
        """Store a new registration as confirmed, or at the end of the waiting list.

        The edition row is locked for the transaction, so parallel sign-ups count the
        confirmed places one after another and never overbook. While anyone waits, a new
        sign-up joins the end of the queue: a freed place goes to the first in line. The
        deadline is checked again inside the lock (what the browser showed does not matter);
        staff adding someone by hand (`by_staff`) may do so after it.

        The price and VAT treatment are copied from the edition as they are now: that is
        what the participant agreed to, whatever the edition says later.
        """
        at = at or timezone.now()
        try:
            with transaction.atomic():
                edition = Edition.objects.select_for_update().get(pk=registration.edition_id)
                if not by_staff and not edition.registration_is_open(at):
                    raise RegistrationClosed
                if edition.price_excl_vat is None:
                    # A draft without a price yet: nobody can have agreed to one.
                    raise RegistrationClosed
                if self.newcomer_waits(edition):
                    registration.status = Registration.Status.WAITING
                    registration.waiting_since = at
                else:
                    registration.status = Registration.Status.CONFIRMED
                registration.edition = edition
                registration.price_excl_vat = edition.price_excl_vat
                registration.vat_rate = edition.vat_rate
                registration.vat_exemption_text = edition.vat_exemption_text
                registration._placing = True
                try:
                    registration.save(force_insert=True)
                finally:
                    registration._placing = False
        except IntegrityError:
            # One active registration per e-mail address: the database constraint is the check,
            # so it also holds for a duplicate that arrives at the same moment.
            raise AlreadyRegistered from None
        return registration

    def active_with_email(self, edition, email):
        """The active registration for `edition` made with `email` (any case), if any."""
        return self.active().filter(edition=edition, email__iexact=email.strip()).first()

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
    # Changes only through the transitions below (confirm_from_waiting_list, cancel,
    # reinstate), each under the edition lock; save() refuses any other change.
    status = models.CharField(
        "status", max_length=20, choices=Status.choices, default=Status.CONFIRMED, editable=False
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
    # Who the buyer is in an e-invoice (SI-UBL 2.0): a Dutch organisation by its KvK number, a
    # public body by its OIN; the Peppol ID is where an e-invoice can reach it.
    kvk_number = models.CharField(
        "KvK-nummer", max_length=8, blank=True, validators=[validate_kvk_number]
    )
    oin = models.CharField(
        "OIN",
        max_length=20,
        blank=True,
        validators=[validate_oin],
        help_text="Organisatie-identificatienummer van een overheidsorganisatie (20 cijfers).",
    )
    peppol_id = models.CharField(
        "Peppol-ID", max_length=60, blank=True, validators=[validate_peppol_id]
    )
    # What was agreed at sign-up (copied from the edition by `place`); invoices charge this.
    price_excl_vat = models.DecimalField(
        "afgesproken prijs excl. btw",
        max_digits=9,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    vat_rate = models.DecimalField(
        "afgesproken btw-tarief (%)",
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    vat_exemption_text = models.CharField(
        "afgesproken btw-vrijstelling",
        max_length=200,
        blank=True,
        help_text="Ingevuld: de factuur rekent 0% btw met deze tekst.",
    )
    # A random value from the form page; see RegistrationQuerySet.submitted_with.
    submission_key = models.CharField(
        "formuliersleutel", max_length=64, blank=True, default="", editable=False
    )

    terms_accepted_at = models.DateTimeField("akkoord voorwaarden op")
    privacy_accepted_at = models.DateTimeField("akkoord privacyverklaring op")

    created_at = models.DateTimeField("ingeschreven op", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("gewijzigd", auto_now=True)
    cancelled_at = models.DateTimeField("geannuleerd op", null=True, blank=True, editable=False)
    # The place in the waiting-list queue: set when someone joins its end.
    waiting_since = models.DateTimeField(
        "op de wachtlijst sinds", null=True, blank=True, editable=False
    )
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
        permissions = [
            ("change_billing", "Mag factuurgegevens en de afgesproken prijs wijzigen"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(status="cancelled", cancelled_at__isnull=False)
                    | (~models.Q(status="cancelled") & models.Q(cancelled_at__isnull=True))
                ),
                name="cancelled_exactly_when_cancelled_at",
                violation_error_message="Een geannuleerde inschrijving heeft een annuleerdatum, "
                "een andere niet.",
            ),
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

    def save(self, *args, **kwargs):
        if self._state.adding and not getattr(self, "_placing", False):
            raise TransitionRefused(
                "Een nieuwe inschrijving gaat via Registration.objects.register() of place(): "
                "die kiezen onder de editievergrendeling tussen bevestigd en wachtlijst."
            )
        stored = getattr(self, "_stored_status", None)
        update_fields = kwargs.get("update_fields")
        saves_status = update_fields is None or "status" in update_fields
        if saves_status and stored is not None and self.status != stored:
            self.status = stored
            raise TransitionRefused(
                "De status verandert alleen met een actie: bevestigen vanaf de wachtlijst, "
                "annuleren of terugzetten."
            )
        super().save(*args, **kwargs)
        self._stored_status = self.status

    def get_absolute_url(self):
        return reverse("registrations:detail", args=[self.token])

    @classmethod
    def from_db(cls, db, field_names, values):
        registration = super().from_db(db, field_names, values)
        registration._stored_status = registration.__dict__.get("status")
        return registration

    @property
    @admin.display(description="naam")
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    @admin.display(description="referentie")
    def reference(self):
        """A short reference for logs and conversations; carries no personal data."""
        return f"INS-{self.pk:05d}" if self.pk else "INS-nieuw"

    @property
    def is_cancelled(self):
        return self.status == self.Status.CANCELLED

    @property
    def vat_exempt(self):
        return bool(self.vat_exemption_text)

    def can_cancel(self, at=None):
        """Whether the participant may cancel on their own page (until the deadline)."""
        return not self.is_cancelled and self.edition.registration_is_open(at)

    def position_on_waiting_list(self):
        """1 for the first in line; None when not waiting."""
        if self.status != self.Status.WAITING:
            return None
        earlier = Registration.objects.filter(edition_id=self.edition_id).waiting()
        earlier = earlier.filter(
            models.Q(waiting_since__lt=self.waiting_since)
            | models.Q(waiting_since=self.waiting_since, pk__lt=self.pk)
        )
        return earlier.count() + 1

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None or "status" in fields:
            self._stored_status = self.status

    def _transition(self, to, allowed_from, check, **fields):
        """Lock the edition and this row, check the rule, change the status, in one go."""
        with transaction.atomic():
            edition = Edition.objects.select_for_update().get(pk=self.edition_id)
            current = Registration.objects.select_for_update().get(pk=self.pk)
            if current.status not in allowed_from:
                raise TransitionRefused(
                    f"{current.reference} is {current.get_status_display()}; dat kan hier niet."
                )
            check(current, edition)
            changes = {"status": to, "updated_at": timezone.now(), **fields}
            try:
                with transaction.atomic():
                    Registration.objects.filter(pk=self.pk).update(**changes)
            except IntegrityError:
                raise TransitionRefused(
                    f"{current.reference} kan niet terug: met dit e-mailadres is al iemand "
                    "anders actief ingeschreven voor deze editie."
                ) from None
        for name, value in changes.items():
            setattr(self, name, value)
        self._stored_status = to
        return self

    def confirm_from_waiting_list(self):
        """Give the first in line a freed place. Refused when a place is not free or someone
        has waited longer."""

        def check(current, edition):
            if current.position_on_waiting_list() != 1:
                raise TransitionRefused(
                    f"{current.reference} staat niet vooraan op de wachtlijst; bevestig eerst "
                    "wie langer wacht."
                )
            if Registration.objects.places_left(edition) == 0:
                raise TransitionRefused(
                    f"{current.reference} niet bevestigd: de editie is vol "
                    f"({edition.capacity} plaatsen)."
                )

        return self._transition(self.Status.CONFIRMED, {self.Status.WAITING}, check)

    def cancel(self, at=None):
        """Cancel (the participant on their page, or staff at any time). An invoiced
        registration then waits in finance's 'te crediteren' queue (see signals)."""
        self._transition(
            self.Status.CANCELLED,
            {self.Status.CONFIRMED, self.Status.WAITING},
            lambda current, edition: None,
            cancelled_at=at or timezone.now(),
        )
        registration_cancelled.send(sender=Registration, registration=self)
        return self

    def reinstate(self, at=None):
        """Undo a cancellation: back as confirmed when a place is free and nobody waits,
        otherwise at the end of the waiting list (the queue is never jumped)."""
        at = at or timezone.now()
        with transaction.atomic():
            edition = Edition.objects.select_for_update().get(pk=self.edition_id)
            if Registration.objects.newcomer_waits(edition):
                to, fields = self.Status.WAITING, {"waiting_since": at}
            else:
                to, fields = self.Status.CONFIRMED, {}
            return self._transition(
                to,
                {self.Status.CANCELLED},
                lambda current, edition: None,
                cancelled_at=None,
                **fields,
            )

    def can_change_choices(self, at=None):
        """Whether the participant may change their own choices: until the deadline."""
        return not self.is_cancelled and self.edition.registration_is_open(at)

    def can_name_substitute(self, at=None):
        """Whether the participant may hand their place to a colleague: until the start."""
        return not self.is_cancelled and (at or timezone.now()) < self.edition.starts_at()

    def _locked_for_change(self, allowed, refusal, at):
        current = Registration.objects.select_for_update().select_related("edition")
        current = current.get(pk=self.pk)
        if not allowed(current, at):
            raise TransitionRefused(refusal)
        return current

    def change_choices(self, at=None, **choices):
        """The participant changes overnight stay, diet or accessibility on their own page.

        Only before the deadline (checked again under the row lock, whatever the page showed).
        Returns the RegistrationChange recorded, or None when nothing changed.
        """
        at = at or timezone.now()
        unknown = set(choices) - set(CHOICE_FIELDS)
        if unknown:
            raise ValueError(f"Not a participant's own choice: {sorted(unknown)}")
        with transaction.atomic():
            current = self._locked_for_change(
                Registration.can_change_choices,
                "De deadline is voorbij: je keuzes wijzigen kan niet meer via deze pagina. "
                "Neem contact op met de organisatie.",
                at,
            )
            changed = {n: v for n, v in choices.items() if getattr(current, n) != v}
            if not changed:
                return None
            Registration.objects.filter(pk=self.pk).update(**changed, updated_at=at)
            for name, value in changed.items():
                setattr(self, name, value)
            return RegistrationChange.record(self, RegistrationChange.Kind.CHOICES, changed, at)

    def name_substitute(self, at=None, **person):
        """Hand this place to a colleague of the same organisation, until the start.

        The registration keeps its organisation, agreed price and invoice; the substitute's own
        details replace the participant's, the previous person's wishes go, and a new token
        makes the old personal link stop working. Returns the RegistrationChange recorded.
        """
        at = at or timezone.now()
        if set(person) != set(SUBSTITUTE_FIELDS):
            raise ValueError(f"A substitute needs exactly {SUBSTITUTE_FIELDS}")
        with transaction.atomic():
            current = self._locked_for_change(
                Registration.can_name_substitute,
                "De werkplaats is begonnen: een vervanger aanmelden kan niet meer via deze "
                "pagina. Neem contact op met de organisatie.",
                at,
            )
            if person["email"].strip().lower() == current.email.lower():
                raise TransitionRefused(
                    "Dat is het e-mailadres van deze inschrijving; vul het adres van je vervanger in."
                )
            changes = {
                **person,
                "token": new_token(),
                "own_case": "",
                "dietary_needs": "",
                "accessibility_needs": "",
                "confirmation_sent_at": None,
                "updated_at": at,
            }
            try:
                with transaction.atomic():
                    Registration.objects.filter(pk=self.pk).update(**changes)
            except IntegrityError:
                raise TransitionRefused(
                    "Met dit e-mailadres is al iemand ingeschreven voor deze werkplaats."
                ) from None
            for name, value in changes.items():
                setattr(self, name, value)
            return RegistrationChange.record(
                self, RegistrationChange.Kind.SUBSTITUTE, dict.fromkeys(SUBSTITUTE_FIELDS), at
            )


class RegistrationChange(models.Model):
    """A change a participant made on their own page: the record staff (and an audit) read.

    It names the fields that changed, never their values: diet and accessibility wishes and a
    previous participant's details must not outlive the registration's own retention.
    """

    class Kind(models.TextChoices):
        CHOICES = "choices", "keuzes gewijzigd"
        SUBSTITUTE = "substitute", "vervanger aangemeld"

    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="changes",
        verbose_name="inschrijving",
    )
    kind = models.CharField("wat", max_length=20, choices=Kind.choices)
    fields = models.CharField("gewijzigde gegevens", max_length=300)
    at = models.DateTimeField("op", default=timezone.now)

    class Meta:
        verbose_name = "wijziging door de deelnemer"
        verbose_name_plural = "wijzigingen door de deelnemer"
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.fields}"

    @classmethod
    def record(cls, registration, kind, changed, at):
        labels = [str(Registration._meta.get_field(name).verbose_name) for name in changed]
        return cls.objects.create(
            registration=registration, kind=kind, fields=", ".join(labels), at=at
        )


class RateLimit(models.Model):
    """How often one client did one thing in the current window (see ratelimit.py).

    In the database, so every worker and app server counts the same hits.
    """

    key = models.CharField("sleutel", max_length=200, unique=True)
    window_ends = models.DateTimeField("venster eindigt", db_index=True)
    hits = models.PositiveIntegerField("aantal", default=0)

    class Meta:
        verbose_name = "snelheidslimiet"
        verbose_name_plural = "snelheidslimieten"

    def __str__(self):
        return self.key


class RetentionRecord(models.Model):
    """What the retention job did, to which edition, when: the record an audit asks for."""

    class Action(models.TextChoices):
        NEEDS_ERASED = "needs_erased", "dieet- en toegankelijkheidswensen gewist"
        NOTICE = "notice", "medewerkers gewaarschuwd"
        ANONYMISED = "anonymised", "geanonimiseerd"

    edition = models.ForeignKey(
        Edition, on_delete=models.PROTECT, related_name="retention_records", verbose_name="editie"
    )
    action = models.CharField("wat", max_length=20, choices=Action.choices)
    registrations = models.PositiveIntegerField("aantal inschrijvingen")
    due_on = models.DateField("anonimiseren op")
    done_at = models.DateTimeField("gedaan op", default=timezone.now)

    class Meta:
        verbose_name = "bewaartermijnactie"
        verbose_name_plural = "bewaartermijnacties"
        ordering = ["-done_at"]
        constraints = [
            # The notice goes out once per edition and due date, however often the job runs.
            models.UniqueConstraint(
                fields=["edition", "due_on"],
                condition=models.Q(action="notice"),
                name="one_retention_notice_per_due_date",
            ),
        ]

    def __str__(self):
        return f"{self.edition}: {self.get_action_display()} ({self.registrations})"
