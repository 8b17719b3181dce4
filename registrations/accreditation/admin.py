from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html

from werkplaats.admin_tools import admin_page

from . import admin_views
from .models import Entry, missing_number


class EntryInline(admin.StackedInline):
    """Who gave a registration number for the register, with the final assignment's tick."""

    model = Entry
    fields = ["registration", "number", "final_assignment_passed"]
    raw_id_fields = ["registration"]
    # Stacked, not a table: each box has its own label (a table row's boxes have none).
    extra = 0


class RegisterAdmin(admin.ModelAdmin):
    """Per edition the registers that accredit it, their numbers and rule, the participants'
    registration numbers, and the export each register's portal imports."""

    list_display = ["name", "edition", "accreditation_id", "points", "rule", "export_link"]
    list_filter = ["edition"]
    list_select_related = ["edition"]
    search_fields = ["name", "accreditation_id"]
    fields = [
        "edition",
        "name",
        "accreditation_id",
        "points",
        "hours_per_part",
        "rule",
        "final_assignment_required",
        "number_format",
        "export_columns",
        "export_link",
    ]
    readonly_fields = ["export_link"]
    inlines = [EntryInline]

    class Media:
        css = {"all": ["css/accreditation_admin.css"]}

    @admin.display(description="export")
    def export_link(self, register):
        if register.pk is None:
            return "–"
        url = reverse("admin:accreditation_register_export", args=[register.pk])
        return format_html('<a href="{}">Punten voor {} (csv)</a>', url, register.name)

    def get_urls(self):
        return [
            path(
                "<int:pk>/export.csv",
                admin_page(self, admin_views.register_export),
                name="accreditation_register_export",
            ),
            *super().get_urls(),
        ]


class EntryAdmin(admin.ModelAdmin):
    """The registration numbers participants gave; staff tick "eindopdracht behaald" here,
    for the selected at once or on an entry's own page (no boxes in the list: a box in a
    table row has no label of its own)."""

    list_display = ["registration", "register", "number", "final_assignment_passed"]
    list_filter = ["register__edition", "register", "final_assignment_passed"]
    list_select_related = ["registration", "register", "register__edition"]
    search_fields = ["registration__last_name", "registration__first_name", "number"]
    raw_id_fields = ["registration"]
    actions = ["mark_final_assignment_passed", "mark_final_assignment_not_passed"]

    class Media:
        css = {"all": ["css/accreditation_admin.css"]}

    @admin.action(description="Eindopdracht behaald", permissions=["change"])
    def mark_final_assignment_passed(self, request, queryset):
        count = queryset.update(final_assignment_passed=True)
        self.message_user(request, f"Eindopdracht behaald bij {count} deelnemer(s).")

    @admin.action(description="Eindopdracht niet behaald", permissions=["change"])
    def mark_final_assignment_not_passed(self, request, queryset):
        count = queryset.update(final_assignment_passed=False)
        self.message_user(request, f"Eindopdracht niet behaald bij {count} deelnemer(s).")


class MissingNumberFilter(admin.SimpleListFilter):
    """Participants of an edition with a register who gave no registration number: whom
    staff ask for one."""

    title = "registratienummer"
    parameter_name = "registratienummer"

    def lookups(self, request, model_admin):
        return [("ontbreekt", "ontbreekt (editie met register)")]

    def queryset(self, request, queryset):
        if self.value() == "ontbreekt":
            return missing_number(queryset)
        return queryset


class AccreditationRegistrationMixin:
    """What accreditation adds to the registration admin: who misses a registration number
    (`list_filter`, the addition only)."""

    list_filter = [MissingNumberFilter]
