"""Messages to participants and their preparation material.

A Message goes to a group of an edition's participants (groups.py) with placeholders filled
in per person (placeholders.py). Who got it is a Recipient row, one per message and
registration (a database constraint): a message reaches a person at most once, and is sent
again only deliberately, as a new message (Message.resend). Two kinds are sent by a job, not
by staff: the practical information a set number of days before the start, and the notice of
released preparation material; both reach whoever is confirmed later too.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from programme.models import Edition, amsterdam_date
from registrations.models import Registration
from werkplaats import formats

from .groups import GROUPS, group_choices
from .placeholders import fill, unknown


class MessageRefused(Exception):
    """The message cannot be sent (again) now; the text says why, in Dutch."""


class MessageQuerySet(models.QuerySet):
    def scheduled(self):
        return self.filter(kind__in=[Message.Kind.PRACTICAL, Message.Kind.MATERIAL])

    def due(self, today):
        """The scheduled messages that go out `today` to whoever has not had them: the
        practical information from its number of days before the start, a material notice
        from when it was made; both until the last day. A list: few editions run at once."""
        messages = self.scheduled().filter(edition__end_date__gte=today).select_related("edition")
        return [
            message
            for message in messages.order_by("pk")
            if message.kind == Message.Kind.MATERIAL
            or message.edition.start_date
            - datetime.timedelta(days=message.edition.practical_information_days)
            <= today
        ]


class Message(models.Model):
    class Kind(models.TextChoices):
        MESSAGE = "message", "bericht"
        PRACTICAL = "practical", "praktische informatie (gaat vanzelf)"
        MATERIAL = "material", "nieuw voorbereidingsmateriaal (gaat vanzelf)"

    edition = models.ForeignKey(
        Edition,
        on_delete=models.CASCADE,
        related_name="participant_messages",
        verbose_name="editie",
    )
    kind = models.CharField(
        "soort",
        max_length=20,
        choices=Kind.choices,
        default=Kind.MESSAGE,
        help_text=(
            "Een bericht verstuur je zelf. Praktische informatie gaat vanzelf naar elke "
            "bevestigde deelnemer, zoveel dagen voor de start als bij de editie staat."
        ),
    )
    subject = models.CharField("onderwerp", max_length=200)
    body = models.TextField("tekst")
    group = models.CharField("aan", max_length=30, choices=group_choices, default="confirmed")
    day = models.DateField(
        "dag", null=True, blank=True, help_text="Alleen voor aanwezig of afwezig op een dag."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="geschreven door",
    )
    created_at = models.DateTimeField("geschreven op", auto_now_add=True)
    sent_at = models.DateTimeField("verstuurd op", null=True, blank=True)
    resent_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resends",
        verbose_name="opnieuw verstuurd van",
    )

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = "bericht aan deelnemers"
        verbose_name_plural = "berichten aan deelnemers"
        ordering = ["-created_at", "-pk"]
        permissions = [("send_message", "Mag berichten aan deelnemers versturen")]
        constraints = [
            models.UniqueConstraint(
                fields=["edition"],
                condition=models.Q(kind="practical"),
                name="one_practical_information_per_edition",
                violation_error_message="Deze editie heeft al een mail met praktische informatie.",
            ),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("admin:participant_messages_message_change", args=[self.pk])

    @property
    def is_scheduled(self):
        return self.kind != self.Kind.MESSAGE

    @property
    def group_label(self):
        label = GROUPS[self.group].label if self.group in GROUPS else self.group
        if self.day:
            return f"{label}: {formats.day(self.day, weekday=True)}"
        return label

    def clean(self):
        errors = {}
        for field in ("subject", "body"):
            names = unknown(getattr(self, field) or "")
            if names:
                errors[field] = (
                    f"Onbekend invulveld {', '.join('{' + n + '}' for n in names)}. "
                    "Kies uit de invulvelden onder de tekst."
                )
        if self.kind == self.Kind.PRACTICAL and self.group != "confirmed":
            errors["group"] = "Praktische informatie gaat naar de bevestigde deelnemers."
        group = GROUPS.get(self.group)
        if group and group.needs_day and self.day is None:
            errors["day"] = "Kies de dag."
        if group and not group.needs_day and self.day is not None:
            errors["day"] = "Een dag hoort alleen bij aanwezig of afwezig."
        edition = self.edition if self.edition_id else None
        if edition and self.day and not edition.start_date <= self.day <= edition.end_date:
            errors["day"] = "Deze dag valt buiten de editie."
        if errors:
            raise ValidationError(errors)

    def audience(self):
        """Who the message would reach now: its group of the edition's participants, never
        someone cancelled or anonymised."""
        registrations = Registration.objects.filter(
            edition_id=self.edition_id, anonymised_at__isnull=True
        ).active()
        return GROUPS[self.group].select(registrations, self.day).order_by("pk")

    def subject_for(self, registration):
        return " ".join(fill(self.subject, registration).split())

    def body_for(self, registration):
        return fill(self.body, registration)

    def send(self, at=None):
        """Staff send the message: a Recipient for each person in its group now, to be
        mailed. Refused for a message sent before (resend() makes a new one), a scheduled
        one (the job sends it) and a group nobody is in. Returns the new Recipients; the
        caller queues their mail in the same transaction."""
        with transaction.atomic():
            message = Message.objects.select_for_update().get(pk=self.pk)
            if message.is_scheduled:
                raise MessageRefused("Dit bericht gaat vanzelf; je verstuurt het niet zelf.")
            if message.sent_at:
                raise MessageRefused(
                    f"Dit bericht is al verstuurd op {formats.moment(message.sent_at)}. "
                    "Wil je het nog eens sturen, kies dan 'Opnieuw versturen'."
                )
            created = message._address(at)
            if not created:
                raise MessageRefused(
                    "Niemand in deze groep krijgt dit bericht; er is niets verstuurd."
                )
            self.sent_at = message.sent_at
            return created

    def address_newcomers(self, at=None):
        """A scheduled message (practical information, material notice): a Recipient for
        each person in its group who has none yet, such as someone confirmed since the last
        run. Returns the new Recipients."""
        with transaction.atomic():
            message = Message.objects.select_for_update().get(pk=self.pk)
            return message._address(at)

    def newcomers(self):
        """Who is in the group now and has not had this message."""
        had = Recipient.objects.filter(message=self, registration=models.OuterRef("pk"))
        return self.audience().exclude(models.Exists(had))

    def _address(self, at):
        at = at or timezone.now()
        newcomers = self.newcomers()
        created = Recipient.objects.bulk_create(
            Recipient(message=self, registration=registration, queued_at=at)
            for registration in newcomers
        )
        if created and self.sent_at is None:
            self.sent_at = at
            self.save(update_fields=["sent_at"])
        return created

    def resend(self, by=None):
        """'Opnieuw versturen': a new message with the same text, group and day, not yet
        sent, so staff see who it will reach before sending it. Only a sent message."""
        if self.is_scheduled:
            raise MessageRefused("Dit bericht gaat vanzelf naar wie het nog niet had.")
        if self.sent_at is None:
            raise MessageRefused("Dit bericht is nog niet verstuurd.")
        return Message.objects.create(
            edition=self.edition,
            subject=self.subject,
            body=self.body,
            group=self.group,
            day=self.day,
            created_by=by,
            resent_from=self,
        )


class Recipient(models.Model):
    """One person's mail of one message: queued, then sent, failed or not sent."""

    class Status(models.TextChoices):
        QUEUED = "queued", "in de wachtrij"
        SENT = "sent", "verstuurd"
        FAILED = "failed", "mislukt (mailserver)"
        SKIPPED = "skipped", "niet verstuurd: geannuleerd"

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="recipients", verbose_name="bericht"
    )
    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="participant_messages",
        verbose_name="inschrijving",
    )
    status = models.CharField("status", max_length=10, choices=Status.choices, default="queued")
    queued_at = models.DateTimeField("in de wachtrij gezet")
    sent_at = models.DateTimeField("verstuurd op", null=True, blank=True)

    class Meta:
        verbose_name = "ontvanger"
        verbose_name_plural = "ontvangers"
        ordering = ["message", "registration"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "registration"], name="one_mail_per_message_and_person"
            ),
        ]

    def __str__(self):
        return f"{self.registration.reference}: {self.message}"

    def mail_refusal(self):
        """Why this mail may not go out now, or None: it went (or was stopped) already, or
        the person cancelled after it was queued."""
        if self.status != self.Status.QUEUED:
            return f"al {self.get_status_display()}"
        if self.registration.status == Registration.Status.CANCELLED:
            return "geannuleerd"
        return None


