import re
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import models, transaction

from programme.models import Edition, content_saved_or_deleted
from registrations.attendance.models import Attendance, Certificate, Part, edition_days
from registrations.models import Registration

# Whole-day records (an edition counted days before it had a register) cover both halves.
HALVES = {Part.DAY: (Part.MORNING, Part.AFTERNOON), Part.MORNING: (Part.MORNING,)}
HALVES[Part.AFTERNOON] = (Part.AFTERNOON,)

# What an export row can hold, by the key staff write in a register's column set, with the
# header it gets unless they name another ("punten=Aantal punten").
COLUMNS = {
    "registratienummer": "Registratienummer",
    "voornaam": "Voornaam",
    "achternaam": "Achternaam",
    "naam": "Naam",
    "email": "E-mailadres",
    "accreditatienummer": "Accreditatienummer",
    "punten": "Punten",
    "uren": "Uren",
    "dagdelen": "Dagdelen aanwezig",
    "data": "Data aanwezig",
    "startdatum": "Startdatum",
    "einddatum": "Einddatum",
    "eindopdracht": "Eindopdracht behaald",
}
DEFAULT_COLUMNS = "registratienummer, achternaam, voornaam, accreditatienummer, punten, data"


class NumberFormat(models.TextChoices):
    """The registration-number formats registers publish. Registerplein says in its FAQ that
    every registration number begins with 4610; SKJ and Kwaliteitsregister V&V publish no
    format, so their numbers are taken as typed."""

    NONE = "", "geen controle"
    REGISTERPLEIN = "registerplein", "Registerplein (cijfers, begint met 4610)"


NUMBER_CHECKS = {
    NumberFormat.REGISTERPLEIN: (
        re.compile(r"4610\d{1,11}"),
        "Een registratienummer van Registerplein bestaat uit cijfers en begint met 4610. "
        "Kijk het na in Mijn Registerplein.",
    ),
}


def parse_columns(text):
    """[(key, header)] from a column set such as "registratienummer, punten=Aantal punten";
    ValidationError names a key the export does not know."""
    columns = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, header = item.partition("=")
        key = key.strip().lower()
        if key not in COLUMNS:
            raise ValidationError(
                f"Onbekende kolom '{key}'. Kies uit: {', '.join(COLUMNS)}.", code="column"
            )
        columns.append((key, header.strip() or COLUMNS[key]))
    if not columns:
        raise ValidationError("Kies minstens één kolom.", code="column")
    return columns


def counts_day_parts(edition):
    """Whether `edition`'s check-in counts mornings and afternoons (settings.
    ATTENDANCE_BY_PART): when a register recognises it, since points go by day part."""
    return Register.objects.filter(edition=edition).exists()


class Register(models.Model):
    """A professional register that accredits an edition: its accreditation ID, the points,
    the net hours a day part counts for, and when points are earned."""

    class Rule(models.TextChoices):
        ALL_PARTS = "alle_dagdelen", "alleen bij alle dagdelen aanwezig"
        PER_PART = "per_dagdeel", "naar rato per bijgewoond dagdeel"

    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="registers", verbose_name="editie"
    )
    name = models.CharField("register", max_length=100, help_text="Bijvoorbeeld Registerplein.")
    accreditation_id = models.CharField("accreditatienummer", max_length=60)
    points = models.DecimalField(
        "punten", max_digits=5, decimal_places=1, help_text="Voor de hele werkplaats."
    )
    hours_per_part = models.DecimalField("netto uren per dagdeel", max_digits=4, decimal_places=2)
    rule = models.CharField("regel", max_length=20, choices=Rule.choices, default=Rule.PER_PART)
    final_assignment_required = models.BooleanField(
        "eindopdracht vereist",
        default=False,
        help_text="Het register kent de punten pas toe na een behaalde eindopdracht.",
    )
    number_format = models.CharField(
        "controle registratienummer",
        max_length=20,
        choices=NumberFormat.choices,
        blank=True,
        default=NumberFormat.NONE,
    )
    export_columns = models.CharField(
        "kolommen van de export",
        max_length=500,
        default=DEFAULT_COLUMNS,
        help_text=(
            "De kolommen die het portaal van het register inleest, gescheiden door komma's, "
            f"met desgewenst een eigen kop (punten=Aantal punten). Kolommen: {', '.join(COLUMNS)}."
        ),
    )

    class Meta:
        verbose_name = "register"
        verbose_name_plural = "registers"
        ordering = ["edition", "name"]
        constraints = [
            models.UniqueConstraint(fields=["edition", "name"], name="one_register_per_name"),
        ]

    def __str__(self):
        return f"{self.name} ({self.edition})"

    def clean(self):
        try:
            parse_columns(self.export_columns)
        except ValidationError as refusal:
            raise ValidationError({"export_columns": refusal.messages}) from None

    def columns(self):
        return parse_columns(self.export_columns)

    def check_number(self, text):
        """The number as stored (spaces and dots taken out); ValidationError in Dutch when
        the register publishes a format and `text` does not fit it."""
        number = re.sub(r"[\s.\-]", "", text)
        check = NUMBER_CHECKS.get(self.number_format)
        if number and check and not check[0].fullmatch(number):
            raise ValidationError(check[1], code="format")
        return number

    def total_parts(self):
        return len(edition_days(self.edition)) * 2

    def points_for(self, parts):
        """The points `parts` attended day parts earn: all or nothing, or pro rata per part
        (rounded half up to one decimal, the way registers state points)."""
        total = self.total_parts()
        if not parts or not total:
            return Decimal("0")
        if self.rule == self.Rule.ALL_PARTS:
            return self.points if parts >= total else Decimal("0")
        share = self.points * min(parts, total) / total
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def hours_for(self, parts):
        return (self.hours_per_part * parts).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class EntryQuerySet(models.QuerySet):
    def with_number(self):
        return self.exclude(number="")


