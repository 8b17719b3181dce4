import datetime
import secrets
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.contrib import admin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, connection, connections, models, transaction
from django.db.models.functions import Lower
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

from programme.models import Edition, PageVersion
from registrations.history.models import OrderLogEntry, record
from werkplaats import formats
from werkplaats.formats import round_cents

from .countries import CountryField
from .organisations.identifiers import (
    electronic_address,
    kvk_and_oin,
    validate_kvk_number,
    validate_oin,
    validate_peppol_id,
)
from .organisations.models import Organisation

LOG = OrderLogEntry.Kind


def new_token():
    # 32 random bytes: the confirmation page's only key, so it must not be guessable.
    return secrets.token_urlsafe(32)


class RegistrationClosed(Exception):
    """The edition does not take sign-ups at this moment."""


class AlreadyRegistered(Exception):
    """An active registration with this e-mail address exists for the edition."""


class TransitionRefused(Exception):
    """A status change that the rules do not allow now; the message says why, in Dutch."""


class OfferRefused(Exception):
    """A waiting-list offer cannot be accepted or declined (any more); the message says why,
    in Dutch, to the participant."""


class NotEnoughPlaces(Exception):
    """An order asks for more places than are free; nothing was stored. The person signing up
    chooses what happens (WhenShort) and sends again."""

    def __init__(self, free, requested):
        super().__init__(f"{free} places free, {requested} requested")
        self.free = free
        self.requested = requested


class WhenShort(models.TextChoices):
    """What to do when an order asks for more places than are free, chosen in the form."""

    SPLIT = "split", "De eerste deelnemers krijgen de vrije plaatsen, de anderen de wachtlijst"
    ALL_WAITING = "all_waiting", "Iedereen op de wachtlijst, zodat jullie samen kunnen gaan"


# The groups of fields an order and its registrations hold, named once for the form, the admin
# and invoicing. Who ordered and where the invoice goes belong to the order; each participant's
# own details and choices to their registration.
ORDERER_FIELDS = ["first_name", "last_name", "email", "phone", "organisation"]
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


def tell_participant_hooks(event, *arguments):
    """Call what the layers built on sign-up keep of a participant for `event` ("cancelled",
    "substituted"; settings.PARTICIPANT_HOOKS), inside the caller's transaction,
    so their data changes with the registration or not at all."""
    for path in settings.PARTICIPANT_HOOKS.get(event, []):
        import_string(path)(*arguments)


def count_with_status(status):
    """An annotation for editions: how many of their registrations have `status`."""
    return models.Count("registrations", filter=models.Q(registrations__status=status))


def vat_on(base, rate):
    """The VAT on `base` at `rate` percent, rounded half-up to cents once."""
    return round_cents(Decimal(base) * Decimal(rate) / 100)


class Totals(NamedTuple):
    """What a set of participants costs at the prices agreed at sign-up."""

    count: int
    excl_vat: Decimal
    vat: Decimal

    @property
    def incl_vat(self):
        return self.excl_vat + self.vat


# What a queryset update can change of the places (PageVersion.places_changed).
PLACE_FIELDS = {"status", "edition", "edition_id"}


