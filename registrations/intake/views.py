import logging

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from registrations.accesslog.changes import PARTICIPANT, log_change
from registrations.models import Registration
from registrations.views import detail_with, personal
from werkplaats import formats

from .forms import AnswersForm
from .models import AnswersClosed, answers_of, questions_for, save_answers

logger = logging.getLogger(__name__)


def personal_section(registration, at, bound=None):
    """The case on the personal page (settings.PERSONAL_PAGE_SECTIONS): a form until the
    deadline, the answers read-only after it; for confirmed participants only."""
    if registration.status != Registration.Status.CONFIRMED or registration.edition.has_ended(at):
        return None
    questions = questions_for(registration.edition)
    if not questions:
        return None
    intake = questions[0].intake
    answers = answers_of(registration, questions)
    context = {
        "template": "intake/_personal.html",
        "answers": answers,
        "deadline": formats.day(intake.deadline_date()),
        "is_open": intake.is_open(at),
    }
    if context["is_open"]:
        initial = {AnswersForm.name_of(question): text for question, text in answers}
        context["form"] = bound or AnswersForm([q for q, _ in answers], initial=initial)
    elif bound is not None:
        context["refusals"] = bound.non_field_errors()
    return context


@never_cache
@require_POST
def answer(request, token):
    registration = personal(token)
    form = AnswersForm(questions_for(registration.edition), request.POST)
    if not form.is_valid():
        return detail_with(request, registration, 400, intake=form)
    try:
        changed = save_answers(registration, form.texts())
    except AnswersClosed as refusal:
        form.add_error(None, str(refusal))
        return detail_with(request, registration, 409, intake=form)
    if changed:
        log_change(registration, "Casus opgeslagen", actor_name=PARTICIPANT)
        logger.info("Registration %s: case saved", registration.reference)
    messages.success(request, "Je casus is opgeslagen." if changed else "Er was niets veranderd.")
    return redirect(f"{registration.get_absolute_url()}#casus")
