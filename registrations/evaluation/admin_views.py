"""Evaluation's own admin pages: an edition's results and their CSV, for staff who may see
the evaluation (evaluation.view_questionnaire). admin.py wires them in with get_urls."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from . import results
from .models import Questionnaire

VIEW = "evaluation.view_questionnaire"


def _questionnaire(request, pk):
    if not request.user.has_perm(VIEW):
        raise PermissionDenied
    return get_object_or_404(Questionnaire.objects.select_related("edition"), pk=pk)


def results_page(model_admin, request, pk):
    questionnaire = _questionnaire(request, pk)
    context = {
        **model_admin.admin_site.each_context(request),
        **results.edition_results(questionnaire),
        "title": f"Resultaten evaluatie {questionnaire.edition}",
        "questionnaire": questionnaire,
        "csv_url": reverse("admin:evaluation_questionnaire_results_csv", args=[pk]),
        "opts": model_admin.opts,
    }
    return TemplateResponse(request, "evaluation/results.html", context)


def results_csv(model_admin, request, pk):
    return results.csv_download(_questionnaire(request, pk))