class RegistrationQuerySet(models.QuerySet):
    def update(self, **fields):
        """Also the places version of every edition whose places this may change: the
        transitions update the status this way, and so can the shell."""
        editions = set()
        if PLACE_FIELDS & fields.keys():
            editions = set(self.values_list("edition_id", flat=True).distinct())
            new = fields.get("edition_id", fields.get("edition"))
            if new is not None:
                editions.add(getattr(new, "pk", new))
        updated = super().update(**fields)
        for edition_id in editions:
            PageVersion.places_changed(edition_id)
        return updated

    def confirmed(self):
        return self.filter(status=Registration.Status.CONFIRMED)

    def waiting(self):
        """The waiting list of an edition as a queue: first come, first in line."""
        return self.filter(status=Registration.Status.WAITING).order_by("waiting_since", "pk")

    def active(self):
        return self.exclude(status=Registration.Status.CANCELLED)

    def totals(self):
        """Totals of these participants' agreed prices, excl. and incl. VAT.

        VAT per rate by the invoice's own rule (formats.vat_per_rate), so the booker's total
        is the invoice's; a VAT-exempt price carries none.
        """
        rows = self.values_list("price_excl_vat", "vat_rate", "vat_exemption_text")
        amounts = [(Decimal(0) if exemption else rate, price) for price, rate, exemption in rows]
        breakdown = formats.vat_per_rate(amounts)
        excl = sum((base for _rate, base, _vat in breakdown), Decimal("0.00"))
        vat = sum((vat for _rate, _base, vat in breakdown), Decimal("0.00"))
        return Totals(len(amounts), excl, vat)

    def counts(self, edition):
        """{'confirmed': n, 'waiting': n, 'offered': n} for `edition` (all its registrations),
        in one query; 'offered' counts the open offers to people on the waiting list.

        A person holds at most one open offer (one_open_offer_per_registration), so the
        registrations holding one count the offers: an uncorrelated IN, which PostgreSQL
        reads once from the open offers' index; no join with every offer ever made, and no
        COUNT(DISTINCT), whose sorts cost ~5 ms under the edition lock at 900 sign-ups.
        Plain SQL: every sign-up asks under the edition lock, and building the ORM's
        aggregate cost several times what running it does."""
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                COUNTS_SQL,
                [
                    Registration.Status.CONFIRMED,
                    Registration.Status.WAITING,
                    WaitingListOffer.State.OPEN,
                    edition.pk,
                ],
            )
            confirmed, waiting, offered = cursor.fetchone()
        return {"confirmed": confirmed, "waiting": waiting, "offered": offered}

    def places_left(self, edition, counts=None):
        """Free places of `edition` (None: no maximum): neither confirmed nor held by an open
        offer to someone on the waiting list. The one home of this rule: the sign-up, the
        transitions, the offers, the page and the admin all ask here."""
        if edition.capacity is None:
            return None
        counts = counts or self.counts(edition)
        return max(edition.capacity - counts["confirmed"] - counts["offered"], 0)

    def place_for_offer(self, edition, counts=None):
        """Whether someone holding an open offer can be confirmed now: a place is not yet
        confirmed. Offers hold places against newcomers and the queue, not against each
        other; should there be more offers than places (a maximum lowered outside the admin),
        the first to accept gets the place."""
        if edition.capacity is None:
            return True
        return (counts or self.counts(edition))["confirmed"] < edition.capacity

    def free_for_newcomers(self, edition):
        """Places someone joining `edition` now may take: none while anyone waits (the queue
        is never jumped), else places_left (None: no maximum). Ask under the edition lock.

        Whether anyone waits is one indexed EXISTS: a sign-up to a full edition, where the
        waiting list may be long, needs no count at all."""
        with connections[self.db].cursor() as cursor:
            # Plain SQL, as counts(): under the lock on every sign-up.
            cursor.execute(WAITING_SQL, [edition.pk, Registration.Status.WAITING])
            if cursor.fetchone():
                return 0
        return self.places_left(edition)

    def newcomer_waits(self, edition):
        """Whether someone joining `edition` now goes on the waiting list."""
        return self.free_for_newcomers(edition) == 0

    def register(self, edition, at=None, *, by_staff=False, by=None, **fields):
        """One person signs themselves up (the shell, commands, demo data): `fields` holds their
        details and the invoice details, split here into the order and its one registration."""
        order_fields = {
            name: fields.pop(name)
            for name in [
                *INVOICE_DETAIL_FIELDS,
                "submission_key",
                "terms_accepted_at",
                "privacy_accepted_at",
            ]
            if name in fields
        }
        registration = self.model(edition=edition, **fields)
        order = Order(
            edition=edition,
            **{name: getattr(registration, name) for name in ORDERER_FIELDS},
            **order_fields,
        )
        order.invoice_organisation = order.invoice_organisation or registration.organisation
        order.invoice_email = order.invoice_email or registration.email
        self.place(order, [registration], at=at, by_staff=by_staff, by=by)
        return registration

    def place(self, order, positions, at=None, *, by_staff=False, when_short=None, by=None):
        """Store `order` with its `positions` (new registrations), each confirmed or at the end
        of the waiting list, all or nothing.

        The edition row is locked for the transaction, so parallel sign-ups count the
        confirmed places one after another and never overbook. While anyone waits, every new
        participant joins the end of the queue: a freed place goes to the first in line. The
        deadline is checked again inside the lock (what the browser showed does not matter);
        staff adding someone by hand (`by_staff`) may do so after it.

        When some but not all positions fit, nothing is stored and NotEnoughPlaces says how
        many are free, unless `when_short` (WhenShort) says what to do: the first positions
        take the free places and the rest wait (SPLIT), or all wait (ALL_WAITING).

        The price and VAT treatment are copied from the edition as they are now: that is
        what each participant's organisation agreed to, whatever the edition says later.

        The order's history records the sign-up, or each position added to an existing
        order (a colleague added later, by staff: `by`).
        """
        at = at or timezone.now()
        try:
            with transaction.atomic():
                edition = Edition.objects.select_for_update().get(pk=order.edition_id)
                if not by_staff and not edition.registration_is_open(at):
                    raise RegistrationClosed
                if edition.price_excl_vat is None:
                    # A draft without a price yet: nobody can have agreed to one.
                    raise RegistrationClosed
                free = self.free_for_newcomers(edition)
                requested = len(positions)
                if free is None:
                    confirmed = requested
                elif requested <= free:
                    confirmed = requested
                elif free == 0 or when_short == WhenShort.SPLIT:
                    confirmed = free
                elif when_short == WhenShort.ALL_WAITING:
                    confirmed = 0
                else:
                    raise NotEnoughPlaces(free, requested)
                order.edition = edition
                new_order = order._state.adding
                if new_order:
                    order.save(force_insert=True)
                for number, registration in enumerate(positions):
                    if number < confirmed:
                        registration.status = Registration.Status.CONFIRMED
                    else:
                        registration.status = Registration.Status.WAITING
                        # The order's participants queue in the order the form listed them.
                        registration.waiting_since = at + datetime.timedelta(microseconds=number)
                    registration.edition = edition
                    registration.order = order
                    registration.price_excl_vat = edition.price_excl_vat
                    registration.vat_rate = edition.vat_rate
                    registration.vat_exemption_text = edition.vat_exemption_text
                    registration._placing = True
                    try:
                        registration.save(force_insert=True)
                    finally:
                        registration._placing = False
                _record_placed(order, positions, new_order, by, at)
                PageVersion.places_changed(edition.pk)
        except IntegrityError:
            # One active registration per e-mail address: the database constraint is the check,
            # so it also holds for a duplicate that arrives at the same moment.
            raise AlreadyRegistered from None
        return positions

    def delete(self):
        """Delete, and offer the places confirmed registrations held to the waiting list
        (the caller queues their mail: registrations.tasks.queue_offer_mails)."""
        with transaction.atomic():
            editions = list(
                Edition.objects.select_for_update()
                .filter(pk__in=self.values("edition_id"))
                .order_by("pk")
            )
            deleted = super().delete()
            for edition in editions:
                PageVersion.places_changed(edition.pk)
                WaitingListOffer.objects.offer_free_places(edition)
        return deleted

    def active_emails(self, edition, emails):
        """Which of `emails` (lower case) already have an active registration for `edition`:
        the form's check before the database constraint (one_active_registration_per_email),
        read from that constraint's index. Plain SQL: every sign-up asks, and the ORM's
        query cost five times what running it does."""
        lowered = sorted({email.lower() for email in emails})
        if not lowered:
            return set()
        sql = ACTIVE_EMAILS_SQL.format(emails=", ".join(["%s"] * len(lowered)))
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, [edition.pk, Registration.Status.CANCELLED, *lowered])
            return {email for (email,) in cursor.fetchall()}

    def active_with_email(self, edition, email):
        """The active registration for `edition` made with `email` (any case), if any."""
        return self.active().filter(edition=edition, email__iexact=email.strip()).first()


