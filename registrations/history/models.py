"""The history of an order: one append-only entry per step, recorded where the step happens.

Entries name people by reference (INS-00006, BST-00042) and invoices by number, never by
name: when retention anonymises an order, its history holds no personal data and stays as
it is. `by` is the staff member's username, or empty for the participant, the booker or the
system (the text says which when it matters).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class OrderLogEntry(models.Model):
    class Kind(models.TextChoices):
        ORDER_PLACED = "order_placed", "aangemeld"
        POSITION_ADDED = "position_added", "deelnemer toegevoegd"
        CHOICES_CHANGED = "choices_changed", "keuzes gewijzigd"
        SUBSTITUTE = "substitute", "vervanger aangemeld"
        CONFIRMED = "confirmed", "bevestigd vanaf de wachtlijst"
        CANCELLED = "cancelled", "geannuleerd"
        REINSTATED = "reinstated", "teruggezet"
        OFFER_MADE = "offer_made", "plaats aangeboden"
        OFFER_ACCEPTED = "offer_accepted", "aanbod aangenomen"
        OFFER_DECLINED = "offer_declined", "aanbod afgewezen"
        OFFER_EXPIRED = "offer_expired", "aanbod verlopen"
        INVOICE_ISSUED = "invoice_issued", "factuur gemaakt"
        INVOICE_SENT = "invoice_sent", "factuur verstuurd"
        TRANSMISSION = "transmission", "e-factuur via Peppol"
        CREDITED = "credited", "gecrediteerd"
        PAYMENT = "payment", "betaling gekoppeld"
        REMINDER = "reminder", "herinnering verstuurd"
        HOLD_SET = "hold_set", "herinneringen aangehouden"
        HOLD_LIFTED = "hold_lifted", "aanhouding opgeheven"

    order = models.ForeignKey(
        "registrations.Order",
        on_delete=models.CASCADE,
        related_name="log",
        verbose_name="bestelling",
    )
    at = models.DateTimeField("wanneer", default=timezone.now)
    kind = models.CharField("wat", max_length=30, choices=Kind.choices)
    text = models.CharField("toelichting", max_length=500, blank=True)
    by = models.CharField("door", max_length=150, blank=True)
    # Kept when the registration is deleted (the entry then loses the link, nothing else).
    registration = models.ForeignKey(
        "registrations.Registration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="inschrijving",
    )

    class Meta:
        verbose_name = "stap in de bestelgeschiedenis"
        verbose_name_plural = "bestelgeschiedenis"
        ordering = ["-at", "-pk"]
        # Append-only: there is nothing to grant but reading (the order's page shows it).
        default_permissions = ["view"]
        indexes = [models.Index(fields=["order", "at"], name="order_log_order_at")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("De geschiedenis van een bestelling verandert niet achteraf.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("De geschiedenis van een bestelling verandert niet achteraf.")


def entry(order, kind, text="", by=None, registration=None, at=None):
    """An unsaved entry: for bulk_create where many steps happen at once (a statement)."""
    return OrderLogEntry(
        order_id=getattr(order, "pk", order),
        kind=kind,
        text=text[:500],
        by=(getattr(by, "username", by) or "")[:150],
        registration_id=getattr(registration, "pk", registration),
        at=at or timezone.now(),
    )


def record(order, kind, text="", by=None, registration=None, at=None):
    """Record one step of `order` (an Order or its pk). `by`: a user, a username, or None for
    the participant, the booker or the system; `registration` (or its pk): whose step it is.
    Call it inside the transaction of the step, so the history never says what did not
    happen. Name people by reference, never by name (see the module's docstring)."""
    log = entry(order, kind, text, by, registration, at)
    log.save(force_insert=True)
    return log
