import datetime
import secrets
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from programme.models import Edition, amsterdam_date
from registrations.models import Registration
from werkplaats import formats
from werkplaats.exports import dutch_name_key


class CertificateRefused(Exception):
    """No certificate for this registration (yet); the message says why, in Dutch."""


def edition_days(edition):
    """Every calendar day of the edition, first to last."""
    count = (edition.end_date - edition.start_date).days + 1
    return [edition.start_date + datetime.timedelta(days=n) for n in range(count)]


def recordable_days(edition, at=None):
    """The days whose attendance can be recorded at `at` (default: now): those that have
    begun. Nobody can have been present on a day still to come."""
    today = amsterdam_date(at or timezone.now())
    return [day for day in edition_days(edition) if day <= today]


class Part(models.TextChoices):
    """What one attendance record covers: the whole day, or one of its two halves where a
    professional register counts day parts (settings.ATTENDANCE_BY_PART)."""

    DAY = "dag", "hele dag"
    MORNING = "ochtend", "ochtend"
    AFTERNOON = "middag", "middag"


def parts_of(edition):
    """The parts of a day whose attendance `edition` records: morning and afternoon when a
    layer built on attendance needs them (settings.ATTENDANCE_BY_PART), else the whole day."""
    if any(import_string(path)(edition) for path in settings.ATTENDANCE_BY_PART):
        return [Part.MORNING, Part.AFTERNOON]
    return [Part.DAY]


def participants(edition):
    """The confirmed participants of `edition`, in Dutch order ('de Vries' under V): the
    people on the attendance list, the check-in page and the badges."""
    people = Registration.objects.filter(edition=edition).confirmed()
    return sorted(people, key=lambda r: dutch_name_key(r.last_name, r.first_name))


def contact_hours_per_day(edition):
    """The hours one attended day counts for: what the edition says the professional register
    recognises, or else the time from the daily start to the daily end."""
    if edition.contact_hours_per_day is not None:
        return Decimal(edition.contact_hours_per_day)
    start = datetime.datetime.combine(edition.start_date, edition.daily_start_time)
    end = datetime.datetime.combine(edition.start_date, edition.daily_end_time)
    hours = Decimal((end - start).total_seconds()) / 3600
    return hours.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def contact_hours(edition, days_attended):
    return (contact_hours_per_day(edition) * days_attended).quantize(Decimal("0.1"))


class AttendanceQuerySet(models.QuerySet):
    def present(self):
        """The records of someone there. A day counts as attended when any of its records
        is present (the whole day, or a morning or afternoon): days_present() counts so."""
        return self.filter(present=True)

    def days_present(self):
        """How many distinct days the records in this queryset show someone present."""
        return self.present().values("date").distinct().count()

    @transaction.atomic
    def record(self, edition, days, present, no_shows=()):
        """Record, for every confirmed participant of `edition` and each of `days` (and each
        part of a day the edition records, parts_of), whether they were there: `present`
        holds the (registration id, date, part) triples that were, or (registration id, date)
        pairs for the whole day (all its parts); the participants in `no_shows` came on none of the edition's
        days.

        One transaction: a check-in list is saved whole or not at all. The edition row is
        locked, so two tablets saving at the same moment save one after the other.
        """
        Edition.objects.select_for_update().filter(pk=edition.pk).first()
        allowed = set(edition_days(edition))
        if not set(days) <= allowed:
            raise ValidationError("Een dag valt buiten de editie.")
        people = Registration.objects.filter(edition=edition).confirmed()
        ids = set(people.values_list("pk", flat=True))
        if any(item[0] not in ids for item in present):
            raise ValidationError("Iemand op de lijst is geen bevestigde deelnemer.")
        parts = parts_of(edition)
        # A pair is the whole day: every part the edition records.
        present = {(*item, part) for item in present if len(item) == 2 for part in parts} | {
            item for item in present if len(item) == 3
        }
        # Records of the other way of counting (the edition counted whole days before a
        # register asked for parts, or the other way round) would count the day twice.
        self.filter(registration_id__in=ids, date__in=days).exclude(part__in=parts).delete()
        for registration_id in sorted(ids):
            for day in days:
                for part in parts:
                    self.update_or_create(
                        registration_id=registration_id,
                        date=day,
                        part=part,
                        defaults={"present": (registration_id, day, part) in present},
                    )
        for registration in no_shows:
            if registration.pk not in ids:
                raise ValidationError("Iemand op de lijst is geen bevestigde deelnemer.")
            self.mark_no_show(registration)

    @transaction.atomic
    def mark_no_show(self, registration):
        """The participant came on none of the days: absent on every day of the edition."""
        parts = parts_of(registration.edition)
        self.filter(registration=registration).exclude(part__in=parts).delete()
        for day in edition_days(registration.edition):
            for part in parts:
                self.update_or_create(
                    registration=registration, date=day, part=part, defaults={"present": False}
                )