def _record_placed(order, positions, new_order, by, at):
    def each(registration):
        return f"{registration.reference} {registration.get_status_display()}"

    if new_order:
        text = f"{len(positions)} deelnemer(s): {', '.join(each(r) for r in positions)}"
        record(order, LOG.ORDER_PLACED, text, by=by, at=at)
        return
    for registration in positions:
        record(order, LOG.POSITION_ADDED, each(registration), by, registration, at)


class OrderQuerySet(models.QuerySet):
    def submitted_with(self, edition, submission_key):
        """The order that this same form page already stored, if any.

        A double-clicked submit sends the form twice with the same key; the second should
        land on the first's confirmation, not on "already registered". Without a key (or
        from another form page) nothing matches, so a stranger who knows an e-mail address
        never reaches anyone's confirmation page.
        """
        if not submission_key:
            return None
        return self.filter(edition=edition, submission_key=submission_key).first()

    def held_for_invoicing(self):
        """Orders with confirmed participants that cannot be invoiced yet (invoicing_blocker
        says why): the same rule as Order.invoicing_blocker(), in SQL, for finance's
        worklist. Invoicing narrows it to the orders with someone still to invoice."""
        blocked = models.Q(pk__in=[])
        for condition in blocking_conditions().values():
            blocked |= condition
        confirmed = Registration.objects.filter(
            order=models.OuterRef("pk"), status=Registration.Status.CONFIRMED
        )
        return self.filter(blocked).filter(models.Exists(confirmed))


# Why an order waits with invoicing, as finance reads it (Order.invoicing_blocker).
NO_IDENTIFIER = (
    "Nederlandse klant zonder KvK-nummer of OIN: koppel de organisatie (of vul het nummer in "
    "bij de bestelling), dan kan de factuur weg."
)
PO_REQUIRED = (
    "{organisation} wil een inkoopordernummer of verplichtingnummer op elke factuur; vul het "
    "in bij de bestelling."
)


def blocking_conditions():
    """{reason: Q} of the orders that cannot be invoiced yet, in the order the reasons are
    given; the SQL of Order.invoicing_blocker() (see there)."""
    # Written without negation: NOT over the outer join's NULLs would drop unlinked orders.
    addressed_by_debtor = models.Q(debtor__invoice_street__gt="")
    addressed_by_order = models.Q(debtor__isnull=True) | models.Q(debtor__invoice_street="")
    dutch = (addressed_by_debtor & models.Q(debtor__invoice_country="NL")) | (
        addressed_by_order & models.Q(invoice_country="NL")
    )
    identified = models.Q(pk__in=[])
    for prefix in ("", "debtor__"):
        identified |= (
            models.Q(**{f"{prefix}kvk_number__gt": ""})
            | models.Q(**{f"{prefix}oin__gt": ""})
            | models.Q(**{f"{prefix}peppol_id__startswith": "0106:"})
            | models.Q(**{f"{prefix}peppol_id__startswith": "0190:"})
        )
    return {
        NO_IDENTIFIER: dutch & ~identified,
        PO_REQUIRED: models.Q(debtor__requires_po=True, po_number=""),
    }


class InvoiceDetails:
    """Where an order's invoice goes and who the buyer is: the linked organisation's details,
    each falling back to what the booker typed on the order (the address as a whole)."""

    def __init__(self, order):
        debtor = order.debtor
        address = debtor if debtor is not None and debtor.has_address else None
        self.organisation = debtor.name if debtor is not None else order.invoice_organisation
        self.attention = (address and address.invoice_attention) or order.invoice_attention
        source = address or order
        self.street = source.invoice_street
        self.postcode = source.invoice_postcode
        self.city = source.invoice_city
        self.country = source.invoice_country
        self.email = (debtor and debtor.invoice_email) or order.invoice_email
        self.vat_id = (debtor and debtor.vat_id) or order.vat_id
        kvk_number = (debtor and debtor.kvk_number) or order.kvk_number
        oin = (debtor and debtor.oin) or order.oin
        peppol_id = (debtor and debtor.peppol_id) or order.peppol_id
        self.kvk_number, self.oin = kvk_and_oin(kvk_number, oin, peppol_id)
        # The e-invoice's EndpointID (Peppol ready): the Peppol ID, else OIN, else KvK.
        self.peppol_id = electronic_address(self.kvk_number, self.oin, peppol_id)
        # None: the issuer's own term.
        self.payment_term_days = debtor.payment_term_days if debtor is not None else None
        self.requires_po = bool(debtor and debtor.requires_po)