def today():
    return amsterdam_date(timezone.now())


class MaterialQuerySet(models.QuerySet):
    def delete(self):
        editions = set(self.values_list("edition_id", flat=True))
        deleted = super().delete()
        for edition_id in editions:
            Material.objects.note_first_release(edition_id)
        return deleted

    def note_first_release(self, edition_id):
        """Write the edition's first release date of material onto the edition (or None)."""
        first = self.filter(edition_id=edition_id).aggregate(first=models.Min("release_on"))
        Edition.objects.filter(pk=edition_id).update(materials_released_from=first["first"])

    def released(self, on=None):
        return self.filter(release_on__lte=on or today())

    def for_participant(self, registration, on=None):
        """What the participant sees on their personal page: the released material of their
        edition, for a confirmed participant only."""
        first = registration.edition.materials_released_from
        if registration.status != Registration.Status.CONFIRMED or first is None:
            return self.none()
        if first > (on or today()):
            return self.none()  # nothing released yet: no query
        return (
            self.filter(edition_id=registration.edition_id)
            .released(on)
            .order_by("release_on", "title", "pk")
        )

    def announce(self, edition, on=None, by=None):
        """The notice of the material of `edition` released and not yet announced: one
        message listing them all, linked to each, or None when there is nothing new. The
        caller sends it (Message.address_newcomers) in the same transaction."""
        on = on or today()
        with transaction.atomic():
            return self._announce(edition, on, by)

    def _announce(self, edition, on, by):
        new = list(
            self.select_for_update()
            .filter(edition=edition, announcement__isnull=True)
            .released(on)
            .order_by("release_on", "title", "pk")
        )
        if not new:
            return None
        titles = "\n".join(f"- {material.title}" for material in new)
        message = Message.objects.create(
            edition=edition,
            kind=Message.Kind.MATERIAL,
            group="confirmed",
            subject=f"Voorbereiding op {edition.title}: nieuw materiaal",
            body=(
                "Beste {voornaam},\n\n"
                "Voor je voorbereiding op de werkplaats staat nieuw materiaal voor je klaar:\n\n"
                f"{titles}\n\n"
                "Je vindt het op je persoonlijke pagina: {persoonlijke_link}\n"
            ),
            created_by=by,
        )
        self.filter(pk__in=[m.pk for m in new]).update(announcement=message)
        return message