class Entry(models.Model):
    """A participant in a register: the registration number they gave, and whether staff
    marked the register's final assignment passed."""

    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="register_entries",
        verbose_name="inschrijving",
    )
    register = models.ForeignKey(
        Register, on_delete=models.CASCADE, related_name="entries", verbose_name="register"
    )
    number = models.CharField("registratienummer", max_length=40, blank=True)
    final_assignment_passed = models.BooleanField("eindopdracht behaald", default=False)
    updated_at = models.DateTimeField("bijgewerkt op", auto_now=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = "registratienummer"
        verbose_name_plural = "registratienummers"
        ordering = ["register", "registration"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "register"], name="one_entry_per_register"
            ),
        ]

    def __str__(self):
        return f"{self.registration.reference} in {self.register.name}"

    def clean(self):
        if self.register_id and self.registration_id:
            if self.register.edition_id != self.registration.edition_id:
                raise ValidationError("Dit register hoort bij een andere editie.")
            try:
                self.number = self.register.check_number(self.number)
            except ValidationError as refusal:
                raise ValidationError({"number": refusal.messages}) from None


class NumbersClosed(Exception):
    """Registration numbers can no longer be changed by the participant; the text says why."""


@transaction.atomic
def save_numbers(registration, numbers, at):
    """Store the participant's `numbers` ({register: checked number}); an empty number
    clears it. Only until the edition has ended. Returns whether anything changed."""
    if registration.edition.has_ended(at):
        raise NumbersClosed(
            "De werkplaats is afgelopen; je registratienummer kun je nu alleen via de "
            "organisatie laten aanpassen."
        )
    changed = False
    for register, number in numbers.items():
        if register.edition_id != registration.edition_id:
            raise ValidationError("Dit register hoort bij een andere editie.")
        entry = Entry.objects.filter(registration=registration, register=register).first()
        if entry is None:
            if number:
                Entry.objects.create(registration=registration, register=register, number=number)
                changed = True
        elif entry.number != number:
            entry.number = number
            entry.save(update_fields=["number", "updated_at"])
            changed = True
    return changed


def erase_entries_of(registration):
    """A substitute takes the place (settings.PARTICIPANT_HOOKS): the previous person's
    registration numbers go with them."""
    Entry.objects.filter(registration=registration).delete()


def parts_attended(registrations, edition):
    """{registration id: [(date, part)]} of the day parts each of `registrations` was present
    at `edition`, morning before afternoon; a day recorded whole counts both its parts."""
    records = Attendance.objects.present().filter(
        registration__in=registrations, date__range=(edition.start_date, edition.end_date)
    )
    found = {}
    for a in records:
        found.setdefault(a.registration_id, set()).update((a.date, h) for h in HALVES[a.part])
    order = {Part.MORNING: 0, Part.AFTERNOON: 1}
    return {
        pk: sorted(parts, key=lambda item: (item[0], order[item[1]])) for pk, parts in found.items()
    }


def missing_number(registrations):
    """Of `registrations`, those of an edition with a register who gave no number for any
    of its registers: whom staff remind."""
    registers = Register.objects.filter(edition=models.OuterRef("edition"))
    given = Entry.objects.with_number().filter(registration=models.OuterRef("pk"))
    return registrations.filter(models.Exists(registers)).exclude(models.Exists(given))


class CertificatePoints(models.Model):
    """What a certificate states about one register, copied when it was issued: the
    certificate stays true after the registration's number is erased or changed."""

    certificate = models.ForeignKey(
        Certificate, on_delete=models.CASCADE, related_name="points", verbose_name="bewijs"
    )
    register_name = models.CharField("register", max_length=100)
    accreditation_id = models.CharField("accreditatienummer", max_length=60)
    registration_number = models.CharField("registratienummer", max_length=40, blank=True)
    parts_attended = models.PositiveSmallIntegerField("dagdelen aanwezig")
    parts_total = models.PositiveSmallIntegerField("dagdelen in totaal")
    hours = models.DecimalField("netto uren", max_digits=5, decimal_places=1)
    points = models.DecimalField("punten", max_digits=5, decimal_places=1)
    final_assignment_required = models.BooleanField("eindopdracht vereist", default=False)
    final_assignment_passed = models.BooleanField("eindopdracht behaald", default=False)

    class Meta:
        verbose_name = "accreditatiepunten op een bewijs"
        verbose_name_plural = "accreditatiepunten op bewijzen"
        ordering = ["certificate", "register_name"]

    def __str__(self):
        return f"{self.register_name}: {self.points} punten"


# The sign-up form asks for a registration number where its edition has a register, and each
# worker keeps the empty form page per content version (registrations/pages.py): a register
# added, changed or removed is new content, as an edition's own changes are.
for _signal, _what in (
    (models.signals.post_save, "saved"),
    (models.signals.post_delete, "deleted"),
):
    _signal.connect(
        content_saved_or_deleted, sender=Register, dispatch_uid=f"page-Register-{_what}"
    )
