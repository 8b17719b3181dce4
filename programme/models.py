import datetime
import re
import secrets
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models, transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from werkplaats import formats


def amsterdam_date(at):
    """The calendar date of an aware datetime in the site's time zone (Europe/Amsterdam)."""
    return timezone.localtime(at, timezone.get_default_timezone()).date()


def _aware(date, time):
    return timezone.make_aware(
        datetime.datetime.combine(date, time), timezone.get_default_timezone()
    )


class ContentQuerySet(models.QuerySet):
    """For what the public pages show: a queryset that changes rows makes a new content
    version (PageVersion), as a save or delete does (the receivers at the end of this module).
    bulk_update() goes through update()."""

    def update(self, **fields):
        updated = super().update(**fields)
        PageVersion.content_changed()
        return updated

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        PageVersion.content_changed()
        return created


class EditionQuerySet(ContentQuerySet):
    def published(self):
        return self.filter(is_published=True)

    def current(self, today=None):
        """The edition the home page shows: the next one that has not ended, else the latest."""
        today = today or amsterdam_date(timezone.now())
        published = self.published()
        upcoming = published.filter(end_date__gte=today).order_by("start_date").first()
        return upcoming or published.order_by("-start_date").first()


class InvoiceMoment(models.TextChoices):
    BY_HAND = "by_hand", "met de hand"
    AT_CONFIRMATION = "confirmation", "bij bevestiging"
    ON_DATE = "on_date", "op een datum"


