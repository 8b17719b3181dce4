"""The transmission of an invoice or credit note over Peppol: one record per document, with
its state as our access point reports it, and one row per attempt to hand it over.

The states keep apart what access points tend to blur into "sent":
- handed to the access point (it took the document, nothing more),
- delivered to the buyer's access point,
- accepted or rejected by the buyer (only where the buyer answers with an invoice response).
A failure is either retryable (network, 429, 5xx: tried again later, with backoff) or a
verdict (the access point's or the buyer's own refusal, with its rules): final until finance
decides (send it by e-mail, or again over Peppol once the cause is fixed).
"""

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

# In flight longer than this: on finance's worklist (pretix's "retried after 24 h").
IN_FLIGHT_LIMIT = datetime.timedelta(hours=24)


class Channel(models.TextChoices):
    PEPPOL = "peppol", "Peppol"
    EMAIL = "email", "e-mail"


class Status(models.TextChoices):
    # Each level by its own word: none is shown as another (issue 27).
    QUEUED = "queued", "in de wachtrij"
    HANDED_OVER = "handed_over", "aangeboden aan accesspoint"
    DELIVERED = "delivered", "afgeleverd"
    ACCEPTED = "accepted", "geaccepteerd door klant"
    RETRYING = "retrying", "mislukt, wordt opnieuw geprobeerd"
    REFUSED = "refused", "geweigerd door accesspoint"
    REJECTED = "rejected", "afgewezen door klant"
    EMAILED = "emailed", "per e-mail verstuurd"


# Who may move a transmission where. A buyer's verdict may come after delivery, or even
# without a delivery notice first (events can arrive out of order).
ALLOWED = {
    Status.QUEUED: {Status.HANDED_OVER, Status.RETRYING, Status.REFUSED, Status.EMAILED},
    Status.RETRYING: {Status.HANDED_OVER, Status.RETRYING, Status.REFUSED, Status.EMAILED},
    Status.HANDED_OVER: {
        Status.DELIVERED,
        Status.REFUSED,
        Status.ACCEPTED,
        Status.REJECTED,
        Status.EMAILED,
    },
    Status.DELIVERED: {Status.ACCEPTED, Status.REJECTED, Status.EMAILED},
    Status.ACCEPTED: set(),
    Status.REFUSED: {Status.QUEUED, Status.EMAILED},
    Status.REJECTED: {Status.QUEUED, Status.EMAILED},
    Status.EMAILED: {Status.QUEUED},
}
IN_FLIGHT = [Status.QUEUED, Status.RETRYING, Status.HANDED_OVER]
VERDICTS = [Status.REFUSED, Status.REJECTED]
DUE = [Status.QUEUED, Status.RETRYING]


class TransitionRefused(ValidationError):
    pass


class TransmissionQuerySet(models.QuerySet):
    def in_flight(self):
        return self.filter(status__in=IN_FLIGHT)

    def due(self, now=None):
        """Waiting for an attempt whose time has come."""
        now = now or timezone.now()
        return self.filter(status__in=DUE, next_attempt_at__lte=now)

    def stuck(self, now=None):
        """In flight for longer than a day: the access point never said where it is."""
        now = now or timezone.now()
        return self.in_flight().filter(queued_at__lt=now - IN_FLIGHT_LIMIT)

    def worklist(self, now=None):
        """Finance's worklist: stuck in flight, or refused or rejected and not yet decided."""
        return self.stuck(now) | self.filter(status__in=VERDICTS)