class Order(models.Model):
    """One sign-up: who sent it, where the invoice goes, and the participants it holds
    (its positions, as pretix calls them): the person themselves and/or colleagues."""

    edition = models.ForeignKey(
        Edition, on_delete=models.PROTECT, related_name="orders", verbose_name="editie"
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)

    first_name = models.CharField("voornaam", max_length=100)
    last_name = models.CharField("achternaam", max_length=100)
    email = models.EmailField("e-mailadres", max_length=254)
    phone = models.CharField("telefoonnummer", max_length=30, blank=True)
    organisation = models.CharField("organisatie", max_length=200)
    # The organisation in finance's register: matched on KvK number or OIN when the order is
    # stored, else linked by finance. Its details go on the invoice (InvoiceDetails).
    debtor = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name="organisatie uit het register",
    )

    invoice_organisation = models.CharField("organisatie (factuur)", max_length=200)
    invoice_attention = models.CharField("ter attentie van", max_length=200, blank=True)
    invoice_street = models.CharField(
        "straat en huisnummer",
        max_length=200,
        help_text="Een postbus mag ook, bijvoorbeeld Postbus 16200.",
    )
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

    # A random value from the form page; see OrderQuerySet.submitted_with.
    submission_key = models.CharField(
        "formuliersleutel", max_length=64, blank=True, default="", editable=False
    )
    terms_accepted_at = models.DateTimeField("akkoord voorwaarden op", null=True, blank=True)
    privacy_accepted_at = models.DateTimeField(
        "privacyverklaring getoond op", null=True, blank=True
    )
    created_at = models.DateTimeField("ingeschreven op", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("gewijzigd", auto_now=True)
    anonymised_at = models.DateTimeField("geanonimiseerd op", null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = "bestelling"
        verbose_name_plural = "bestellingen"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.reference} – {self.invoice_organisation}"

    def save(self, *args, **kwargs):
        """Also links the organisation of the register with the order's KvK number or OIN,
        on every path that stores an order (the form, the admin, the shell). An order
        without either costs no query here."""
        if self.debtor_id is None and kwargs.get("update_fields") is None:
            if self.kvk_number or self.oin or self.peppol_id:
                self.debtor = Organisation.objects.identified_by(
                    self.kvk_number, self.oin, self.peppol_id
                )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("registrations:order", args=[self.token])

    @property
    @admin.display(description="referentie")
    def reference(self):
        """A short reference for logs, conversations and finance; carries no personal data."""
        return f"BST-{self.pk:05d}" if self.pk else "BST-nieuw"

    @property
    @admin.display(description="besteld door")
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def totals(self):
        """{'confirmed': Totals, 'waiting': Totals}: what the confirmed participants cost,
        and what those waiting would add if they get a place (cancelled ones cost nothing)."""
        return {
            "confirmed": self.positions.confirmed().totals(),
            "waiting": self.positions.filter(status=Registration.Status.WAITING).totals(),
        }

    def booker_is(self, email):
        """Whether `email` is the booker's own address: she needs no notice of her own act."""
        return email.strip().lower() == self.email.strip().lower()

    def confirmation_url(self, positions=None):
        """Where the sign-up lands: the participant's own page when they signed up only
        themselves, otherwise this overview. `positions`: the order's, when at hand."""
        positions = list(self.positions.all()[:2]) if positions is None else positions
        if len(positions) == 1 and positions[0].email.lower() == self.email.lower():
            return positions[0].get_absolute_url()
        return self.get_absolute_url()

    def invoice_details(self):
        return InvoiceDetails(self)

    def invoicing_blocker(self):
        """Why this order cannot be invoiced yet, in Dutch, or "": a Dutch buyer without KvK
        number or OIN (BR-NL-10 of SI-UBL 2.0: the e-invoice must name it), or an
        organisation that asks a purchase order number on every invoice when the order has
        none. OrderQuerySet.held_for_invoicing() is the same rule in SQL."""
        details = self.invoice_details()
        if details.country == "NL" and not (details.kvk_number or details.oin):
            return NO_IDENTIFIER
        if details.requires_po and not self.po_number:
            return PO_REQUIRED.format(organisation=self.debtor.name)
        return ""

    def invoicing_unblocked(self):
        """Whether the order can be invoiced now: asked where a blocker may have gone (finance
        linked or corrected its organisation), so invoicing can follow there."""
        return not self.invoicing_blocker()

    def link_debtor(self, organisation):
        """Link the order to `organisation` of the register; returns invoicing_unblocked()."""
        self.debtor = organisation
        Order.objects.filter(pk=self.pk).update(debtor=organisation, updated_at=timezone.now())
        return self.invoicing_unblocked()

    def suggested_debtors(self):
        """The organisations finance may link: the one with the order's KvK number or OIN, else
        those with its invoice name (case and extra spaces ignored)."""
        identified = Organisation.objects.identified_by(self.kvk_number, self.oin, self.peppol_id)
        if identified is not None:
            return [identified]
        return list(Organisation.objects.named(self.invoice_organisation)[:5])

    def debtor_from_details(self):
        """The organisation for this order as typed: the one with its KvK number or OIN, else a
        new one made from its invoice details. It does not link it: link_debtor() does."""
        identified = Organisation.objects.identified_by(self.kvk_number, self.oin, self.peppol_id)
        if identified is not None:
            return identified
        kvk_number, oin = kvk_and_oin(self.kvk_number, self.oin, self.peppol_id)
        return Organisation.objects.create(
            name=self.invoice_organisation,
            kvk_number=kvk_number,
            oin=oin,
            vat_id=self.vat_id,
            peppol_id=self.peppol_id,
            invoice_attention=self.invoice_attention,
            invoice_street=self.invoice_street,
            invoice_postcode=self.invoice_postcode,
            invoice_city=self.invoice_city,
            invoice_country=self.invoice_country,
            invoice_email=self.invoice_email,
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
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="positions", verbose_name="bestelling"
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
    # Asked of whoever signs up, not of the colleagues they add; sector and role only serve
    # the statistics, so nobody has to give them.
    phone = models.CharField("telefoonnummer", max_length=30, blank=True)
    organisation = models.CharField("organisatie", max_length=200)
    job_title = models.CharField("functie", max_length=200, blank=True)
    sector = models.CharField("sector", max_length=20, choices=Sector.choices, blank=True)
    role = models.CharField("rol", max_length=20, choices=Role.choices, blank=True)
    own_case = models.TextField("eigen casus of vraag", max_length=2000, blank=True)
    dietary_needs = models.CharField("dieetwensen", max_length=500, blank=True)
    accessibility_needs = models.CharField(
        "toegankelijkheid of andere wensen", max_length=500, blank=True
    )
    overnight_stay = models.BooleanField("overnachten op de locatie", default=True)

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
                "Een nieuwe inschrijving gaat via Registration.objects.place(): "
                "die kiezen onder de editievergrendeling tussen bevestigd en wachtlijst."
            )
        stored_edition = getattr(self, "_stored_edition_id", None)
        if stored_edition is not None and self.edition_id != stored_edition:
            # Moving would free a place there without offering it and fill one here without
            # the sign-up's checks: a cancellation there and a sign-up here, each by the rules.
            self.edition_id = stored_edition
            raise TransitionRefused(
                "Een inschrijving verhuist niet naar een andere editie: annuleer haar en schrijf "
                "opnieuw in voor de andere editie."
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
        self._stored_edition_id = self.edition_id

    def get_absolute_url(self):
        return reverse("registrations:detail", args=[self.token])

    def delete(self, *args, **kwargs):
        """Delete, and offer the place a confirmed registration held to the waiting list
        (the caller queues its mail: registrations.tasks.queue_offer_mails)."""
        with transaction.atomic():
            edition = Edition.objects.select_for_update().get(pk=self.edition_id)
            deleted = super().delete(*args, **kwargs)
            PageVersion.places_changed(edition.pk)
            WaitingListOffer.objects.offer_free_places(edition)
        return deleted

    @classmethod
    def from_db(cls, db, field_names, values):
        registration = super().from_db(db, field_names, values)
        registration._stored_status = registration.__dict__.get("status")
        registration._stored_edition_id = registration.__dict__.get("edition_id")
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
    def invoice_notice(self):
        """Where and when the invoice goes, as this participant is told: to the order's
        invoice address, when the edition's choice says (Edition.invoice_timing). A
        colleague whom someone else signed up hears that it does not come to them."""
        order = self.order
        timing = self.edition.invoice_timing()
        when = f"{timing} " if timing else ""
        ours = {order.email.lower(), order.invoice_email.lower()}
        if self.email.lower() not in ours:
            return f"De factuur gaat {when}per e-mail naar {order.invoice_email}, niet naar jou"
        return f"De factuur komt {when}per e-mail naar {order.invoice_email}"

    @property
    def vat_exempt(self):
        return bool(self.vat_exemption_text)

    @property
    def booker_key(self):
        """This participant's key on the booker's order page: derived from, but never
        revealing, their own token (the booker must not reach their personal page), and not
        sequential (tests/test_authorisation.py). A substitute's new token gives a new key."""
        return salted_hmac("registrations.booker-key", self.token).hexdigest()[:24]

    @property
    def price_incl_vat(self):
        """The agreed price with its VAT, what a budget holder books (none when exempt)."""
        if self.vat_exempt:
            return round_cents(self.price_excl_vat)
        return round_cents(self.price_excl_vat) + vat_on(self.price_excl_vat, self.vat_rate)

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

    def _transition(self, to, allowed_from, check, by=None, **fields):
        """Lock the edition and this row, check the rule, change the status, in one go.

        Leaving the waiting list closes the registration's open offer (taken when confirmed,
        withdrawn when cancelled), and whatever place a transition frees is offered to the
        waiting list in the same transaction: every path that frees one passes here. The
        offers' mail is queued by the caller (registrations.tasks.queue_offer_mails). The
        order's history records the step (`by`: the staff member, None for the participant).
        """
        with transaction.atomic():
            edition = Edition.objects.select_for_update().get(pk=self.edition_id)
            current = Registration.objects.select_for_update().get(pk=self.pk)
            if current.status not in allowed_from:
                raise TransitionRefused(
                    f"{current.reference} is {current.get_status_display()}; dat kan hier niet."
                )
            check(current, edition)
            now = timezone.now()
            changes = {"status": to, "updated_at": now, **fields}
            try:
                with transaction.atomic():
                    Registration.objects.filter(pk=self.pk).update(**changes)
            except IntegrityError:
                raise TransitionRefused(
                    f"{current.reference} kan niet terug: met dit e-mailadres is al iemand "
                    "anders actief ingeschreven voor deze editie."
                ) from None
            taken = False
            if to == self.Status.CANCELLED:
                tell_participant_hooks("cancelled", current)
            if current.status == self.Status.WAITING and to != self.Status.WAITING:
                taken = to == self.Status.CONFIRMED
                closed = current.offers.open().update(
                    state=WaitingListOffer.State.ACCEPTED
                    if taken
                    else WaitingListOffer.State.WITHDRAWN,
                    closed_at=now,
                )
                taken = taken and closed
            record(current.order_id, *current._step(to, taken), by, current, now)
            WaitingListOffer.objects.offer_free_places(edition, at=now)
        for name, value in changes.items():
            setattr(self, name, value)
        self._stored_status = to
        return self

    def _step(self, to, offer_taken):
        """(kind, text) of the order's history for this registration moving to `to`."""
        label = self.Status(to).label
        if to == self.Status.CANCELLED:
            was = " (stond op de wachtlijst)" if self.status == self.Status.WAITING else ""
            return LOG.CANCELLED, f"{self.reference} geannuleerd{was}"
        if self.status == self.Status.CANCELLED:
            return LOG.REINSTATED, f"{self.reference} teruggezet: {label}"
        if offer_taken:
            return LOG.OFFER_ACCEPTED, f"{self.reference} nam het aanbod aan: {label}"
        return LOG.CONFIRMED, f"{self.reference} {label} vanaf de wachtlijst"

    def confirm_from_waiting_list(self, by=None):
        """Give the first in line a freed place. Refused when a place is not free or someone
        has waited longer. Whoever holds an open offer may be confirmed on its place."""

        def check(current, edition):
            if current.position_on_waiting_list() != 1:
                raise TransitionRefused(
                    f"{current.reference} staat niet vooraan op de wachtlijst; bevestig eerst "
                    "wie langer wacht."
                )
            places = Registration.objects
            if current.offers.open().exists():
                full = not places.place_for_offer(edition)
            else:
                full = places.places_left(edition) == 0
            if full:
                raise TransitionRefused(
                    f"{current.reference} niet bevestigd: de editie is vol "
                    f"({edition.capacity} plaatsen)."
                )

        return self._transition(self.Status.CONFIRMED, {self.Status.WAITING}, check, by)

    def cancel(self, at=None, by=None):
        """Cancel (the participant on their page, or staff at any time). An invoiced
        registration then waits in finance's 'te crediteren' queue; the caller queues who
        hears of it (registrations.tasks.queue_cancellation_notices)."""
        return self._transition(
            self.Status.CANCELLED,
            {self.Status.CONFIRMED, self.Status.WAITING},
            lambda current, edition: None,
            by,
            cancelled_at=at or timezone.now(),
        )

    def reinstate(self, at=None, by=None):
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
                by,
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
            change = RegistrationChange.record(self, RegistrationChange.Kind.CHOICES, changed, at)
            # The fields' names, never their values (diet and accessibility are sensitive).
            text = f"{self.reference}: {change.fields}"
            record(current.order_id, LOG.CHOICES_CHANGED, text, registration=self, at=at)
            return change

    def name_substitute(self, at=None, by_booker=False, **person):
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
            if Registration.objects.active_with_email(current.edition, person["email"]):
                raise TransitionRefused(
                    "Met dit e-mailadres is al iemand ingeschreven voor deze werkplaats."
                )
            try:
                with transaction.atomic():
                    Registration.objects.filter(pk=self.pk).update(**changes)
            except IntegrityError:
                # The database keeps an invoiced participant's name as the invoice has it.
                raise TransitionRefused(
                    "De factuur voor deze plaats staat al op jouw naam. Neem contact op met de "
                    "organisatie om een vervanger aan te melden; zij passen de factuur aan."
                ) from None
            for name, value in changes.items():
                setattr(self, name, value)
            record(
                current.order_id,
                LOG.SUBSTITUTE,
                f"{self.reference}: plaats overgedragen aan een collega (nieuwe persoonlijke link)",
                registration=self,
                at=at,
            )
            tell_participant_hooks("substituted", self)
            return RegistrationChange.record(
                self,
                RegistrationChange.Kind.SUBSTITUTE,
                dict.fromkeys(SUBSTITUTE_FIELDS),
                at,
                by_booker=by_booker,
                previous_name=current.full_name,
                previous_email=current.email,
                previous_token=current.token,
            )


class RegistrationChange(models.Model):
    """A change a participant made on their own page: the record staff (and an audit) read.

    It names the fields that changed, never their values: diet and accessibility wishes must
    not outlive the registration's own retention. A substitute's record keeps who handed the
    place over (to tell them and the booker), and retention erases that with the registration.
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
    # Whoever signed up the order made the change on the order page, not the participant.
    by_booker = models.BooleanField("door de besteller", default=False)
    # A substitute: who handed the place over, so they and the booker can be told (erased
    # with the registration by retention.anonymise), and the old link, which then says the
    # place was handed over instead of a bare "not found".
    previous_name = models.CharField("vorige deelnemer", max_length=201, blank=True)
    previous_email = models.EmailField("e-mailadres vorige deelnemer", max_length=254, blank=True)
    previous_token = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    class Meta:
        verbose_name = "wijziging door de deelnemer"
        verbose_name_plural = "wijzigingen door de deelnemer"
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.fields}"

    @classmethod
    def handed_over(cls, token):
        """The substitute record whose old personal link is `token`, if any."""
        if not token:
            return None
        found = cls.objects.filter(kind=cls.Kind.SUBSTITUTE, previous_token=token)
        return found.select_related("registration__edition").first()

    @classmethod
    def record(cls, registration, kind, changed, at, **extra):
        labels = [str(Registration._meta.get_field(name).verbose_name) for name in changed]
        return cls.objects.create(
            registration=registration, kind=kind, fields=", ".join(labels), at=at, **extra
        )


class WaitingListOfferQuerySet(models.QuerySet):
    def update(self, **fields):
        """An open offer holds a place: a changed state changes the places of its edition."""
        editions = set()
        if "state" in fields:
            editions = set(self.values_list("registration__edition_id", flat=True).distinct())
        updated = super().update(**fields)
        for edition_id in editions:
            PageVersion.places_changed(edition_id)
        return updated

    def open(self):
        return self.filter(state=WaitingListOffer.State.OPEN)

    def lapsed(self, at=None):
        """Open offers whose time is up; the next offer_free_places (or the job) expires them."""
        return self.open().filter(expires_at__lte=at or timezone.now())

    def expiring(self, at=None, hours=24):
        """Open offers that lapse within `hours`: unless someone answers, the place moves on."""
        at = at or timezone.now()
        return self.open().filter(
            expires_at__gt=at, expires_at__lte=at + datetime.timedelta(hours=hours)
        )

    def unmailed(self, at=None):
        """Open offers whose mail has not gone out (yet): the expiry job catches up on them."""
        return self.open().filter(emailed_at__isnull=True, expires_at__gt=at or timezone.now())

    def offer_free_places(self, edition, at=None):
        """Expire the edition's lapsed offers, then offer each free place to the next in line.

        Call it with `edition` locked (select_for_update) inside the transaction that freed
        the place; it is idempotent, so calling it when nothing changed does nothing. Offers
        go in queue order to people waiting without an open offer who have not let one
        expire (one automatic offer each: the queue moves on instead of mailing someone who
        does not answer again and again; staff can still confirm them by hand). Nothing is
        offered while the edition's automatic offers are off, unpublished, or once it has
        started; an offer never runs past the start. Returns the new offers; it queues no
        mail: the view, action or command that freed the place queues it in this same
        transaction (registrations.tasks.queue_offer_mails).
        """
        at = at or timezone.now()
        for offer in (
            self.lapsed(at).filter(registration__edition=edition).select_related("registration")
        ):
            offer.expire(at)
        starts_at = edition.starts_at()
        if not (edition.waiting_list_offers and edition.is_published and at < starts_at):
            return []
        passed_over = models.Q(
            offers__state__in=[WaitingListOffer.State.OPEN, WaitingListOffer.State.EXPIRED]
        )
        queue = Registration.objects.filter(edition=edition).waiting().exclude(passed_over)
        free = Registration.objects.places_left(edition)
        if free is not None:
            queue = queue[:free]
        expires_at = min(at + datetime.timedelta(hours=edition.offer_validity_hours), starts_at)
        offers = []
        for registration in queue:
            offers.append(
                self.create(registration=registration, offered_at=at, expires_at=expires_at)
            )
            text = f"{registration.reference}: plaats aangeboden tot {formats.moment(expires_at)}"
            record(registration.order_id, LOG.OFFER_MADE, text, registration=registration, at=at)
        return offers


class WaitingListOffer(models.Model):
    """A freed place, held for one person on the waiting list until `expires_at`.

    Made by offer_free_places whenever a place frees up; the person accepts or declines it
    through the offer's own link. While open it holds its place (places_left counts it), so
    a newcomer never takes it and it is never offered twice.
    """

    class State(models.TextChoices):
        OPEN = "open", "uitstaand"
        ACCEPTED = "accepted", "aangenomen"
        DECLINED = "declined", "afgewezen"
        EXPIRED = "expired", "verlopen"
        WITHDRAWN = "withdrawn", "vervallen"

    registration = models.ForeignKey(
        Registration, on_delete=models.CASCADE, related_name="offers", verbose_name="inschrijving"
    )
    # The offer page's only key, apart from the registration's own link.
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    state = models.CharField(
        "stand", max_length=20, choices=State.choices, default=State.OPEN, editable=False
    )
    offered_at = models.DateTimeField("aangeboden op", default=timezone.now, editable=False)
    expires_at = models.DateTimeField("geldig tot", editable=False)
    closed_at = models.DateTimeField("afgehandeld op", null=True, blank=True, editable=False)
    emailed_at = models.DateTimeField("e-mail verstuurd op", null=True, blank=True, editable=False)

    objects = WaitingListOfferQuerySet.as_manager()

    class Meta:
        verbose_name = "wachtlijstaanbod"
        verbose_name_plural = "wachtlijstaanbiedingen"
        ordering = ["-offered_at", "-pk"]
        constraints = [
            # Never two open offers for one person, also when two transactions try at once.
            models.UniqueConstraint(
                fields=["registration"],
                condition=models.Q(state="open"),
                name="one_open_offer_per_registration",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(state="open", closed_at__isnull=True)
                    | (~models.Q(state="open") & models.Q(closed_at__isnull=False))
                ),
                name="offer_closed_exactly_when_closed_at",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("offered_at")),
                name="offer_expires_after_it_is_made",
            ),
        ]

    def __str__(self):
        return f"Aanbod aan {self.registration.reference}: {self.get_state_display()}"

    def get_absolute_url(self):
        return reverse("registrations:offer", args=[self.token])

    def state_at(self, at=None):
        """The state as the participant sees it: an open offer whose time is up has expired,
        whether or not the job has marked it yet."""
        if self.state == self.State.OPEN and self.expires_at <= (at or timezone.now()):
            return self.State.EXPIRED
        return self.state

    def expire(self, at):
        """Time is up: the offer closes and its holder moves to the end of the queue (still
        waiting; see offer_free_places). Under the edition lock, from offer_free_places."""
        updated = (
            WaitingListOffer.objects.open()
            .filter(pk=self.pk)
            .update(state=self.State.EXPIRED, closed_at=at)
        )
        if updated:
            Registration.objects.filter(pk=self.registration_id).waiting().update(
                waiting_since=at, updated_at=at
            )
            registration = self.registration
            text = f"{registration.reference}: aanbod verlopen, weer achteraan op de wachtlijst"
            record(registration.order_id, LOG.OFFER_EXPIRED, text, registration=registration, at=at)

    def _locked(self, at):
        """Lock the edition and this offer; (edition, offer as stored, why it cannot be
        answered or None)."""
        edition = Edition.objects.select_for_update().get(pk=self.registration.edition_id)
        offer = WaitingListOffer.objects.select_for_update().get(pk=self.pk)
        state = offer.state_at(at)
        refusals = {
            self.State.ACCEPTED: "Je hebt dit aanbod al aangenomen: je inschrijving is bevestigd.",
            self.State.DECLINED: "Je hebt dit aanbod al afgewezen.",
            self.State.EXPIRED: "Dit aanbod is verlopen; de plaats is aangeboden aan de "
            "volgende op de wachtlijst.",
            self.State.WITHDRAWN: "Dit aanbod geldt niet meer.",
        }
        return edition, offer, refusals.get(state)

    def accept(self, at=None):
        """Take the place: confirmed when the offer is open and valid at this instant (to the
        second) and a place is still there, all under the edition lock. Otherwise refused
        (OfferRefused); an offer found lapsed is expired and its place goes to the next.
        The refusal is raised after that is committed; a caller holding its own transaction
        catches it inside, or rolls the expiry back with it."""
        at = at or timezone.now()
        with transaction.atomic():
            edition, offer, refusal = self._locked(at)
            if refusal is None and not Registration.objects.place_for_offer(edition):
                WaitingListOffer.objects.filter(pk=offer.pk).update(
                    state=self.State.WITHDRAWN, closed_at=at
                )
                refusal = (
                    "Sorry, de plaats is er niet meer: de editie is vol. Je blijft op de "
                    "wachtlijst staan."
                )
            if refusal is None:
                # Closes this offer as accepted (see Registration._transition).
                self.registration._transition(
                    Registration.Status.CONFIRMED,
                    {Registration.Status.WAITING},
                    lambda current, edition: None,
                )
            else:
                WaitingListOffer.objects.offer_free_places(edition, at=at)
        self.refresh_from_db()
        if refusal:
            raise OfferRefused(refusal)
        return self.registration

    def decline(self, at=None):
        """Say no: the offer closes, the registration is cancelled (off the waiting list) and
        the place goes to the next in line, in one transaction."""
        at = at or timezone.now()
        with transaction.atomic():
            edition, offer, refusal = self._locked(at)
            if refusal is None:
                WaitingListOffer.objects.filter(pk=offer.pk).update(
                    state=self.State.DECLINED, closed_at=at
                )
                registration = self.registration
                text = f"{registration.reference} wees het aanbod af"
                record(
                    registration.order_id,
                    LOG.OFFER_DECLINED,
                    text,
                    registration=registration,
                    at=at,
                )
                registration.cancel(at=at)
            else:
                WaitingListOffer.objects.offer_free_places(edition, at=at)
        self.refresh_from_db()
        if refusal:
            raise OfferRefused(refusal)
        return self.registration


def offer_made_or_deleted(sender, instance, created=True, **kwargs):
    """An open offer holds a place: a new or deleted offer changes its edition's places, also
    one made or deleted with a plain model call in the shell (a state change goes through
    WaitingListOfferQuerySet.update). A receiver because nothing of ours is called there."""
    if not created:
        return
    edition_id = (
        Registration.objects.filter(pk=instance.registration_id)
        .values_list("edition_id", flat=True)
        .first()
    )
    if edition_id is not None:  # else the registration went too, and said so itself
        PageVersion.places_changed(edition_id)


post_save.connect(offer_made_or_deleted, sender=WaitingListOffer, dispatch_uid="offer-saved")
post_delete.connect(offer_made_or_deleted, sender=WaitingListOffer, dispatch_uid="offer-deleted")


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
        CASES_ERASED = "cases_erased", "casussen gewist"
        # One person asked to be erased (registrations/privacy): the same rules, earlier.
        ERASED_ON_REQUEST = "erased", "gewist op verzoek"

    edition = models.ForeignKey(
        Edition, on_delete=models.PROTECT, related_name="retention_records", verbose_name="editie"
    )
    action = models.CharField("wat", max_length=20, choices=Action.choices)
    registrations = models.PositiveIntegerField("aantal inschrijvingen")
    # The one figure the statistics need from what this step erased: how many confirmed
    # participants had a diet wish. The count stays, the wishes go (registrations.statistics).
    confirmed_with_diet = models.PositiveIntegerField("bevestigd met dieetwens (aantal)", default=0)
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


def _sql(text, **tables):
    """`text` with quoted names: the tables given, and any other {name} a column."""
    return text.format(
        **{name: connection.ops.quote_name(model._meta.db_table) for name, model in tables.items()},
        **{
            name: connection.ops.quote_name(name)
            for name in ("status", "id", "registration_id", "state", "edition_id", "email")
        },
        emails="{emails}",
    )


# RegistrationQuerySet.free_for_newcomers: whether anyone waits, by an indexed EXISTS.
WAITING_SQL = _sql(
    "SELECT 1 FROM {registrations} WHERE {edition_id} = %s AND {status} = %s LIMIT 1",
    registrations=Registration,
)
# RegistrationQuerySet.active_emails; {emails}: a placeholder per address. The condition is
# the one_active_registration_per_email index's, so PostgreSQL reads that index.
ACTIVE_EMAILS_SQL = _sql(
    "SELECT LOWER({email}) FROM {registrations} WHERE {edition_id} = %s "
    "AND NOT ({status} = %s) AND LOWER({email}) IN ({emails})",
    registrations=Registration,
)
# RegistrationQuerySet.counts. COUNT of a CASE without ELSE counts the rows it matches, on
# PostgreSQL and SQLite alike.
COUNTS_SQL = _sql(
    "SELECT COUNT(CASE WHEN {status} = %s THEN 1 END), COUNT(CASE WHEN {status} = %s THEN 1 END), "
    "COUNT(CASE WHEN {id} IN (SELECT {registration_id} FROM {offers} WHERE {state} = %s) "
    "THEN 1 END) FROM {registrations} WHERE {edition_id} = %s",
    offers=WaitingListOffer,
    registrations=Registration,
)
