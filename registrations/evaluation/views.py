from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from registrations.models import Registration
from registrations.views import personal

from .forms import EvaluationForm
from .models import EvaluationRefused, Questionnaire, refusal, submit


def personal_section(registration, at, bound=None):
    """A link to the evaluation on the personal page (settings.PERSONAL_PAGE_SECTIONS), while
    the participant can fill it in; no query before the edition has ended."""
    if registration.status != Registration.Status.CONFIRMED:
        return None
    if not registration.edition.has_ended(at) or refusal(registration, at):
        return None
    return {"template": "evaluation/_personal.html"}


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request, token):
    """The evaluation, for a participant recorded present, once: the personal link is the key.
    The answers are stored without the person (models.submit); a second try is refused."""
    registration = personal(token)
    edition = registration.edition
    context = {"registration": registration, "edition": edition}
    reason = refusal(registration)
    if reason:
        context["refusal"] = reason
        return render(request, "evaluation/answer.html", context, status=409)
    questionnaire = Questionnaire.objects.for_edition(edition)
    questions = list(questionnaire.questions.all())
    form = EvaluationForm(questions, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            submit(registration, form.answers())
        except EvaluationRefused as refused:
            context["refusal"] = str(refused)
            return render(request, "evaluation/answer.html", context, status=409)
        # No log line: its time would tell on which day this person answered, and the
        # response keeps its day.
        return render(request, "evaluation/thanks.html", context)
    context.update({"form": form, "closes_on": questionnaire.closes_on()})
    return render(request, "evaluation/answer.html", context, status=400 if form.errors else 200)