class Transmission(models.Model):
    invoice = models.OneToOneField(
        "invoicing.Invoice",
        on_delete=models.PROTECT,
        related_name="transmission",
        verbose_name="factuur",
    )
    channel = models.CharField("kanaal", max_length=10, choices=Channel, default=Channel.PEPPOL)
    channel_set_by = models.CharField(
        "kanaal gekozen door",
        max_length=150,
        blank=True,
        help_text="Leeg: gekozen volgens de organisatie (Peppol-ID of OIN).",
    )
    receiver = models.CharField("Peppol-ontvanger", max_length=60)
    status = models.CharField("stand", max_length=20, choices=Status, default=Status.QUEUED)
    # The provider's idempotency key: one per transmission, so an attempt whose answer was
    # lost (a timeout) and is tried again can never be delivered twice.
    idempotency_key = models.UUIDField("idempotentiesleutel", default=uuid.uuid4, unique=True)
    provider_message_id = models.CharField("berichtnummer accesspoint", max_length=100, blank=True)
    ubl_sha256 = models.CharField("SHA-256 van de e-factuur", max_length=64, blank=True)
    validated_at = models.DateTimeField("gecontroleerd op", null=True, blank=True)
    attempt_count = models.PositiveSmallIntegerField("pogingen", default=0)
    next_attempt_at = models.DateTimeField("volgende poging", null=True, blank=True)
    last_error = models.CharField("laatste fout", max_length=500, blank=True)
    rules = models.JSONField("regels", default=list, blank=True)
    queued_at = models.DateTimeField("in de wachtrij sinds", default=timezone.now)
    handed_over_at = models.DateTimeField("aangeboden op", null=True, blank=True)
    delivered_at = models.DateTimeField("afgeleverd op", null=True, blank=True)
    decided_at = models.DateTimeField("oordeel op", null=True, blank=True)
    updated_at = models.DateTimeField("gewijzigd", auto_now=True)

    objects = TransmissionQuerySet.as_manager()

    class Meta:
        verbose_name = "verzending e-factuur"
        verbose_name_plural = "verzendingen e-factuur"
        ordering = ["-queued_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="transmission_due")]

    def __str__(self):
        return f"{self.invoice.number}: {self.get_status_display()}"

    def move(self, status):
        """Set the next state, refused (TransitionRefused) where the state machine has no
        such step; returns whether it changed."""
        if status == self.status and status != Status.RETRYING:
            return False
        if status not in ALLOWED[Status(self.status)]:
            raise TransitionRefused(
                f"{self.invoice.number}: van '{self.get_status_display()}' kan niet naar "
                f"'{Status(status).label}'."
            )
        self.status = status
        return True

    @property
    def rules_text(self):
        return "; ".join(self.rules)


class Attempt(models.Model):
    """One hand-over to the access point: claimed in its own transaction before the request,
    so a second worker never makes the same attempt."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "bezig"
        HANDED_OVER = "handed_over", "aangeboden"
        RETRY = "retry", "mislukt, opnieuw"
        REFUSED = "refused", "geweigerd"

    transmission = models.ForeignKey(
        Transmission, on_delete=models.CASCADE, related_name="attempts"
    )
    number = models.PositiveSmallIntegerField("poging")
    key = models.UUIDField("sleutel", default=uuid.uuid4, unique=True, editable=False)
    started_at = models.DateTimeField("begonnen", default=timezone.now)
    finished_at = models.DateTimeField("klaar", null=True, blank=True)
    outcome = models.CharField("uitkomst", max_length=20, choices=Outcome, default=Outcome.RUNNING)
    http_status = models.PositiveSmallIntegerField("HTTP-status", null=True, blank=True)
    error = models.CharField("fout", max_length=500, blank=True)

    class Meta:
        verbose_name = "poging"
        verbose_name_plural = "pogingen"
        ordering = ["transmission", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["transmission", "number"], name="one_attempt_per_number"
            )
        ]

    def __str__(self):
        return f"poging {self.number}: {self.get_outcome_display()}"


class ProviderEvent(models.Model):
    """An event the access point reported, kept by its id so that one reported twice (a
    replay) changes nothing the second time."""

    event_id = models.CharField(max_length=100, unique=True)
    received_at = models.DateTimeField(default=timezone.now)
    body = models.JSONField(default=dict)

    class Meta:
        verbose_name = "melding accesspoint"
        verbose_name_plural = "meldingen accesspoint"

    def __str__(self):
        return self.event_id
