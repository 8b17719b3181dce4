"""Intake's own admin pages: the cases of an edition as a page, a PDF and a CSV, for staff
who may read them (intake.view_answer). admin.py wires them in with get_urls."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse

from . import cases
from .models import Intake

READ = "intake.view_answer"


def _intake(request, pk):
    if not request.user.has_perm(READ):
        raise PermissionDenied
    return get_object_or_404(Intake.objects.select_related("edition"), pk=pk)


def cases_page(model_admin, request, pk):
    intake = _intake(request, pk)
    edition = intake.edition
    _, _, rows = cases.edition_rows(edition)
    links = [
        {"label": "Pdf om te printen", "url": reverse("admin:intake_intake_cases_pdf", args=[pk])},
        {"label": "Csv", "url": reverse("admin:intake_intake_cases_csv", args=[pk])},
    ]
    crumbs = [{"label": "Casusvragen", "url": reverse("admin:intake_intake_changelist")}]
    return cases.page(request, model_admin, edition, f"Casussen {edition}", rows, links, crumbs)


def cases_pdf(model_admin, request, pk):
    intake = _intake(request, pk)
    _, _, rows = cases.edition_rows(intake.edition)
    return cases.pdf_response(
        request, intake.edition, "Casussen", rows, f"casussen-{intake.edition.slug}.pdf"
    )


def cases_csv(model_admin, request, pk):
    intake = _intake(request, pk)
    _, questions, rows = cases.edition_rows(intake.edition)
    return cases.csv_download(
        request, intake.edition, questions, rows, f"casussen-{intake.edition.slug}.csv"
    )
