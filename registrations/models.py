import secrets

from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from programme.models import Edition


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
        """
        at = at or timezone.now()
        try:
            with transaction.atomic():
                locked = Edition.objects.select_for_update().get(pk=edition.pk)
                if not locked.registration_is_open(at):
                    raise RegistrationClosed
                email = fields.get("email", "")
                if self.active().filter(edition=locked, email__iexact=email).exists():
                    raise AlreadyRegistered
                status = Registration.Status.CONFIRMED
                if locked.capacity is not None:
                    taken = self.filter(edition=locked).confirmed().count()
                    if taken >= locked.capacity:
                        status = Registration.Status.WAITING
                return self.create(edition=locked, status=status, **fields)
        except IntegrityError:
            # The unique constraint caught a parallel duplicate the check above missed.
            raise AlreadyRegistered from None


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
