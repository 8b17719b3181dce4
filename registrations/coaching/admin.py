from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html_join

from registrations.models import Registration
from werkplaats.admin_tools import admin_page

from . import admin_views
from .models import CoachSlot, SlotRefused


class CoachAdmin(admin.ModelAdmin):
    list_display = ["name", "about", "user", "schedules"]
    fields = ["name", "about", "user", "schedules"]
    readonly_fields = ["schedules"]
    raw_id_fields = ["user"]

    @admin.display(description="roosters met casussen")
    def schedules(self, coach):
        if coach.pk is None:
            return "–"
        editions = {slot.edition for slot in coach.slots.select_related("edition")}
        return (
            format_html_join(
                " · ",
                '<a href="{}">{}</a>',
                (
                    (reverse("admin:coaching_coachslot_schedule", args=[coach.pk, e.pk]), str(e))
                    for e in sorted(editions, key=lambda e: e.start_date)
                ),
            )
            or "–"
        )


class TakenFilter(admin.SimpleListFilter):
    title = "bezet"
    parameter_name = "bezet"

    def lookups(self, request, model_admin):
        return [("ja", "geboekt"), ("nee", "vrij")]

    def queryset(self, request, queryset):
        if self.value() == "ja":
            return queryset.filter(registration__isnull=False)
        if self.value() == "nee":
            return queryset.free()
        return queryset


class CoachSlotForm(forms.ModelForm):
    class Meta:
        model = CoachSlot
        fields = ["edition", "coach", "day", "start", "end", "room", "registration"]

    def _get_validation_exclusions(self):
        # Moving someone here from another slot is allowed: CoachSlot.objects.assign frees
        # their old slot in the same transaction, so the one-to-one key holds.
        return {*super()._get_validation_exclusions(), "registration"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "registration" in self.fields:
            # Staff assign a confirmed participant of the slot's edition (checked again,
            # under the lock, by CoachSlot.objects.assign).
            people = Registration.objects.confirmed().select_related("edition")
            if self.instance.pk:
                people = people.filter(edition=self.instance.edition_id)
            self.fields["registration"].queryset = people.order_by("last_name", "first_name")
            self.fields["registration"].help_text = (
                "Leeg: het tijdstip is vrij. Heeft de deelnemer al een ander tijdstip, dan "
                "verhuist die hierheen."
            )


class CoachSlotAdmin(admin.ModelAdmin):
    """The slots per edition: staff define them and assign, move or free who has one."""

    form = CoachSlotForm
    list_display = ["day", "start", "end", "coach", "room", "registration", "edition"]
    list_filter = ["edition", "coach", TakenFilter]
    list_select_related = ["coach", "registration", "edition"]
    actions = ["free_slots"]

    def get_fields(self, request, obj=None):
        # The participant is chosen once the slot exists (and so its edition).
        fields = ["edition", "coach", "day", "start", "end", "room"]
        return [*fields, "registration"] if obj else fields

    def save_model(self, request, obj, form, change):
        registration = form.cleaned_data.get("registration")
        obj.registration = CoachSlot.objects.get(pk=obj.pk).registration if change else None
        super().save_model(request, obj, form, change)
        if change and registration != obj.registration:
            try:
                CoachSlot.objects.assign(obj, registration)
            except SlotRefused as refusal:
                messages.error(request, str(refusal))

    @admin.action(description="Geselecteerde tijdstippen vrijmaken", permissions=["change"])
    def free_slots(self, request, queryset):
        freed = 0
        for slot in queryset.filter(registration__isnull=False):
            CoachSlot.objects.assign(slot, None)
            freed += 1
        self.message_user(request, f"{freed} tijdstip(pen) vrijgemaakt.", messages.SUCCESS)

    def get_model_perms(self, request):
        # A coach (group Coaches) sees one entry: their own schedule.
        perms = super().get_model_perms(request)
        if not any(perms.values()) and request.user.has_perm(admin_views.OWN):
            perms["view"] = True
        return perms

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            if request.user.has_perm(admin_views.OWN):
                return redirect("admin:coaching_coachslot_own_schedule")
            raise PermissionDenied
        editions = (
            CoachSlot.objects.values_list("edition", "edition__title", "edition__start_date")
            .distinct()
            .order_by("-edition__start_date")
        )
        extra_context = {
            **(extra_context or {}),
            "without_slot_links": [
                (reverse("admin:coaching_coachslot_without_slot", args=[pk]), title, start)
                for pk, title, start in editions
            ],
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "rooster/<int:coach_pk>/<int:edition_pk>/",
                admin_page(self, admin_views.schedule),
                name="coaching_coachslot_schedule",
            ),
            path(
                "rooster/<int:coach_pk>/<int:edition_pk>.pdf",
                admin_page(self, admin_views.schedule_pdf),
                name="coaching_coachslot_schedule_pdf",
            ),
            path(
                "rooster/<int:coach_pk>/<int:edition_pk>.csv",
                admin_page(self, admin_views.schedule_csv),
                name="coaching_coachslot_schedule_csv",
            ),
            path(
                "mijn-rooster/",
                admin_page(self, admin_views.own_schedule),
                name="coaching_coachslot_own_schedule",
            ),
            path(
                "mijn-rooster.pdf",
                admin_page(self, admin_views.own_schedule_pdf),
                name="coaching_coachslot_own_schedule_pdf",
            ),
            path(
                "zonder-gesprek/<int:edition_pk>/",
                admin_page(self, admin_views.without_slot),
                name="coaching_coachslot_without_slot",
            ),
            *super().get_urls(),
        ]
