from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html

from werkplaats.admin_tools import admin_page

from . import admin_views, results
from .models import DEFAULT_QUESTIONS, Question


class QuestionInline(admin.StackedInline):
    model = Question
    fields = ["position", "kind", "text", "help_text", "scale_max", "choices"]

    def get_extra(self, request, obj=None, **kwargs):
        # A new evaluation starts with the default questions filled in (QuestionnaireAdmin).
        return 0 if obj else len(DEFAULT_QUESTIONS)


class QuestionnaireAdmin(admin.ModelAdmin):
    """Per edition: the questions (kind, order), the reminder and how long it stays open; with
    the results (page and CSV). A question with answers cannot be deleted."""

    list_display = ["edition", "closes_on", "response", "results_links"]
    list_select_related = ["edition"]
    fields = ["edition", "remind_after_days", "open_weeks", "results_links"]
    readonly_fields = ["results_links"]
    inlines = [QuestionInline]

    class Media:
        css = {"all": ["css/evaluation_admin.css"]}

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if obj.pk is None and request.method == "GET":
            kwargs["initial"] = [
                {
                    "position": position,
                    "kind": kind,
                    "text": text,
                    "help_text": help_text,
                    "scale_max": scale,
                }
                for position, (kind, text, help_text, scale) in enumerate(
                    DEFAULT_QUESTIONS, start=1
                )
            ]
        return kwargs

    def get_readonly_fields(self, request, obj=None):
        # One evaluation per edition: which edition it belongs to is chosen once.
        return [*self.readonly_fields, *(["edition"] if obj else [])]

    @admin.display(description="invullen tot en met")
    def closes_on(self, questionnaire):
        return questionnaire.closes_on()

    @admin.display(description="respons")
    def response(self, questionnaire):
        asked, answered, percent = results.rate(questionnaire)
        if percent is None:
            return "–"
        return f"{answered} van {asked} ({percent}%)"

    @admin.display(description="resultaten")
    def results_links(self, questionnaire):
        if questionnaire.pk is None:
            return "–"
        return format_html(
            '<a href="{}">Bekijken</a> · <a href="{}">csv</a>',
            reverse("admin:evaluation_questionnaire_results", args=[questionnaire.pk]),
            reverse("admin:evaluation_questionnaire_results_csv", args=[questionnaire.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/resultaten/",
                admin_page(self, admin_views.results_page),
                name="evaluation_questionnaire_results",
            ),
            path(
                "<int:pk>/resultaten.csv",
                admin_page(self, admin_views.results_csv),
                name="evaluation_questionnaire_results_csv",
            ),
            *super().get_urls(),
        ]
