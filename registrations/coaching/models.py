import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from programme.models import Edition, amsterdam_date
from registrations.models import Registration
from werkplaats import formats


class SlotRefused(Exception):
    """A booking that the rules do not allow now; the message says why, in Dutch."""


class Coach(models.Model):
    name = models.CharField("naam", max_length=200)
    about = models.CharField("over de coach", max_length=300, blank=True)
    # The coach's own login to the back office (group Coaches): their schedule, nothing else.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coach",
        verbose_name="inlog voor het beheer",
        help_text="Een account in de groep Coaches: die ziet alleen het eigen rooster.",
    )

    class Meta:
        verbose_name = "coach"
        verbose_name_plural = "coaches"
        ordering = ["name"]

    def __str__(self):
        return self.name


def booking_is_open(edition, at=None):
    """Whether participants may book, change or cancel a slot themselves: until the day
    before the first day, that day included. Staff assign and move slots at any time."""
    return amsterdam_date(at or timezone.now()) < edition.start_date


class CoachSlotQuerySet(models.QuerySet):
    def free(self):
        return self.filter(registration__isnull=True)

    def of_edition(self, edition):
        return self.filter(edition=edition).select_related("coach")

    def book(self, registration, slot_id, at=None):
        """The participant takes slot `slot_id` of their edition, giving up the one they had.

        The registration row is locked first (so a cancellation waits, and one person books
        one slot at a time), then the slots involved, in key order: twenty people choosing
        the same slot at once queue on its row and exactly one gets it; the others get
        SlotRefused. The database holds the same (one slot per registration, one registration
        per slot) whatever writes the rows."""
        at = at or timezone.now()
        with transaction.atomic():
            current = Registration.objects.select_for_update().get(pk=registration.pk)
            if current.status != Registration.Status.CONFIRMED:
                raise SlotRefused("Een coachgesprek boeken kan zodra je inschrijving bevestigd is.")
            if not booking_is_open(current.edition, at):
                raise SlotRefused(
                    "Boeken of wijzigen kan tot de dag voor de werkplaats. Neem contact op met "
                    "de organisatie."
                )
            slots = list(
                self.select_for_update()
                .filter(
                    models.Q(pk=slot_id, edition_id=current.edition_id)
                    | models.Q(registration=current)
                )
                .order_by("pk")
            )
            wanted = next((s for s in slots if s.pk == slot_id), None)
            if wanted is None:
                raise SlotRefused("Dit tijdstip bestaat niet (meer).")
            if wanted.registration_id == current.pk:
                return wanted
            if wanted.registration_id is not None:
                raise SlotRefused(
                    "Iemand anders was je net voor: dit tijdstip is bezet. Kies een ander."
                )
            self._assign(wanted, current)
            return wanted

    def assign(self, slot, registration):
        """Staff put `registration` (or None: nobody) in `slot`, at any time, moving them out
        of the slot they had. A slot someone else holds is refused: free it first."""
        with transaction.atomic():
            locked = self.select_for_update().get(pk=slot.pk)
            if registration is None:
                self.filter(pk=locked.pk).update(registration=None)
                return locked
            current = Registration.objects.select_for_update().get(pk=registration.pk)
            if current.status != Registration.Status.CONFIRMED:
                raise SlotRefused(f"{current.reference} is geen bevestigde deelnemer.")
            if current.edition_id != locked.edition_id:
                raise SlotRefused(f"{current.reference} doet mee aan een andere editie.")
            if locked.registration_id not in (None, current.pk):
                raise SlotRefused("Dit tijdstip is bezet; maak het eerst vrij.")
            self._assign(locked, current)
            return locked

    def _assign(self, slot, registration):
        try:
            with transaction.atomic():
                self.filter(registration=registration).exclude(pk=slot.pk).update(registration=None)
                self.filter(pk=slot.pk).update(registration=registration)
        except IntegrityError:
            raise SlotRefused(
                "Iemand anders was je net voor: dit tijdstip is bezet. Kies een ander."
            ) from None
        slot.registration = registration

    def release(self, registration, at=None, *, by_staff=False):
        """Give up the registration's slot (the participant until the day before; staff any
        time). Returns the slot freed, or None."""
        with transaction.atomic():
            current = Registration.objects.select_for_update().get(pk=registration.pk)
            if not by_staff and not booking_is_open(current.edition, at):
                raise SlotRefused(
                    "Annuleren kan tot de dag voor de werkplaats. Neem contact op met de "
                    "organisatie."
                )
            slot = self.select_for_update().filter(registration=current).first()
            if slot:
                self.filter(pk=slot.pk).update(registration=None)
            return slot


class CoachSlot(models.Model):
    """A time a coach has for one conversation, on a day of the edition, and who booked it."""

    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="coach_slots", verbose_name="editie"
    )
    coach = models.ForeignKey(
        Coach, on_delete=models.PROTECT, related_name="slots", verbose_name="coach"
    )
    day = models.DateField("dag")
    start = models.TimeField("van")
    end = models.TimeField("tot")
    room = models.CharField("ruimte", max_length=100, blank=True)
    # One person per slot and one slot per person: a one-to-one key, held by the database.
    registration = models.OneToOneField(
        Registration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coach_slot",
        verbose_name="deelnemer",
    )

    objects = CoachSlotQuerySet.as_manager()

    class Meta:
        verbose_name = "coachgesprek"
        verbose_name_plural = "coachgesprekken"
        ordering = ["day", "start", "coach__name"]
        permissions = [("view_own_schedule", "Mag het eigen rooster als coach zien")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="coach_slot_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["coach", "day", "start"], name="one_slot_per_coach_and_time"
            ),
        ]

    def __str__(self):
        return f"{self.coach} {self.text()}"

    def text(self):
        """The slot in words, for the page and the mails: 'dinsdag 4 oktober 2022, 14:00–14:45
        uur, Zaal 2'."""
        when = f"{formats.day(self.day, weekday=True)}, {formats.clock(self.start)}–{formats.clock(self.end)} uur"
        return f"{when}, {self.room}" if self.room else when

    def starts_at(self):
        return timezone.make_aware(datetime.datetime.combine(self.day, self.start))

    def ends_at(self):
        return timezone.make_aware(datetime.datetime.combine(self.day, self.end))

    def clean(self):
        edition = getattr(self, "edition", None)
        if edition and self.day and not edition.start_date <= self.day <= edition.end_date:
            raise ValidationError({"day": "Deze dag valt buiten de editie."})
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "Het gesprek eindigt na het begin."})


def with_coach_slot(registrations):
    """Of `registrations`, those who have a coach slot."""
    return registrations.filter(coach_slot__isnull=False)


def without_coach_slot(registrations):
    """Of `registrations`, those without a coach slot (staff's list; a group for messages)."""
    return registrations.filter(coach_slot__isnull=True)


def slot_of(registration):
    return CoachSlot.objects.select_related("coach").filter(registration=registration).first()


def slot_text(registration):
    """The participant's coach conversation in words for a mail or page: coach and time, or
    that they have none yet."""
    slot = slot_of(registration)
    if slot is None:
        return "nog geen coachgesprek geboekt"
    return f"{slot.text()}, met {slot.coach.name}"


def free_slot_of(registration):
    """A cancelled registration frees its slot (settings.PARTICIPANT_HOOKS "cancelled"),
    inside the cancellation's transaction."""
    CoachSlot.objects.filter(registration=registration).update(registration=None)
