"""The register of organisations (debtors): each organisation known once, by name and KvK
number or OIN, with where its invoices go and what it asks of them. Finance keeps it; an
order links to one (registrations.models.Order.debtor), and invoicing takes the customer's
details from it."""

from django.core.validators import MinValueValidator
from django.db import models, transaction

from ..countries import CountryField
from .identifiers import (
    kvk_and_oin,
    name_key,
    validate_kvk_number,
    validate_oin,
    validate_peppol_id,
)

# The bookkeeping's first debtor number, when finance has given none yet.
FIRST_DEBTOR_NUMBER = 10001


class OrganisationQuerySet(models.QuerySet):
    def identified_by(self, kvk_number="", oin="", peppol_id=""):
        """The organisation with this KvK number or OIN (either may come from the Peppol ID),
        or None: the automatic match of an order, as unique as the numbers are."""
        kvk_number, oin = kvk_and_oin(kvk_number, oin, peppol_id)
        condition = models.Q(pk__in=[])
        if kvk_number:
            condition |= models.Q(kvk_number=kvk_number)
        if oin:
            condition |= models.Q(oin=oin)
        return self.filter(condition).order_by("pk").first()

    def named(self, name):
        """The organisations whose name is `name`, case and extra spaces ignored: a
        suggestion for finance, never linked without them."""
        key = name_key(name)
        return self.filter(name_key=key) if key else self.none()

    def numbered(self, organisations):
        """Give each of `organisations` without a debtor number the next free one, in one
        transaction under a lock on the highest, so two exports at once never give one
        number twice. Returns {organisation pk: debtor number}."""
        with transaction.atomic():
            locked = list(
                self.select_for_update().filter(pk__in=[o.pk for o in organisations]).order_by("pk")
            )
            missing = [o for o in locked if o.debtor_number is None]
            if missing:
                # Lock the highest numbered row too: the next number follows from it.
                last = (
                    self.select_for_update()
                    .filter(debtor_number__isnull=False)
                    .order_by("-debtor_number")
                    .first()
                )
                number = max(last.debtor_number + 1 if last else 0, FIRST_DEBTOR_NUMBER)
                for organisation in missing:
                    organisation.debtor_number = number
                    number += 1
                self.bulk_update(missing, ["debtor_number"])
            return {o.pk: o.debtor_number for o in locked}


class Organisation(models.Model):
    """An organisation that orders (a debtor): known once, whatever each booker typed.

    Its invoice details go on every invoice of its orders from the moment finance corrects
    them; an issued invoice keeps the snapshot it was issued with."""

    name = models.CharField("naam", max_length=200)
    # The name as it is recognised (identifiers.name_key), for suggestions; set on save.
    name_key = models.CharField(max_length=200, editable=False, db_index=True)
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
    vat_id = models.CharField("btw-nummer", max_length=30, blank=True)
    peppol_id = models.CharField(
        "Peppol-ID",
        max_length=60,
        blank=True,
        validators=[validate_peppol_id],
        help_text="Leeg: de e-factuur gaat naar het OIN of KvK-nummer (0190: of 0106:).",
    )
    invoice_attention = models.CharField("ter attentie van", max_length=200, blank=True)
    invoice_street = models.CharField(
        "straat en huisnummer",
        max_length=200,
        blank=True,
        help_text="Leeg: de facturen gaan naar het adres dat bij de bestelling is ingevuld.",
    )
    invoice_postcode = models.CharField("postcode", max_length=20, blank=True)
    invoice_city = models.CharField("plaats", max_length=100, blank=True)
    invoice_country = CountryField("land", default="NL")
    invoice_email = models.EmailField(
        "e-mailadres voor de factuur",
        max_length=254,
        blank=True,
        help_text="Leeg: het e-mailadres dat bij de bestelling is ingevuld.",
    )
    requires_po = models.BooleanField(
        "inkoopordernummer verplicht",
        default=False,
        help_text=(
            "Inkoopordernummer of verplichtingnummer verplicht op elke factuur: een bestelling "
            "zonder wacht met factureren tot het is ingevuld."
        ),
    )
    payment_term_days = models.PositiveSmallIntegerField(
        "betalingstermijn (dagen)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Leeg: de betalingstermijn van de factuurafzender.",
    )
    debtor_number = models.PositiveIntegerField(
        "debiteurnummer",
        null=True,
        blank=True,
        unique=True,
        help_text="Leeg: krijgt het volgende nummer bij de eerste boekhoudexport.",
    )
    created_at = models.DateTimeField("aangemaakt op", auto_now_add=True)
    updated_at = models.DateTimeField("gewijzigd", auto_now=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = "organisatie"
        verbose_name_plural = "organisaties"
        ordering = ["name_key", "pk"]
        constraints = [
            # Known once: one organisation per KvK number and per OIN (when given).
            models.UniqueConstraint(
                fields=["kvk_number"],
                condition=~models.Q(kvk_number=""),
                name="one_organisation_per_kvk_number",
                violation_error_message="Er is al een organisatie met dit KvK-nummer.",
            ),
            models.UniqueConstraint(
                fields=["oin"],
                condition=~models.Q(oin=""),
                name="one_organisation_per_oin",
                violation_error_message="Er is al een organisatie met dit OIN.",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    @property
    def has_address(self):
        """Whether finance keeps the invoice address here (else each order's applies)."""
        return bool(self.invoice_street)
