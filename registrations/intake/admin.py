from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html

from registrations.models import Registration
from werkplaats.admin_tools import admin_page

from . import admin_views
from .models import DEFAULT_QUESTIONS, Question, without_case


class QuestionInline(admin.TabularInline):
    model = Question
    fields = ["position", "text", "help_text"]

    def get_extra(self, request, obj=None, **kwargs):
        # A new intake starts with the default questions filled in (IntakeAdmin).
        return 0 if obj else len(DEFAULT_QUESTIONS)


class IntakeAdmin(admin.ModelAdmin):
    """Per edition: the questions, the deadline, the reminder and when the cases go; with
    the edition's cases (page, PDF, CSV) for whoever may read them."""

    list_display = ["edition", "deadline_shown", "reminder_sent_at", "without_case_count", "cases"]
    list_select_related = ["edition"]
    fields = [
        "edition",
        "deadline",
        "remind_days_before",
        "erase_after_weeks",
        "reminder_sent_at",
        "cases",
    ]
    readonly_fields = ["reminder_sent_at", "cases"]
    inlines = [QuestionInline]

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if obj.pk is None and request.method == "GET":
            kwargs["initial"] = [
                {"position": position, "text": text, "help_text": help_text}
                for position, (text, help_text) in enumerate(DEFAULT_QUESTIONS, start=1)
            ]
        return kwargs

    def get_readonly_fields(self, request, obj=None):
        # One intake per edition: which edition it belongs to is chosen once.
        return [*self.readonly_fields, *(["edition"] if obj else [])]

    @admin.display(description="invullen tot en met")
    def deadline_shown(self, intake):
        return intake.deadline_date()

    @admin.display(description="bevestigd zonder casus")
    def without_case_count(self, intake):
        return without_case(Registration.objects.filter(edition=intake.edition).confirmed()).count()

    @admin.display(description="casussen")
    def cases(self, intake):
        if intake.pk is None:
            return "–"
        return format_html(
            '<a href="{}">Lezen</a> · <a href="{}">pdf</a> · <a href="{}">csv</a>',
            reverse("admin:intake_intake_cases", args=[intake.pk]),
            reverse("admin:intake_intake_cases_pdf", args=[intake.pk]),
            reverse("admin:intake_intake_cases_csv", args=[intake.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/casussen/",
                admin_page(self, admin_views.cases_page),
                name="intake_intake_cases",
            ),
            path(
                "<int:pk>/casussen.pdf",
                admin_page(self, admin_views.cases_pdf),
                name="intake_intake_cases_pdf",
            ),
            path(
                "<int:pk>/casussen.csv",
                admin_page(self, admin_views.cases_csv),
                name="intake_intake_cases_csv",
            ),
            *super().get_urls(),
        ]