def new_key():
    # The file's part of its address, beside the personal link: no sequential id in a public URL.
    return secrets.token_urlsafe(12)


class Material(models.Model):
    """Preparation material of an edition: a PDF (kept in the database, so every app server
    serves it) or a link, shown to confirmed participants from its release date."""

    class Kind(models.TextChoices):
        FILE = "file", "document (pdf)"
        LINK = "link", "link"

    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="materials", verbose_name="editie"
    )
    title = models.CharField("titel", max_length=200)
    key = models.CharField(max_length=32, unique=True, default=new_key, editable=False)
    kind = models.CharField("soort", max_length=10, choices=Kind.choices, default=Kind.FILE)
    url = models.URLField("link", blank=True)
    filename = models.CharField("bestandsnaam", max_length=200, blank=True, editable=False)
    size = models.PositiveIntegerField("grootte (bytes)", null=True, blank=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, editable=False)
    release_on = models.DateField(
        "vrijgeven op",
        default=today,
        help_text="Vanaf deze dag zien bevestigde deelnemers het en krijgen ze één mail.",
    )
    announcement = models.ForeignKey(
        Message,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="materials",
        verbose_name="aangekondigd in",
    )
    created_at = models.DateTimeField("toegevoegd op", auto_now_add=True)

    objects = MaterialQuerySet.as_manager()

    class Meta:
        verbose_name = "voorbereidingsmateriaal"
        verbose_name_plural = "voorbereidingsmateriaal"
        ordering = ["edition", "release_on", "title"]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        before = Material.objects.filter(pk=self.pk).values_list("edition_id", flat=True).first()
        super().save(*args, **kwargs)
        # The edition's first release date, which the personal page checks before it asks.
        for edition_id in {before, self.edition_id} - {None}:
            Material.objects.note_first_release(edition_id)

    def delete(self, *args, **kwargs):
        deleted = super().delete(*args, **kwargs)
        Material.objects.note_first_release(self.edition_id)
        return deleted

    def clean(self):
        if self.kind == self.Kind.LINK and not self.url:
            raise ValidationError({"url": "Vul de link in."})
        if self.kind == self.Kind.FILE and self.url:
            raise ValidationError({"url": "Een document heeft geen link; kies de soort link."})

    def store(self, content, filename):
        """Keep the PDF's bytes in the database with its name, size and SHA-256."""
        self.filename = filename
        self.size = len(content)
        self.sha256 = hashlib.sha256(content).hexdigest()
        self.save()
        MaterialFile.objects.update_or_create(material=self, defaults={"content": content})

    def content(self):
        return bytes(MaterialFile.objects.values_list("content", flat=True).get(material=self))

    def url_for(self, registration):
        """Where the participant opens it: the link, or the file behind their own token."""
        if self.kind == self.Kind.LINK:
            return self.url
        return reverse("participant_messages:material", args=[registration.token, self.key])


class MaterialFile(models.Model):
    """The bytes of an uploaded PDF, apart from Material so that lists never load them."""

    material = models.OneToOneField(
        Material, on_delete=models.CASCADE, primary_key=True, related_name="file"
    )
    content = models.BinaryField()

    class Meta:
        verbose_name = "bestand"
        verbose_name_plural = "bestanden"

    def __str__(self):
        return self.material.filename