class Attendance(models.Model):
    """Whether one participant was there on one day of the edition, or one part of it."""

    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="attendances",
        verbose_name="inschrijving",
    )
    date = models.DateField("dag")
    part = models.CharField("dagdeel", max_length=7, choices=Part.choices, default=Part.DAY)
    present = models.BooleanField("aanwezig", default=False)
    recorded_at = models.DateTimeField("vastgelegd op", auto_now=True)

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = "aanwezigheid"
        verbose_name_plural = "aanwezigheid"
        ordering = ["date", "part", "registration"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "date", "part"], name="one_attendance_per_day_part"
            ),
        ]

    def __str__(self):
        day = f"{self.registration.reference} {formats.numeric_date(self.date)}"
        return day if self.part == Part.DAY else f"{day} {self.get_part_display()}"

    def clean(self):
        edition = self.registration.edition
        if not edition.start_date <= self.date <= edition.end_date:
            raise ValidationError({"date": "Deze dag valt buiten de editie."})


def certificate_sections(certificate):
    """What the layers built on attendance show on `certificate` (settings.
    CERTIFICATE_SECTIONS): contexts with a "pdf_template" and a "page_template"."""
    found = [import_string(path)(certificate) for path in settings.CERTIFICATE_SECTIONS]
    return [section for section in found if section is not None]


def new_code():
    # 24 random bytes (192 bits): the verification page's only key, so it must not be guessable.
    return secrets.token_urlsafe(24)


class CertificateQuerySet(models.QuerySet):
    def to_send(self, today):
        """The registrations still owed a certificate by mail: confirmed participants of an
        ended edition, present on at least one of its days and not anonymised, whose
        certificate has not been mailed (or made). A queryset of registrations."""
        attended = Attendance.objects.present().filter(
            registration=models.OuterRef("pk"),
            date__gte=models.OuterRef("edition__start_date"),
            date__lte=models.OuterRef("edition__end_date"),
        )
        mailed = self.filter(registration=models.OuterRef("pk"), emailed_at__isnull=False)
        return (
            Registration.objects.confirmed()
            .filter(edition__end_date__lt=today, anonymised_at__isnull=True)
            .filter(models.Exists(attended))
            .exclude(models.Exists(mailed))
        )

    @transaction.atomic
    def issue(self, registration, at=None):
        """The registration's certificate, made now if it has none: only once the edition
        has ended, and only for a confirmed participant present on at least one day.

        The certificate copies what it states, so it stays true and verifiable after the
        registration has been anonymised.
        """
        certificate = self.prepare(registration, at)
        if certificate.pk is None:
            certificate.save(force_insert=True)
            # The layers built on attendance copy what they add to it (settings.
            # CERTIFICATE_ISSUED), e.g. the accreditation points: data only, no mail.
            for path in settings.CERTIFICATE_ISSUED:
                import_string(path)(certificate)
        return certificate

    def prepare(self, registration, at=None):
        """The certificate issue() would give, not stored: the existing one, or a new one
        unsaved (what the admin previews before mailing); CertificateRefused says why not."""
        at = at or timezone.now()
        existing = self.filter(registration=registration).first()
        if existing:
            return existing
        edition = registration.edition
        if not edition.has_ended(at):
            raise CertificateRefused(
                f"{registration.reference}: de editie is nog niet afgelopen (de laatste dag is "
                f"{formats.day(edition.end_date)}); een bewijs van deelname kan pas daarna."
            )
        if registration.status != Registration.Status.CONFIRMED:
            raise CertificateRefused(
                f"{registration.reference} is geen bevestigde deelnemer: "
                f"{registration.get_status_display()}."
            )
        attended = registration.attendances.present().filter(
            date__range=(edition.start_date, edition.end_date)
        )
        days = attended.days_present()
        if not days:
            raise CertificateRefused(
                f"{registration.reference} was op geen enkele dag aanwezig; geen bewijs van "
                "deelname."
            )
        return self.model(
            registration=registration,
            participant_name=registration.full_name,
            workshop_title=edition.title,
            organisers=edition.organisers,
            start_date=edition.start_date,
            end_date=edition.end_date,
            venue=", ".join(v for v in [edition.venue_name, edition.venue_city] if v),
            days_attended=days,
            contact_hours=contact_hours(edition, days),
            accreditation_text=edition.accreditation_text,
            issued_at=at,
        )


class Certificate(models.Model):
    """Bewijs van deelname: a snapshot of what it states, and a code anyone can verify."""

    registration = models.OneToOneField(
        Registration,
        on_delete=models.PROTECT,
        related_name="certificate",
        verbose_name="inschrijving",
    )
    code = models.CharField(
        "verificatiecode", max_length=64, unique=True, default=new_code, editable=False
    )
    participant_name = models.CharField("naam", max_length=201)
    workshop_title = models.CharField("werkplaats", max_length=200)
    organisers = models.CharField("organisatoren", max_length=200)
    start_date = models.DateField("eerste dag")
    end_date = models.DateField("laatste dag")
    venue = models.CharField("locatie", max_length=310)
    days_attended = models.PositiveSmallIntegerField("dagen aanwezig")
    contact_hours = models.DecimalField("contacturen", max_digits=5, decimal_places=1)
    accreditation_text = models.TextField("accreditatie", blank=True)
    issued_at = models.DateTimeField("uitgegeven op")
    emailed_at = models.DateTimeField("gemaild op", null=True, blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = "bewijs van deelname"
        verbose_name_plural = "bewijzen van deelname"
        ordering = ["-issued_at", "participant_name"]

    def __str__(self):
        return f"Bewijs van deelname {self.registration.reference}"

    def get_absolute_url(self):
        return reverse("attendance:verify", args=[self.code])

    @property
    def filename(self):
        return f"bewijs-van-deelname-{self.start_date.year}-{self.registration_id}.pdf"
