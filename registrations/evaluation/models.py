"""The evaluation of an edition: its questions, who was asked and whether they answered, and
the answers, which nothing ties to a person.

Anonymous by construction: a `Response` and its `Answer`s have no foreign key to a
registration or an invitation, no moment finer than the day, and a random UUID as primary
key (an auto-increment id would line up with the order in which people answered). The
`Invitation` says only that its person was asked, reminded and has answered (a yes, no date),
so nobody answers twice and the reminder skips those who did.
"""

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils import timezone

from programme.models import Edition, amsterdam_date
from registrations.attendance.models import Attendance
from registrations.models import Registration
from werkplaats import formats

SCALE = "scale"
CHOICE = "choice"
OPEN = "open"
PROMISE_HELP = "1 = helemaal niet, 5 = helemaal wel"

# The organiser's four promises ("Als je vertrekt na de driedaagse: ..."), word for word,
# then an overall mark and what the participant takes home: (kind, text, help text, scale).
DEFAULT_QUESTIONS = [
    (SCALE, "Heb je inspiratie, lol en plezier gehad?", PROMISE_HELP, 5),
    (SCALE, "Heb je je eigen opgave herzien?", PROMISE_HELP, 5),
    (SCALE, "Heb je anderen geholpen en geïnspireerd?", PROMISE_HELP, 5),
    (SCALE, "Heb je nieuwe concrete handvatten voor je eigen werkpraktijk?", PROMISE_HELP, 5),
    (SCALE, "Welk cijfer geef je de werkplaats?", "1 = heel slecht, 10 = uitstekend", 10),
    (OPEN, "Wat neem je mee?", "", 5),
]
MAX_ANSWER_LENGTH = 2000
MAX_CHOICE_LENGTH = 200  # Answer.value holds a choice as given
ALREADY_ANSWERED = "Je hebt de evaluatie al ingevuld. Dat kan één keer; bedankt voor je antwoorden."


class EvaluationRefused(Exception):
    """This person cannot answer (now); the message says why, in Dutch."""


def questionnaire_of(edition):
    """The edition's questionnaire as stored, or an unsaved one with the defaults' dates where
    staff stored none yet; reads `edition.questionnaire` (select_related where many)."""
    try:
        return edition.questionnaire
    except Questionnaire.DoesNotExist:
        return Questionnaire(edition=edition)


class QuestionnaireQuerySet(models.QuerySet):
    def for_edition(self, edition):
        """The edition's questionnaire, made with the default questions on first use."""
        questionnaire = self.filter(edition=edition).first()
        if questionnaire:
            return questionnaire
        with transaction.atomic():
            questionnaire, created = self.get_or_create(edition=edition)
            if created:
                questionnaire.add_default_questions()
        return questionnaire


class Questionnaire(models.Model):
    """What an edition asks its participants afterwards, and until when."""

    edition = models.OneToOneField(
        Edition, on_delete=models.PROTECT, related_name="questionnaire", verbose_name="editie"
    )
    remind_after_days = models.PositiveSmallIntegerField(
        "herinnering (dagen na de uitnodiging)",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="Eén herinnering per e-mail aan wie nog niet heeft geantwoord.",
    )
    open_weeks = models.PositiveSmallIntegerField(
        "invullen kan (weken na de laatste dag)",
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
    )

    objects = QuestionnaireQuerySet.as_manager()

    class Meta:
        verbose_name = "evaluatie"
        verbose_name_plural = "evaluaties"
        ordering = ["-edition__start_date"]

    def __str__(self):
        return f"Evaluatie {self.edition}"

    def add_default_questions(self):
        for position, (kind, text, help_text, scale) in enumerate(DEFAULT_QUESTIONS, start=1):
            self.questions.create(
                kind=kind, text=text, help_text=help_text, scale_max=scale, position=position
            )

    def closes_on(self):
        """The last day on which the evaluation can be filled in."""
        return self.edition.end_date + datetime.timedelta(weeks=self.open_weeks)

    def is_open(self, at=None):
        """From the day after the last day up to and including closes_on()."""
        today = amsterdam_date(at or timezone.now())
        return self.edition.end_date < today <= self.closes_on()


class Question(models.Model):
    class Kind(models.TextChoices):
        SCALE = SCALE, "schaal (1 tot en met het maximum)"
        CHOICE = CHOICE, "keuze uit antwoorden"
        OPEN = OPEN, "open vraag"

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions", verbose_name="evaluatie"
    )
    position = models.PositiveSmallIntegerField("volgorde", default=1)
    kind = models.CharField("soort", max_length=10, choices=Kind.choices, default=SCALE)
    text = models.CharField("vraag", max_length=200)
    help_text = models.CharField("toelichting", max_length=300, blank=True)
    scale_max = models.PositiveSmallIntegerField(
        "schaal tot en met",
        default=5,
        validators=[MinValueValidator(2), MaxValueValidator(10)],
        help_text="Alleen bij een schaal: 1 tot en met dit getal.",
    )
    choices = models.TextField(
        "antwoorden", blank=True, help_text="Alleen bij een keuzevraag: één antwoord per regel."
    )

    class Meta:
        verbose_name = "vraag"
        verbose_name_plural = "vragen"
        ordering = ["position", "pk"]

    def __str__(self):
        return self.text

    def clean(self):
        if self.kind == CHOICE and len(self.choice_list()) < 2:
            raise ValidationError({"choices": "Geef minstens twee antwoorden, elk op een regel."})
        if any(len(choice) > MAX_CHOICE_LENGTH for choice in self.choice_list()):
            raise ValidationError(
                {"choices": f"Een antwoord is hooguit {MAX_CHOICE_LENGTH} tekens lang."}
            )

    def choice_list(self):
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def options(self):
        """The answers one can give, as text, in order: 1..scale_max or the choices."""
        if self.kind == SCALE:
            return [str(n) for n in range(1, self.scale_max + 1)]
        if self.kind == CHOICE:
            return self.choice_list()
        return []


