"""The access log: one append-only entry per look at, or bulk change of, personal data.

Entries name people by reference (INS-00006) or by count, never by name: the log outlives
the registrations it speaks of. `username` keeps who it was when their account is gone.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class AccessLogEntry(models.Model):
    class Kind(models.TextChoices):
        EXPORT = "export", "export of download"
        BULK_ACTION = "bulk_action", "bulkactie"
        SIGN_IN = "sign_in", "aangemeld"
        SIGN_IN_FAILED = "sign_in_failed", "aanmelding mislukt"
        INZAGE = "inzage", "inzage"
        ERASURE = "erasure", "verwijdering"
        SECOND_FACTOR_RESET = "second_factor_reset", "tweede factor hersteld"

    at = models.DateTimeField("wanneer", default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="gebruiker",
    )
    username = models.CharField("gebruikersnaam", max_length=150, blank=True)
    kind = models.CharField("soort", max_length=30, choices=Kind.choices)
    what = models.CharField("wat", max_length=500)
    edition = models.ForeignKey(
        "programme.Edition",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="editie",
    )
    reference = models.CharField("betreft", max_length=200, blank=True)
    count = models.PositiveIntegerField("aantal personen", null=True, blank=True)
    address = models.GenericIPAddressField("adres", null=True, blank=True)

    class Meta:
        verbose_name = "regel in het toegangslog"
        verbose_name_plural = "toegangslog"
        ordering = ["-at", "-pk"]
        # Append-only: there is nothing to grant but reading.
        default_permissions = ["view"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.what}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("Het toegangslog verandert niet achteraf.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Het toegangslog verandert niet achteraf.")
