"""The cases leave on time: `erase_after_weeks` after the event (a step of apply_retention,
settings.RETENTION_STEPS). A case may describe residents of a neighbourhood; nobody needs it
once the event and its follow-up are over."""

from django.db import models, transaction
from django.utils import timezone

from programme.models import Edition, amsterdam_date
from registrations.accesslog.changes import log_change
from registrations.models import Registration, RetentionRecord

from .models import Answer, Intake


def editions_due(at=None):
    """[(edition, due date)] of ended editions past their erase date that still hold a case:
    an answer, or the text typed into the sign-up form."""
    today = amsterdam_date(at or timezone.now())
    answered = Answer.objects.filter(registration__edition=models.OuterRef("pk"))
    typed = Registration.objects.filter(edition=models.OuterRef("pk")).exclude(own_case="")
    holding = Edition.objects.filter(end_date__lt=today).filter(
        models.Exists(answered) | models.Exists(typed)
    )
    found = []
    for edition in holding:
        due = Intake.objects.of(edition).erase_on()
        if due <= today:
            found.append((edition, due))
    return found


def erase_cases_of(registrations, at):
    """Erase the cases of `registrations` (a queryset): their answers and the text typed into
    the sign-up form; returns how many of them had one. The one home of what a case is, for
    the job below and for a person who asks to be erased (registrations/privacy)."""
    answers = Answer.objects.filter(registration__in=registrations)
    typed = registrations.exclude(own_case="")
    people = set(answers.values_list("registration_id", flat=True))
    people |= set(typed.values_list("pk", flat=True))
    log_change(list(Registration.objects.filter(pk__in=people)), "Casus gewist (bewaartermijn)")
    answers.delete()
    typed.update(own_case="", updated_at=at)
    return len(people)


@transaction.atomic
def erase(edition, due, at=None):
    """Erase the edition's cases, recorded; returns how many registrations had one."""
    at = at or timezone.now()
    count = erase_cases_of(Registration.objects.filter(edition=edition), at)
    RetentionRecord.objects.create(
        edition=edition,
        action=RetentionRecord.Action.CASES_ERASED,
        registrations=count,
        due_on=due,
        done_at=at,
    )
    return count


def erase_cases(dry_run=False, at=None):
    """The step apply_retention runs: the lines it reports."""
    lines = []
    for edition, due in editions_due(at):
        if dry_run:
            lines.append(f"Dry run: casussen van {edition} te wissen.")
        else:
            lines.append(f"{edition}: casussen gewist bij {erase(edition, due, at)}.")
    return lines