def present_participants(edition):
    """Those the evaluation is for: confirmed participants of `edition`, recorded present on at
    least one of its days. Nobody else is asked."""
    attended = Attendance.objects.present().filter(
        registration=models.OuterRef("pk"),
        date__gte=models.OuterRef("edition__start_date"),
        date__lte=models.OuterRef("edition__end_date"),
    )
    return Registration.objects.confirmed().filter(edition=edition).filter(models.Exists(attended))


class InvitationQuerySet(models.QuerySet):
    def to_remind(self, at=None):
        """Invitations whose one reminder is due: not answered, not reminded, invited at least
        the questionnaire's remind_after_days ago, while it is open."""
        at = at or timezone.now()
        today = amsterdam_date(at)
        found = self.filter(answered=False, reminded_at__isnull=True).select_related(
            "registration__edition__questionnaire"
        )
        return [
            invitation
            for invitation in found
            if invitation.questionnaire().is_open(at)
            and amsterdam_date(invitation.invited_at)
            <= today - datetime.timedelta(invitation.questionnaire().remind_after_days)
        ]


class Invitation(models.Model):
    """That one participant was asked for the evaluation, and whether they answered: never
    what, nor when."""

    registration = models.OneToOneField(
        Registration,
        on_delete=models.CASCADE,
        related_name="evaluation_invitation",
        verbose_name="inschrijving",
    )
    # Null when the person answered through the certificate's link before the invitation
    # went out: they are not mailed any more.
    invited_at = models.DateTimeField("uitgenodigd op", null=True, blank=True)
    reminded_at = models.DateTimeField("herinnerd op", null=True, blank=True)
    answered = models.BooleanField("heeft geantwoord", default=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = "uitnodiging"
        verbose_name_plural = "uitnodigingen"

    def __str__(self):
        return f"Evaluatie {self.registration.reference}"

    def questionnaire(self):
        return questionnaire_of(self.registration.edition)


class Response(models.Model):
    """One person's filled-in evaluation, without anything that says whose: see the module."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="responses", verbose_name="evaluatie"
    )
    answered_on = models.DateField("ingevuld op")

    class Meta:
        verbose_name = "ingevulde evaluatie"
        verbose_name_plural = "ingevulde evaluaties"
        # By the random id: the order says nothing about who answered first.
        ordering = ["id"]

    def __str__(self):
        return f"Ingevulde evaluatie {self.pk}"


class Answer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", verbose_name="evaluatie"
    )
    # PROTECT: a question with answers cannot be deleted (the admin says so), or the results
    # would lose it.
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers", verbose_name="vraag"
    )
    value = models.CharField("antwoord", max_length=MAX_CHOICE_LENGTH, blank=True)
    text = models.TextField("toelichting", max_length=MAX_ANSWER_LENGTH, blank=True)

    class Meta:
        verbose_name = "antwoord"
        verbose_name_plural = "antwoorden"
        ordering = ["question__position", "id"]

    def __str__(self):
        return f"{self.question}: {self.value or self.text}"


def refusal(registration, at=None):
    """Why `registration` cannot answer now (a Dutch sentence), or None when they can."""
    at = at or timezone.now()
    questionnaire = questionnaire_of(registration.edition)
    if not registration.edition.has_ended(at):
        return "De evaluatie kun je invullen na de laatste dag van de werkplaats."
    if not present_participants(registration.edition).filter(pk=registration.pk).exists():
        return "De evaluatie is voor wie op de werkplaats aanwezig was."
    if not questionnaire.is_open(at):
        return (
            f"De evaluatie is gesloten: invullen kon tot en met "
            f"{formats.day(questionnaire.closes_on())}."
        )
    if Invitation.objects.filter(registration=registration, answered=True).exists():
        return ALREADY_ANSWERED
    return None


def submit(registration, answers, at=None):
    """Store one evaluation: the answers ([(question, value, text)]) as a Response nobody can
    trace back, and the person's Invitation marked answered, in one transaction under the
    registration's row lock, so a second try (or two at once) is refused."""
    at = at or timezone.now()
    with transaction.atomic():
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        reason = refusal(current, at)
        if reason:
            raise EvaluationRefused(reason)
        questionnaire = Questionnaire.objects.for_edition(current.edition)
        invitation, _ = Invitation.objects.get_or_create(registration=current)
        # Every invitation of the edition is written in this transaction, not only this one:
        # PostgreSQL stamps each row with the transaction that wrote it (xmin), and the
        # response's stamp must not single out the one invitation it came with.
        Invitation.objects.filter(registration__edition=current.edition).update(
            answered=models.Case(
                models.When(pk=invitation.pk, then=models.Value(True)),
                default=models.F("answered"),
            )
        )
        response = Response.objects.create(
            questionnaire=questionnaire, answered_on=amsterdam_date(at)
        )
        Answer.objects.bulk_create(
            Answer(response=response, question=question, value=value, text=text)
            for question, value, text in answers
            if value or text
        )
    return response