class Edition(models.Model):
    """One run of the werkplaats, with every fact the public page shows."""

    title = models.CharField("titel", max_length=200)
    slug = models.SlugField("adres (slug)", max_length=100, unique=True)
    is_published = models.BooleanField("gepubliceerd", default=False)
    is_demo = models.BooleanField(
        "demo-editie",
        default=False,
        help_text="Alleen voor uitproberen; de pagina toont dit duidelijk.",
    )
    organisers = models.CharField(
        "organisatoren", max_length=200, default="Platform31 en Van Vieren"
    )
    intro = models.TextField("inleiding", blank=True)
    start_date = models.DateField("eerste dag")
    end_date = models.DateField("laatste dag")
    daily_start_time = models.TimeField("begintijd per dag")
    daily_end_time = models.TimeField("eindtijd per dag")
    venue_name = models.CharField("locatie", max_length=200)
    venue_city = models.CharField("plaats", max_length=100)
    venue_address = models.CharField("straat en huisnummer locatie", max_length=200, blank=True)
    venue_postcode = models.CharField("postcode locatie", max_length=10, blank=True)
    # Money fields are set by finance (permission change_edition_price); an edition is
    # published only once it has a price.
    price_excl_vat = models.DecimalField(
        "prijs per persoon excl. btw",
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Vult Financiën in; publiceren kan pas met een prijs.",
    )
    price_includes = models.CharField(
        "inbegrepen in de prijs",
        max_length=200,
        blank=True,
        default="arrangement- en verblijfskosten",
    )
    vat_rate = models.DecimalField(
        "btw-tarief (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("21.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    vat_exemption_text = models.CharField(
        "btw-vrijstelling",
        max_length=200,
        blank=True,
        help_text=(
            "Vul alleen in als de werkplaats is vrijgesteld van btw, bijvoorbeeld "
            "'Vrijgesteld van btw op grond van art. 11 lid 1 sub o Wet OB'. "
            "Facturen rekenen dan 0% btw met deze tekst."
        ),
    )
    registration_deadline = models.DateField(
        "deadline inschrijven",
        help_text="Inschrijven kan tot en met deze dag (23:59 uur, Nederlandse tijd).",
    )
    capacity = models.PositiveIntegerField(
        "maximum aantal deelnemers",
        null=True,
        blank=True,
        help_text="Leeg laten voor onbeperkt. Daarna komen inschrijvingen op de wachtlijst.",
    )
    max_participants_per_order = models.PositiveSmallIntegerField(
        "maximum aantal deelnemers per inschrijving",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Zoveel mensen kan iemand in één keer inschrijven: zichzelf en collega's.",
    )
    contact_hours_per_day = models.DecimalField(
        "contacturen per dag",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("24"))],
        help_text=(
            "Voor het bewijs van deelname. Leeg: de tijd van begin tot eind per dag. Vul het "
            "aantal in dat de beroepsregistratie erkent, bijvoorbeeld 6 (zonder pauzes)."
        ),
    )
    accreditation_text = models.TextField(
        "accreditatie",
        blank=True,
        help_text="Staat op het bewijs van deelname, bijvoorbeeld het registerkeurmerk en -nummer.",
    )
    retention_months = models.PositiveSmallIntegerField(
        "bewaartermijn persoonsgegevens (maanden)",
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(36)],
        help_text=(
            "Zoveel maanden na de laatste dag worden de persoonsgegevens van de deelnemers "
            "vanzelf geanonimiseerd (1 tot 36). Dieet- en toegankelijkheidswensen gaan al "
            "direct na afloop weg. Facturen blijven zeven jaar ongewijzigd bewaard."
        ),
    )
    # The waiting list moves by itself (registrations.models.WaitingListOffer): on by default,
    # because that is what a waiting list promises; staff switch it off to confirm by hand.
    waiting_list_offers = models.BooleanField(
        "wachtlijst schuift vanzelf door",
        default=True,
        help_text=(
            "Komt er een plaats vrij, dan krijgt de eerste op de wachtlijst vanzelf een e-mail "
            "met een persoonlijk aanbod. Uit: medewerkers bevestigen zelf vanaf de wachtlijst."
        ),
    )
    offer_validity_hours = models.PositiveSmallIntegerField(
        "aanbod geldig (uren)",
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(336)],
        help_text=(
            "Zo lang houden we een vrije plaats vast voor wie een aanbod krijgt (1 tot 336 uur). "
            "Daarna gaat het aanbod naar de volgende op de wachtlijst."
        ),
    )
    # When invoices leave by themselves (registrations/invoicing/sending.py): finance's choice
    # per edition. By hand until finance chooses, so nothing changes for anyone before that.
    invoice_moment = models.CharField(
        "facturen versturen",
        max_length=12,
        choices=InvoiceMoment.choices,
        default=InvoiceMoment.BY_HAND,
        help_text=(
            "Met de hand: Financiën maakt en verstuurt de facturen zelf. Bij bevestiging: de "
            "factuur gaat vanzelf zodra een deelnemer bevestigd is. Op een datum: de facturen "
            "gaan vanaf die dag vanzelf, bijvoorbeeld na de deadline."
        ),
    )
    invoice_on = models.DateField(
        "facturen versturen op",
        null=True,
        blank=True,
        help_text="Alleen bij 'op een datum'.",
    )
    # For the mail to participants (registrations/messages): the placeholder {meenemen}, and
    # when the practical-information mail goes out.
    what_to_bring = models.TextField(
        "wat neem je mee",
        blank=True,
        help_text="Bijvoorbeeld: je eigen casus op papier, een laptop. In berichten: {meenemen}.",
    )
    practical_information_days = models.PositiveSmallIntegerField(
        "praktische informatie (dagen vooraf)",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=(
            "Zoveel dagen voor de eerste dag krijgt elke bevestigde deelnemer de mail met "
            "praktische informatie (1 tot 60); wie later bevestigd wordt, krijgt hem dan direct."
        ),
    )
    # The first release date of the edition's preparation material, kept by
    # registrations/messages, so a participant's page asks for material only once some is out.
    materials_released_from = models.DateField(null=True, blank=True, editable=False)
    terms = models.TextField(
        "voorwaarden en annulering",
        blank=True,
        help_text=(
            "Alleen wat de organisatie echt afspreekt, bijvoorbeeld tot wanneer annuleren "
            "kosteloos is en of een vervanger mag komen. Deelnemers gaan hiermee akkoord bij hun "
            "inschrijving; de bevestiging en de annulering noemen deze tekst. Leeg: de site "
            "belooft niets en verwijst voor annuleren naar de contactpersoon."
        ),
    )
    created_at = models.DateTimeField("aangemaakt", auto_now_add=True)
    updated_at = models.DateTimeField("gewijzigd", auto_now=True)
    # See PageVersion; without Redis the version of this edition's places lives here.
    places_version = models.BigIntegerField(default=0, editable=False)

    objects = EditionQuerySet.as_manager()

    class Meta:
        verbose_name = "editie"
        verbose_name_plural = "edities"
        ordering = ["-start_date"]
        permissions = [("change_edition_price", "Mag prijs en btw van een editie wijzigen")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="edition_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(is_published=False) | models.Q(price_excl_vat__isnull=False),
                name="published_edition_has_price",
                violation_error_message="Een editie wordt pas gepubliceerd met een prijs.",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({formats.numeric_date(self.start_date)})"

    def get_absolute_url(self):
        return reverse("programme:edition", args=[self.slug])

    @property
    def vat_exempt(self):
        return bool(self.vat_exemption_text)

    def clean(self):
        if self.invoice_moment == InvoiceMoment.ON_DATE and self.invoice_on is None:
            raise ValidationError({"invoice_on": "Kies de datum waarop de facturen gaan."})

    def invoices_leave_on_their_own(self, today):
        """Whether an order's invoice goes without finance's hand now: at confirmation, or
        from the chosen date on (registrations/invoicing/sending.py)."""
        if self.invoice_moment == InvoiceMoment.AT_CONFIRMATION:
            return True
        return self.invoice_moment == InvoiceMoment.ON_DATE and self.invoice_on <= today

    def invoice_timing(self, at=None):
        """When the invoice goes, as participants are told ('De factuur komt … per e-mail'):
        empty while finance sends by hand (they decide when), and for a date that has
        passed (the next run of the job sends it)."""
        if self.invoice_moment == InvoiceMoment.AT_CONFIRMATION:
            return "direct na de bevestiging"
        today = amsterdam_date(at or timezone.now())
        if self.invoice_moment == InvoiceMoment.ON_DATE and self.invoice_on > today:
            return f"op {formats.day(self.invoice_on)}"
        return ""

    @property
    def registration_closes_at(self):
        """The first moment registration is closed: midnight after the deadline day, Amsterdam."""
        day_after = self.registration_deadline + datetime.timedelta(days=1)
        return _aware(day_after, datetime.time())

    def registration_is_open(self, at=None):
        """Whether a participant may sign up at `at` (default: now).

        Open while published, through the whole deadline day in Amsterdam time, and never
        once the edition has started.
        """
        at = at or timezone.now()
        if not self.is_published:
            return False
        local_day = amsterdam_date(at)
        return local_day <= self.registration_deadline and local_day < self.start_date

    @property
    def venue_full_address(self):
        """'Kaap Doorn Conferentiecentrum, Postweg 1, 3941 AB Doorn', with what staff entered."""
        place = " ".join(filter(None, [self.venue_postcode, self.venue_city]))
        return ", ".join(filter(None, [self.venue_name, self.venue_address, place]))

    @property
    def route_url(self):
        """A plain link to route planning on OpenStreetMap (a link, not a request the page makes)."""
        return "https://www.openstreetmap.org/directions?" + urlencode(
            {"to": self.venue_full_address}
        )

    @property
    def practical_contact(self):
        return next((c for c in self.contacts.all() if c.is_practical_contact), None)

    def programme(self):
        """(days with their timed sessions, sessions for the programme as a whole)."""
        sessions = list(self.sessions.all())
        days = [(day, [s for s in sessions if s.day_id == day.pk]) for day in self.days.all()]
        return [(day, timed) for day, timed in days if timed], [
            s for s in sessions if s.day_id is None
        ]

    def is_full(self):
        """Whether every place is taken. Sign-up owns the rule (RegistrationQuerySet.places_left);
        programme asks it through the reverse relation, since it may not import sign-up."""
        return self.registrations.places_left(self) == 0

    def has_ended(self, at=None):
        return amsterdam_date(at or timezone.now()) > self.end_date

    def starts_at(self):
        return _aware(self.start_date, self.daily_start_time)

    def ends_at(self):
        return _aware(self.end_date, self.daily_end_time)

    @transaction.atomic
    def duplicate(self, weeks):
        """Copy this edition into an unpublished draft, `weeks` whole weeks later.

        Whole weeks keep every date on the same weekday (a Monday start stays a Monday).
        """
        shift = datetime.timedelta(weeks=weeks)
        copy = Edition.objects.get(pk=self.pk)
        copy.pk = None
        copy.is_published = False
        copy.start_date += shift
        copy.end_date += shift
        copy.registration_deadline += shift
        if copy.invoice_on is not None:
            copy.invoice_on += shift
        copy.materials_released_from = None  # the material stays with its own edition
        copy.slug = self._free_slug(f"{slugify(self.title)}-{copy.start_date.year}")
        copy.save()
        for section in self.sections.all():
            section.pk = None
            section.edition = copy
            section.save()
        for contact in self.contacts.all():
            contact.pk = None
            contact.edition = copy
            contact.save()
        new_days = {}
        for day in self.days.all():
            old_pk = day.pk
            day.pk = None
            day.edition = copy
            day.date += shift
            day.save()
            new_days[old_pk] = day
        for session in self.sessions.all():
            session.pk = None
            session.edition = copy
            session.day = new_days.get(session.day_id)
            session.save()
        return copy

    @staticmethod
    def _free_slug(base):
        slug, n = base[:90], 2
        while Edition.objects.filter(slug=slug).exists():
            slug = f"{base[:90]}-{n}"
            n += 1
        return slug


class Section(models.Model):
    """A text section of the public page. Lines starting with '- ' become a bulleted list."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="sections")
    order = models.PositiveIntegerField("volgorde", default=0)
    heading = models.CharField("kop", max_length=200)
    body = models.TextField(
        "tekst",
        help_text="Lege regel = nieuwe alinea. Regels die beginnen met '- ' worden een opsomming.",
    )

    objects = ContentQuerySet.as_manager()

    class Meta:
        verbose_name = "tekstblok"
        verbose_name_plural = "tekstblokken"
        ordering = ["order", "pk"]

    def __str__(self):
        return self.heading


class Contact(models.Model):
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="contacts")
    order = models.PositiveIntegerField("volgorde", default=0)
    name = models.CharField("naam", max_length=100)
    topic = models.CharField(
        "waarvoor", max_length=100, help_text="Bijvoorbeeld 'inhoudelijke vragen'."
    )
    phone = models.CharField("telefoon", max_length=30)
    email = models.EmailField("e-mail", blank=True)
    is_practical_contact = models.BooleanField(
        "aanspreekpunt praktische vragen",
        default=False,
        help_text="Wordt genoemd bij een gesloten inschrijving en bij annuleren na de deadline.",
    )

    objects = ContentQuerySet.as_manager()

    class Meta:
        verbose_name = "contactpersoon"
        verbose_name_plural = "contactpersonen"
        ordering = ["order", "pk"]

    def __str__(self):
        return f"{self.name} ({self.topic})"

    @property
    def phone_uri(self):
        """A tel: URI in international form: '+31 6 21 56 11 75' -> 'tel:+31621561175'."""
        return "tel:" + re.sub(r"[^\d+]", "", self.phone)


class Day(models.Model):
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="days")
    date = models.DateField("datum")
    title = models.CharField("titel", max_length=200, blank=True)

    objects = ContentQuerySet.as_manager()

    class Meta:
        verbose_name = "dag"
        verbose_name_plural = "dagen"
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "date"], name="one_day_per_date"),
        ]

    def __str__(self):
        return f"{formats.numeric_date(self.date)} {self.title}".strip()


class Session(models.Model):
    """A programme component. Without a day or times it is part of the programme as a whole,
    which is how the organiser published it: components, not a timetable."""

    class Kind(models.TextChoices):
        INLEIDING = "inleiding", "inleiding"
        THEORIE = "theorie", "theorie"
        METHODIEK = "methodiek", "methodiek"
        CASUISTIEK = "casuistiek", "casuïstiek"
        REFLECTIE = "reflectie", "reflectie"
        COACHING = "coaching", "coaching"

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="sessions")
    day = models.ForeignKey(
        Day,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name="dag",
    )
    order = models.PositiveIntegerField("volgorde", default=0)
    start_time = models.TimeField("begintijd", null=True, blank=True)
    end_time = models.TimeField("eindtijd", null=True, blank=True)
    title = models.CharField("titel", max_length=200)
    kind = models.CharField("soort", max_length=20, choices=Kind.choices)
    description = models.TextField("beschrijving", blank=True)

    objects = ContentQuerySet.as_manager()

    class Meta:
        verbose_name = "programmaonderdeel"
        verbose_name_plural = "programmaonderdelen"
        ordering = ["day__date", "start_time", "order", "pk"]

    def __str__(self):
        return self.title

    @property
    def kind_label(self):
        """The kind as a label above the title, unless the title already says it: a
        'Methodiek' needs no 'METHODIEK' above it."""
        kind = self.get_kind_display()
        return "" if self.title.lower().startswith(kind.lower()) else kind


# Where staff still have to supply a fact, the shipped text says so in these words, so nobody
# mistakes a placeholder for the organiser's statement (and a test can find what is missing).
TO_BE_SUPPLIED = "[in te vullen door Platform31]"


class PrivacyStatement(models.Model):
    """The privacy statement of the sign-up: one row, kept up to date by staff in the admin.

    The shipped defaults describe what this site does (its data, its retention job); facts only
    Platform31 can give, such as the address for privacy questions, are left to staff.
    """

    controller = models.TextField(
        "verwerkingsverantwoordelijke",
        default="Platform31 is verantwoordelijk voor de verwerking van je gegevens. "
        "Platform31 organiseert de werkplaats samen met Van Vieren.",
    )
    purpose = models.TextField(
        "doel",
        default="We gebruiken de gegevens die je bij je inschrijving opgeeft alleen om de "
        "werkplaats te organiseren: om je inschrijving te bevestigen, je deelname voor te "
        "bereiden (zoals dieetwensen en overnachting met de locatie afstemmen) en om je "
        "organisatie te factureren. Sector en rol gebruiken we alleen voor onze statistiek.",
    )
    data = models.TextField(
        "welke gegevens",
        default="Je naam, contactgegevens, organisatie, functie, sector en rol, je eigen casus "
        "of vraag, je wensen voor dieet en toegankelijkheid, of je overnacht, en de "
        "factuurgegevens van je organisatie.",
    )
    recipients = models.TextField(
        "wie ze ziet",
        default="Medewerkers van Platform31 en de begeleiders van Van Vieren. De locatie krijgt "
        "alleen namen, dieet- en toegankelijkheidswensen en overnachtingen. Deze website "
        "stuurt niets naar derde partijen.",
    )
    cases = models.TextField(
        "je eigen casus",
        default="Na je inschrijving vragen we je op je persoonlijke pagina naar je eigen opgave of "
        "casus. Een casus kan over bewoners van een wijk gaan: beschrijf hen niet herkenbaar, "
        "zonder namen of adressen. Alleen de medewerkers van Platform31 die de werkplaats "
        "voorbereiden en je coach lezen hem; niemand anders. We wissen de casussen vanzelf een "
        "ingestelde tijd na de laatste dag van de werkplaats (standaard 4 weken).",
    )
    legal_basis = models.TextField(
        "grondslag",
        default="Met je inschrijving sluit je (of je organisatie) een overeenkomst met "
        "Platform31 over deelname aan de werkplaats. De gegevens zijn nodig om die "
        "overeenkomst uit te voeren (artikel 6 lid 1 sub b AVG); daarom vragen we voor de "
        "inschrijving zelf geen toestemming. Facturen bewaren we omdat de wet dat voorschrijft "
        "(artikel 6 lid 1 sub c AVG).",
    )
    retention = models.TextField(
        "bewaartermijn",
        default="Dieet- en toegankelijkheidswensen wissen we direct na afloop van de werkplaats. "
        "De overige gegevens van deelnemers anonimiseren we na de bewaartermijn die per editie "
        "is ingesteld (standaard 12 maanden na de laatste dag). Facturen bewaren we zeven jaar, "
        "zoals de fiscale bewaarplicht voorschrijft.",
    )
    rights = models.TextField(
        "je rechten",
        default="Je kunt je gegevens inzien, laten verbeteren of laten verwijderen, bezwaar maken "
        "en vragen om beperking van de verwerking of om je gegevens over te dragen. Je keuzes "
        "voor de werkplaats (overnachten, dieet, toegankelijkheid) wijzig je zelf via je "
        "persoonlijke link.",
    )
    complaint = models.TextField(
        "klacht",
        default="Ben je niet tevreden over hoe we met je gegevens omgaan, dan kun je een klacht "
        "indienen bij de Autoriteit Persoonsgegevens (autoriteitpersoonsgegevens.nl).",
    )
    contact = models.TextField(
        "contact voor privacyvragen",
        default=f"{TO_BE_SUPPLIED} Het adres of e-mailadres voor privacyvragen.",
        help_text="Het (e-mail)adres waar deelnemers met privacyvragen terechtkunnen.",
    )
    updated_at = models.DateTimeField("gewijzigd", auto_now=True)

    class Meta:
        verbose_name = "privacyverklaring"
        verbose_name_plural = "privacyverklaring"

    def __str__(self):
        return "Privacyverklaring"

    @classmethod
    def load(cls):
        """The statement staff keep; until they first save it, the shipped text."""
        return cls.objects.first() or cls()

    def missing_facts(self):
        """The labels of the parts where a fact from staff is still missing."""
        return [
            field.verbose_name
            for field in self._meta.get_fields()
            if isinstance(field, models.TextField) and TO_BE_SUPPLIED in getattr(self, field.name)
        ]

    def sections(self):
        """(heading, text) in the order the page shows them."""
        names = ["controller", "purpose", "data", "cases", "recipients", "legal_basis"]
        names += ["retention", "rights", "complaint", "contact"]
        return [(self._meta.get_field(n).verbose_name, getattr(self, n)) for n in names]


def new_version():
    # Random, never a counter: a number that went back (a restored backup, a rolled-back
    # transaction) must not meet the pages a worker keeps under that number.
    return secrets.randbits(62)


class PageVersion(models.Model):
    """The versions each worker checks its copy of a public workshop page against, on every
    request (programme/pages.py), so that no page is ever stale on any worker or app server.

    The content version is one for the whole site: new whenever an edition, section, contact,
    day or session is saved, deleted or changed by a queryset, by any path (admin, shell,
    commands, loaddata, migrate: see ContentQuerySet and the receivers below). It also decides
    which edition the home page shows. The places version is one per edition: new whenever
    sign-up changes the edition's registrations or waiting-list offers (registrations.models),
    so that a sign-up makes the workers ask again whether the edition is full, and no more.

    Where they live: without Redis in the database (this one row and Edition.places_version),
    written inside the transaction of the change, so they commit with it; with Redis in the
    shared cache (settings.PAGE_VERSIONS_IN_CACHE), written right after the commit, so a page
    is checked without the database. A worker reads the versions before it reads anything for
    a page, so what it renders is at least as new as the versions it files the page under.
    """

    ONE = 1
    content = models.BigIntegerField(default=new_version)

    class Meta:
        verbose_name = "paginaversie"
        verbose_name_plural = "paginaversies"

    def __str__(self):
        return f"paginaversie {self.content}"

    @classmethod
    def content_changed(cls):
        if settings.PAGE_VERSIONS_IN_CACHE:
            _set_after_commit(CONTENT_KEY)
        elif not cls.objects.filter(pk=cls.ONE).update(content=new_version()):
            # The row went (a flushed database): until it is back no copy is kept.
            cls.objects.get_or_create(pk=cls.ONE)

    @classmethod
    def places_changed(cls, edition_id):
        if settings.PAGE_VERSIONS_IN_CACHE:
            _set_after_commit(places_key(edition_id))
        else:
            # Plain SQL: every sign-up pays this, under the edition lock (and it is no change of
            # content, which an Edition queryset update would announce).
            with connection.cursor() as cursor:
                cursor.execute(PLACES_SQL, [new_version(), edition_id])

    @classmethod
    def places_of(cls, edition):
        """The places version of `edition`, just read from the database: without Redis it came
        with the row, so asking costs nothing."""
        if settings.PAGE_VERSIONS_IN_CACHE:
            return _read_cache(edition.pk)[1]
        return edition.places_version

    @classmethod
    def read(cls, edition_id=None):
        """(content version, places version of `edition_id`): one Redis round trip with Redis,
        else one query. Either is None when unknown: then no copy may be used."""
        if settings.PAGE_VERSIONS_IN_CACHE:
            return _read_cache(edition_id)
        # Plain SQL: building the ORM query would cost more than running it, on every request.
        with connection.cursor() as cursor:
            cursor.execute(VERSIONS_SQL, [edition_id, cls.ONE])
            row = cursor.fetchone()
        return row if row else (None, None)


# With Redis: the versions are keys in the shared cache. They expire, and a worker that finds
# one missing starts a new one: should a version not be set after a commit (Redis out of reach
# for that moment, or the process killed between the commit and the write), no copy of a page
# outlives this many seconds.
VERSION_SECONDS = 60
CONTENT_KEY = "page-version:content"


def places_key(edition_id):
    return f"page-version:places:{edition_id}"


def _set_after_commit(key):
    # robust: the change is committed; a failed write must not turn the answer into an error
    # (it is logged, and VERSION_SECONDS bounds what it can cost).
    transaction.on_commit(lambda: cache.set(key, new_version(), VERSION_SECONDS), robust=True)


def _read_cache(edition_id):
    keys = [CONTENT_KEY] if edition_id is None else [CONTENT_KEY, places_key(edition_id)]
    found = cache.get_many(keys)
    if len(found) < len(keys):
        for key in keys:
            if key not in found:
                cache.add(key, new_version(), VERSION_SECONDS)
        found = cache.get_many(keys)
    return found.get(CONTENT_KEY), None if edition_id is None else found.get(keys[1])


PLACES_SQL = "UPDATE {editions} SET {places} = %s WHERE {id} = %s".format(
    editions=connection.ops.quote_name(Edition._meta.db_table),
    places=connection.ops.quote_name("places_version"),
    id=connection.ops.quote_name("id"),
)
VERSIONS_SQL = (
    "SELECT v.{content}, e.{places} FROM {versions} v LEFT JOIN {editions} e ON e.{id} = %s "
    "WHERE v.{id} = %s"
).format(
    content=connection.ops.quote_name("content"),
    places=connection.ops.quote_name("places_version"),
    versions=connection.ops.quote_name(PageVersion._meta.db_table),
    editions=connection.ops.quote_name(Edition._meta.db_table),
    id=connection.ops.quote_name("id"),
)


def content_saved_or_deleted(sender, **kwargs):
    PageVersion.content_changed()


for _model in (Edition, Section, Contact, Day, Session):
    for _signal, _what in ((post_save, "saved"), (post_delete, "deleted")):
        _signal.connect(
            content_saved_or_deleted, sender=_model, dispatch_uid=f"page-{_model.__name__}-{_what}"
        )


def content_migrated(sender, **kwargs):
    """A migration may change what the pages show without a save (historical models send no
    signals to ours): every copy of a page starts afresh."""
    if sender.label == "programme":
        PageVersion.content_changed()


post_migrate.connect(content_migrated, dispatch_uid="page-content-migrated")
