"""An edition's evaluation as staff read it: the response rate, per question the figures as a
chart with its table beside the previous edition's, the open answers, and a CSV without
anything personal. Built from the responses and invitations only, which the retention job
leaves alone, so the results of an edition stay when its participants are anonymised."""

from collections import Counter

from django.db.models import Prefetch

from werkplaats import charts, formats
from werkplaats.exports import csv_response

from .models import OPEN, Answer, Invitation, Questionnaire, Response


def previous(questionnaire):
    """The questionnaire of the edition before this one (the latest that ended before it
    started), or None."""
    return (
        Questionnaire.objects.filter(edition__end_date__lt=questionnaire.edition.start_date)
        .select_related("edition")
        .order_by("-edition__end_date")
        .first()
    )


def rate(questionnaire):
    """(asked, answered, rate in percent or None): asked are the invitations, answered the
    responses stored."""
    asked = Invitation.objects.filter(registration__edition=questionnaire.edition).count()
    answered = Response.objects.filter(questionnaire=questionnaire).count()
    percent = round(100 * answered / asked) if asked else None
    return asked, answered, percent


def _figures(questionnaire):
    """{(kind, text): (question, Counter of values, [open texts])}, two queries."""
    questions = list(questionnaire.questions.all())
    answers = Answer.objects.filter(response__questionnaire=questionnaire)
    given = {question.pk: (Counter(), []) for question in questions}
    for question_id, value, text in answers.values_list("question_id", "value", "text"):
        counts, texts = given[question_id]
        if value:
            counts[value] += 1
        if text:
            texts.append(text)
    return {(q.kind, q.text): (q, *given[q.pk]) for q in questions}


def _chart(key, title, question, counts):
    options = question.options()
    extra = [value for value in counts if value not in options]  # a choice since removed
    labels = [*options, *extra]
    values = [counts.get(label, 0) for label in labels]
    total = sum(values)
    summary = f"{total} antwoord{'en' if total != 1 else ''}"
    if question.kind == "scale" and total:
        mean = sum(
            int(label) * n for label, n in zip(labels, values, strict=True) if label.isdigit()
        )
        summary += f", gemiddeld {formats.decimal(round(mean / total, 1))}"
    return charts.bars(key, title, labels, values, summary=summary + ".", label_header="antwoord")


def edition_results(questionnaire):
    """What the results page shows: the rate of this and the previous edition, and per
    question of this one its chart, the previous edition's chart for the same question (by
    its text) and the open answers."""
    before = previous(questionnaire)
    mine = _figures(questionnaire)
    theirs = _figures(before) if before else {}
    questions = []
    for (kind, text), (question, counts, texts) in mine.items():
        item = {"question": question, "texts": texts}
        if kind != OPEN:
            item["chart"] = _chart(f"q{question.pk}", str(questionnaire.edition), question, counts)
            if (kind, text) in theirs:
                old_question, old_counts, _ = theirs[(kind, text)]
                item["previous_chart"] = _chart(
                    f"q{question.pk}-vorige", str(before.edition), old_question, old_counts
                )
        questions.append(item)
    return {
        "rate": rate(questionnaire),
        "previous": before,
        "previous_rate": rate(before) if before else None,
        "questions": questions,
    }


def csv_download(questionnaire):
    """One row per filled-in evaluation, one column per question; the rows in the order of
    their random ids, no date, no name: nothing personal."""
    questions = list(questionnaire.questions.all())
    responses = Response.objects.filter(questionnaire=questionnaire).prefetch_related(
        Prefetch("answers", queryset=Answer.objects.order_by())
    )
    rows = []
    for number, response in enumerate(responses, start=1):
        given = {a.question_id: a.text or a.value for a in response.answers.all()}
        rows.append([number, *[given.get(q.pk, "") for q in questions]])
    return csv_response(
        f"evaluatie-{questionnaire.edition.slug}.csv",
        ["Nr", *[q.text for q in questions]],
        rows,
    )
