import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils import timezone

from programme.models import Edition, amsterdam_date
from registrations.models import Registration

# What every edition asks unless staff change it.
DEFAULT_QUESTIONS = [
    (
        "Je opgave of casus",
        "Waar werk je aan in je wijk? Beschrijf bewoners niet herkenbaar: geen namen of adressen.",
    ),
    ("Je vraag aan de werkplaats", "Wat wil je na de drie dagen verder hebben?"),
]
DEADLINE_DAYS_BEFORE_START = 7
MAX_ANSWER_LENGTH = 2000


class IntakeQuerySet(models.QuerySet):
    def for_edition(self, edition):
        """The edition's intake, made with the default deadline and questions on first use
        (a participant's first save, the admin's pages)."""
        intake = self.filter(edition=edition).first()
        if intake:
            return intake
        with transaction.atomic():
            intake, created = self.get_or_create(edition=edition)
            if created:
                for position, (text, help_text) in enumerate(DEFAULT_QUESTIONS, start=1):
                    intake.questions.create(text=text, help_text=help_text, position=position)
        return intake

    def of(self, edition):
        """The edition's intake as stored, or (before anything was stored) the defaults, not
        stored: what its deadline, reminder and erasure go by."""
        return self.filter(edition=edition).first() or self.model(edition=edition)


class Intake(models.Model):
    """What an edition asks its participants about their own case, and until when."""

    edition = models.OneToOneField(
        Edition, on_delete=models.CASCADE, related_name="intake", verbose_name="editie"
    )
    deadline = models.DateField(
        "invullen kan tot en met",
        null=True,
        blank=True,
        help_text=f"Leeg: {DEADLINE_DAYS_BEFORE_START} dagen voor de eerste dag. Daarna kan de "
        "deelnemer het antwoord alleen nog lezen.",
    )
    remind_days_before = models.PositiveSmallIntegerField(
        "herinnering (dagen voor de deadline)",
        default=3,
        validators=[MaxValueValidator(60)],
        help_text="Eén herinnering per e-mail aan wie nog niets heeft ingevuld.",
    )
    erase_after_weeks = models.PositiveSmallIntegerField(
        "casussen wissen na (weken)",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="Gerekend vanaf de laatste dag. Casussen kunnen over bewoners gaan: bewaar "
        "ze niet langer dan nodig.",
    )
    reminder_sent_at = models.DateTimeField(
        "herinnering verstuurd op", null=True, blank=True, editable=False
    )

    objects = IntakeQuerySet.as_manager()

    class Meta:
        verbose_name = "casusvragen"
        verbose_name_plural = "casusvragen"
        ordering = ["-edition__start_date"]

    def __str__(self):
        return f"Casusvragen {self.edition}"

    def deadline_date(self):
        return self.deadline or self.edition.start_date - datetime.timedelta(
            DEADLINE_DAYS_BEFORE_START
        )

    def is_open(self, at=None):
        """Whether participants may still write or change their answers (to the deadline,
        that day included)."""
        return amsterdam_date(at or timezone.now()) <= self.deadline_date()

    def reminder_date(self):
        return self.deadline_date() - datetime.timedelta(self.remind_days_before)

    def reminder_due(self, at=None):
        """Whether the one reminder should go now: from its date until the deadline, once."""
        today = amsterdam_date(at or timezone.now())
        return (
            self.reminder_sent_at is None and self.reminder_date() <= today <= self.deadline_date()
        )

    def erase_on(self):
        """The first day on which the edition's cases are erased."""
        return self.edition.end_date + datetime.timedelta(weeks=self.erase_after_weeks, days=1)


class Question(models.Model):
    intake = models.ForeignKey(
        Intake, on_delete=models.CASCADE, related_name="questions", verbose_name="casusvragen"
    )
    text = models.CharField("vraag", max_length=200)
    help_text = models.CharField("toelichting", max_length=300, blank=True)
    position = models.PositiveSmallIntegerField("volgorde", default=1)

    class Meta:
        verbose_name = "vraag"
        verbose_name_plural = "vragen"
        ordering = ["position", "pk"]

    def __str__(self):
        return self.text


