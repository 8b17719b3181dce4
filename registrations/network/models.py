"""The network of an edition, by consent: who chose to share their name, organisation,
function and e-mail with the others of their edition who did the same.

Each consent is a row, given and perhaps withdrawn on a date, so what a participant chose and
when stays recorded. While it stands, the row holds its own copy of the four details: the only
personal data that outlives the edition's retention (the retention job refreshes the copy
just before it anonymises the registration). Withdrawing erases the copy at once.
"""

from django.db import models, transaction
from django.utils import timezone

from programme.models import amsterdam_date
from registrations.models import Registration

SHARED = ["name", "organisation", "job_title", "email"]


class ConsentRefused(Exception):
    """Only a confirmed participant shares their details; the message says why, in Dutch."""


class ConsentQuerySet(models.QuerySet):
    def standing(self):
        return self.filter(withdrawn_on__isnull=True)

    def of_edition(self, edition):
        """The standing consents of `edition`'s confirmed participants, by name: the list."""
        return (
            self.standing()
            .filter(
                registration__edition=edition,
                registration__status=Registration.Status.CONFIRMED,
            )
            .order_by("name", "pk")
        )

    def give(self, registration, at=None):
        """Consent now, with a copy of the four details; giving twice changes nothing."""
        at = at or timezone.now()
        with transaction.atomic():
            current = Registration.objects.select_for_update().get(pk=registration.pk)
            if current.status != Registration.Status.CONFIRMED:
                raise ConsentRefused("Delen kan alleen als je inschrijving bevestigd is.")
            if amsterdam_date(at) < current.edition.start_date:
                raise ConsentRefused("Delen kan vanaf de eerste dag van de werkplaats.")
            if current.anonymised_at is not None:
                raise ConsentRefused("Je gegevens zijn na de bewaartermijn gewist.")
            consent = self.standing().filter(registration=current).first()
            if consent:
                return consent
            consent = self.model(registration=current, given_on=amsterdam_date(at))
            consent.copy_from(current)
            consent.save()
            return consent

    def withdraw(self, registration, at=None):
        """Withdraw the standing consent, erasing its copy; returns whether there was one."""
        at = at or timezone.now()
        return bool(
            self.standing()
            .filter(registration=registration)
            .update(
                withdrawn_on=amsterdam_date(at), name="", organisation="", job_title="", email=""
            )
        )


class Consent(models.Model):
    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="network_consents",
        verbose_name="inschrijving",
    )
    given_on = models.DateField("toestemming gegeven op")
    withdrawn_on = models.DateField("ingetrokken op", null=True, blank=True)
    name = models.CharField("naam", max_length=201, blank=True)
    organisation = models.CharField("organisatie", max_length=200, blank=True)
    job_title = models.CharField("functie", max_length=200, blank=True)
    email = models.EmailField("e-mailadres", blank=True)

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = "toestemming netwerk"
        verbose_name_plural = "toestemmingen netwerk"
        ordering = ["-given_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration"],
                condition=models.Q(withdrawn_on__isnull=True),
                name="one_standing_network_consent",
            ),
        ]

    def __str__(self):
        return f"Netwerk {self.registration.reference}"

    def copy_from(self, registration):
        self.name = registration.full_name
        self.organisation = registration.organisation
        self.job_title = registration.job_title
        self.email = registration.email


def consents(registration):
    """The standing consent of `registration`, or None."""
    return Consent.objects.standing().filter(registration=registration).first()


def withdraw_consent_of(registration):
    """A cancelled registration or a substitute: the consent was the person's who left
    (settings.PARTICIPANT_HOOKS)."""
    Consent.objects.withdraw(registration)
