"""The cases as staff and coaches read them: rows of (when, participant, answers), shown as a
page, a PDF for printing and a CSV, by intake per edition and by coaching per coach."""

import io

from django.http import FileResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import translation

from registrations.accesslog.log import Kind, record
from registrations.models import Registration
from werkplaats import formats, pdf
from werkplaats.exports import csv_response, dutch_name_key

from .models import Answer, Intake, answers_from


def row(registration, questions, given, when=""):
    """One row; `given`: {(registration id, question id): text} of everyone in the list."""
    answers = []
    if registration is not None:
        mine = {
            q.pk: given[(registration.pk, q.pk)]
            for q in questions
            if (registration.pk, q.pk) in given
        }
        answers = answers_from(registration, questions, mine)
    return {"when": when, "registration": registration, "answers": answers}


def answers_given(edition):
    """{(registration id, question id): text} of the edition, in one query."""
    found = Answer.objects.filter(registration__edition=edition)
    return {(a, q): t for a, q, t in found.values_list("registration_id", "question_id", "text")}


def edition_rows(edition):
    """Every confirmed participant of `edition` with their answers, in Dutch name order."""
    intake = Intake.objects.for_edition(edition)
    questions = list(intake.questions.all())
    given = answers_given(edition)
    people = Registration.objects.filter(edition=edition).confirmed()
    people = sorted(people, key=lambda r: dutch_name_key(r.last_name, r.first_name))
    return intake, questions, [row(person, questions, given) for person in people]


def page(request, model_admin, edition, title, rows, links, crumbs=()):
    intake = Intake.objects.for_edition(edition)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "edition": edition,
        "period": formats.period(edition.start_date, edition.end_date),
        "erase_on": formats.day(intake.erase_on()),
        "rows": rows,
        "links": links,
        "crumbs": crumbs,
    }
    return TemplateResponse(request, "intake/cases.html", context)


def _record(request, what, edition, rows, reference):
    people = sum(1 for r in rows if r["registration"] is not None)
    record(Kind.EXPORT, what, request=request, count=people, edition=edition, reference=reference)


def pdf_response(request, edition, title, rows, filename, reference=""):
    """The rows as a PDF download, recorded in the access log (a case may describe residents)."""
    _record(request, "Casussen (PDF)", edition, rows, reference)
    with translation.override("nl"):
        html = render_to_string(
            "intake/cases_pdf.html",
            {
                "font_family": pdf.FONT_FAMILY,
                "title": title,
                "edition": edition,
                "period": formats.period(edition.start_date, edition.end_date),
                "rows": rows,
            },
        )
    content = pdf.render_html(
        html,
        stylesheet="css/cases.css",
        identifier=filename,
        created=edition.start_date.isoformat(),
    )
    return FileResponse(
        io.BytesIO(content), as_attachment=True, filename=filename, content_type="application/pdf"
    )


def csv_download(request, edition, questions, rows, filename, reference=""):
    _record(request, "Casussen (CSV)", edition, rows, reference)
    header = ["Tijdstip", "Naam", "Organisatie", *[q.text for q in questions]]
    lines = [
        [r["when"], r["registration"].full_name, r["registration"].organisation]
        + [text for _, text in r["answers"]]
        for r in rows
        if r["registration"] is not None
    ]
    return csv_response(filename, header, lines)