class Answer(models.Model):
    """One participant's answer to one question: their own case, which may describe
    residents. Shown to the participant, staff and their coach only; erased
    Intake.erase_after_weeks after the event (registrations.intake.retention)."""

    registration = models.ForeignKey(
        Registration,
        on_delete=models.CASCADE,
        related_name="case_answers",
        verbose_name="inschrijving",
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="answers", verbose_name="vraag"
    )
    text = models.TextField("antwoord", max_length=MAX_ANSWER_LENGTH, blank=True)
    updated_at = models.DateTimeField("gewijzigd", default=timezone.now)

    class Meta:
        verbose_name = "antwoord"
        verbose_name_plural = "antwoorden"
        ordering = ["question__position", "question_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "question"], name="one_answer_per_question"
            ),
        ]

    def __str__(self):
        return f"{self.registration.reference}: {self.question}"


class AnswersClosed(Exception):
    """The deadline has passed or the registration is not confirmed; the message says why."""


def _answered():
    # The case typed into the sign-up form counts until it moves into the answers (on the
    # participant's first save, see save_answers).
    given = Answer.objects.filter(registration=models.OuterRef("pk")).exclude(text="")
    return models.Exists(given) | ~models.Q(own_case="")


def with_case(registrations):
    """Of `registrations`, those who answered at least one question of their case."""
    return registrations.filter(_answered())


def without_case(registrations):
    """Of `registrations`, those who have not answered any question of their case yet: the
    reminder's addressees, and a group for messages."""
    return registrations.exclude(_answered())


def has_case(registration):
    return with_case(Registration.objects.filter(pk=registration.pk)).exists()


def case_state(registration):
    """The state of the case in words, for the participant (a page or a mail)."""
    return "ingevuld" if has_case(registration) else "nog niet ingevuld"


def questions_for(edition):
    """The questions `edition` asks, in order, in one query; until the edition has its intake
    the default ones, not stored (a page that only shows them writes nothing)."""
    questions = list(Question.objects.filter(intake__edition=edition).select_related("intake"))
    if questions or Intake.objects.filter(edition=edition).exists():
        return questions
    intake = Intake(edition=edition)
    return [
        Question(intake=intake, text=text, help_text=help_text, position=position)
        for position, (text, help_text) in enumerate(DEFAULT_QUESTIONS, start=1)
    ]


def answers_from(registration, questions, given):
    """[(question, answer text)] of `registration` for each of `questions`, from `given`
    ({question id: text}, what it stored): the first one's answer is the case typed into the
    sign-up form until the participant saves their own."""
    answers = [(question, given.get(question.pk, "")) for question in questions]
    if answers and registration.own_case and answers[0][0].pk not in given:
        answers[0] = (answers[0][0], registration.own_case)
    return answers


def answers_of(registration, questions):
    # Default questions not stored yet have no answers.
    stored = questions and questions[0].pk is not None
    given = dict(registration.case_answers.values_list("question_id", "text")) if stored else {}
    return answers_from(registration, questions, given)


def save_answers(registration, texts, at=None):
    """Store the participant's answers ([(question, text)], the questions as the page showed
    them: a default one not stored yet stands for the stored one at its position) until the
    deadline, under the registration's row lock (whatever the page showed). Returns True
    when anything changed."""
    at = at or timezone.now()
    with transaction.atomic():
        current = Registration.objects.select_for_update().get(pk=registration.pk)
        intake = Intake.objects.for_edition(current.edition)
        if current.status != Registration.Status.CONFIRMED:
            raise AnswersClosed("Je casus invullen kan zodra je inschrijving bevestigd is.")
        if not intake.is_open(at):
            raise AnswersClosed(
                "De deadline voor je casus is voorbij: je kunt hem nu alleen nog lezen."
            )
        # The sign-up's text moves into the answers now: the form showed it as the first one.
        changed = bool(current.own_case)
        if current.own_case:
            Registration.objects.filter(pk=current.pk).update(own_case="", updated_at=at)
            registration.own_case = ""
        stored = {question.pk: question for question in intake.questions.all()}
        by_position = {question.position: question for question in stored.values()}
        for shown, text in texts:
            question = stored.get(shown.pk) if shown.pk else by_position.get(shown.position)
            if question is None:
                continue  # removed by staff since the page was shown
            text = text.strip()
            answer, created = Answer.objects.get_or_create(
                registration=current, question=question, defaults={"text": text, "updated_at": at}
            )
            if created:
                changed = changed or bool(text)
            elif answer.text != text:
                Answer.objects.filter(pk=answer.pk).update(text=text, updated_at=at)
                changed = True
        return changed


def erase_answers_of(registration):
    """A substitute takes the place: the previous person's case goes with them
    (settings.PARTICIPANT_HOOKS "substituted")."""
    Answer.objects.filter(registration=registration).delete()
