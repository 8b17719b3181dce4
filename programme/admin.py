from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils import timezone

from werkplaats import formats

from .models import Contact, Day, PrivacyStatement, Section, Session, amsterdam_date


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class DayInline(admin.TabularInline):
    model = Day
    extra = 0


class SessionInline(admin.StackedInline):
    model = Session
    extra = 0
    fields = [("day", "order"), ("start_time", "end_time"), ("title", "kind"), "description"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only the days of the edition being edited.
        if db_field.name == "day":
            edition_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Day.objects.filter(edition_id=edition_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


MONEY_FIELDS = ["price_excl_vat", "vat_rate", "vat_exemption_text"]


class EditionAdmin(admin.ModelAdmin):
    """Staff (Medewerkers) edit the content; the money fields belong to finance, who may
    change only those (permission change_edition_price)."""

    list_display = ["title", "start_date", "registration_deadline", "is_published", "capacity"]
    list_filter = ["is_published", "is_demo"]
    search_fields = ["title", "venue_name"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "start_date"
    actions = ["duplicate_editions"]
    inlines = [SectionInline, ContactInline, DayInline, SessionInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "is_published", "is_demo", "organisers", "intro"]}),
        (
            "Wanneer en waar",
            {
                "fields": [
                    ("start_date", "end_date"),
                    ("daily_start_time", "daily_end_time"),
                    "venue_name",
                    ("venue_address", "venue_postcode", "venue_city"),
                ]
            },
        ),
        ("Prijs en btw", {"fields": [*MONEY_FIELDS, "price_includes"]}),
        (
            "Inschrijving",
            {
                "fields": [
                    "registration_deadline",
                    ("capacity", "max_participants_per_order"),
                    "terms",
                ]
            },
        ),
        ("Bewijs van deelname", {"fields": ["contact_hours_per_day", "accreditation_text"]}),
        ("Privacy", {"fields": ["retention_months"]}),
    ]

    @staticmethod
    def may_change_price(request):
        return request.user.has_perm("programme.change_edition_price")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or self.may_change_price(request)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not self.may_change_price(request):
            readonly += MONEY_FIELDS
        if not super().has_change_permission(request, obj):
            # Finance: the money fields only.
            editable = set(MONEY_FIELDS)
            readonly += [
                name
                for name in flatten_fieldsets(self.get_fieldsets(request, obj))
                if name not in editable and name not in readonly
            ]
        return readonly

    def get_prepopulated_fields(self, request, obj=None):
        if not super().has_change_permission(request, obj) and obj is not None:
            return {}
        return super().get_prepopulated_fields(request, obj)

    # Duplicating creates editions: only for those who may add them, not view-only finance.
    @admin.action(
        description="Dupliceren als concept (een jaar later, zelfde weekdagen)",
        permissions=["add"],
    )
    def duplicate_editions(self, request, queryset):
        today = amsterdam_date(timezone.now())
        for edition in queryset:
            # 52 weeks keeps the weekdays; add years until the copy lies in the future.
            weeks = 52
            while edition.start_date.toordinal() + weeks * 7 <= today.toordinal():
                weeks += 52
            copy = edition.duplicate(weeks=weeks)
            self.message_user(
                request,
                f"Concept aangemaakt: {copy.title}, {formats.day(copy.start_date)} (niet gepubliceerd).",
                messages.SUCCESS,
            )


class PrivacyStatementAdmin(admin.ModelAdmin):
    """One row: the list page goes straight to it (or to adding it, the first time)."""

    fields = [
        "controller",
        "purpose",
        "data",
        "recipients",
        "legal_basis",
        "retention",
        "rights",
        "complaint",
        "contact",
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not PrivacyStatement.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        statement = PrivacyStatement.objects.first()
        if statement:
            return redirect("admin:programme_privacystatement_change", statement.pk)
        return redirect("admin:programme_privacystatement_add")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        missing = obj.missing_facts()
        if missing:
            self.message_user(
                request,
                f"Nog in te vullen: {', '.join(missing)} (zie '[in te vullen door Platform31]').",
                messages.WARNING,
            )
