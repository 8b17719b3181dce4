from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone

from .models import Contact, Day, Edition, Section, Session, amsterdam_date


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


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "start_date",
        "registration_deadline",
        "is_published",
        "capacity",
        "confirmed_count",
        "waiting_count",
        "cancelled_count",
        "places_left",
    ]
    list_filter = ["is_published", "is_demo"]
    search_fields = ["title", "venue_name"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "start_date"
    actions = ["duplicate_editions"]
    inlines = [SectionInline, ContactInline, DayInline, SessionInline]
    readonly_fields = ["confirmed_count", "waiting_count", "cancelled_count", "places_left"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "is_published", "is_demo", "organisers", "intro"]}),
        (
            "Wanneer en waar",
            {
                "fields": [
                    ("start_date", "end_date"),
                    ("daily_start_time", "daily_end_time"),
                    ("venue_name", "venue_city"),
                    "venue_address",
                ]
            },
        ),
        (
            "Prijs en btw",
            {"fields": ["price_excl_vat", "price_includes", "vat_rate", "vat_exemption_text"]},
        ),
        ("Inschrijving", {"fields": ["registration_deadline", "capacity", "terms"]}),
        (
            "Aantallen",
            {"fields": ["confirmed_count", "waiting_count", "cancelled_count", "places_left"]},
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_confirmed=Count("registrations", filter=Q(registrations__status="confirmed")),
                n_waiting=Count("registrations", filter=Q(registrations__status="waiting")),
                n_cancelled=Count("registrations", filter=Q(registrations__status="cancelled")),
            )
        )

    @admin.display(description="bevestigd", ordering="n_confirmed")
    def confirmed_count(self, obj):
        return getattr(obj, "n_confirmed", 0)

    @admin.display(description="wachtlijst", ordering="n_waiting")
    def waiting_count(self, obj):
        return getattr(obj, "n_waiting", 0)

    @admin.display(description="geannuleerd", ordering="n_cancelled")
    def cancelled_count(self, obj):
        return getattr(obj, "n_cancelled", 0)

    @admin.display(description="plaatsen vrij")
    def places_left(self, obj):
        if obj.capacity is None:
            return "onbeperkt"
        return max(obj.capacity - getattr(obj, "n_confirmed", 0), 0)

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
                f"Concept aangemaakt: {copy.title}, {copy.start_date:%d-%m-%Y} (niet gepubliceerd).",
                messages.SUCCESS,
            )
