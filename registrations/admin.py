import csv

from django.contrib import admin, messages
from django.http import HttpResponse
from django.utils import timezone

from . import emails
from .models import Registration


def csv_response(filename, header, rows):
    """A CSV download Excel opens correctly: UTF-8 with a byte-order mark, semicolons."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(header)
    writer.writerows(rows)
    return response


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = [
        "full_name",
        "organisation",
        "sector",
        "edition",
        "status",
        "created_at",
        "email",
    ]
    list_filter = ["edition", "status", "sector", "role", "overnight_stay"]
    search_fields = [
        "first_name",
        "last_name",
        "email",
        "organisation",
        "invoice_organisation",
        "po_number",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["edition"]
    readonly_fields = [
        "reference",
        "token",
        "created_at",
        "updated_at",
        "cancelled_at",
        "confirmation_sent_at",
        "anonymised_at",
    ]
    actions = [
        "confirm_from_waiting_list",
        "cancel_registrations",
        "resend_confirmation",
        "export_participants",
        "export_venue_list",
    ]
    fieldsets = [
        (None, {"fields": ["edition", "status", "reference"]}),
        (
            "Deelnemer",
            {
                "fields": [
                    ("first_name", "last_name"),
                    ("email", "phone"),
                    ("organisation", "job_title"),
                    ("sector", "role"),
                ]
            },
        ),
        (
            "Deelname",
            {"fields": ["own_case", "dietary_needs", "accessibility_needs", "overnight_stay"]},
        ),
        (
            "Factuurgegevens",
            {
                "fields": [
                    "invoice_organisation",
                    "invoice_attention",
                    "invoice_street",
                    ("invoice_postcode", "invoice_city"),
                    "invoice_country",
                    "invoice_email",
                    ("po_number", "vat_id"),
                ]
            },
        ),
        (
            "Administratie",
            {
                "fields": [
                    ("terms_accepted_at", "privacy_accepted_at"),
                    ("created_at", "updated_at"),
                    ("cancelled_at", "confirmation_sent_at"),
                    "anonymised_at",
                    "token",
                ]
            },
        ),
    ]

    def get_changeform_initial_data(self, request):
        # Staff adding a registration by hand (e.g. after the deadline) record consent now.
        now = timezone.now()
        return {
            "terms_accepted_at": now,
            "privacy_accepted_at": now,
            **super().get_changeform_initial_data(request),
        }

    @admin.action(
        description="Bevestigen vanaf wachtlijst (als er plaats is)", permissions=["change"]
    )
    def confirm_from_waiting_list(self, request, queryset):
        confirmed, refused = 0, 0
        for registration in queryset.filter(status=Registration.Status.WAITING).order_by(
            "created_at"
        ):
            if registration.confirm_from_waiting_list():
                confirmed += 1
                emails.send_confirmation(registration)
            else:
                refused += 1
        skipped = queryset.exclude(status=Registration.Status.WAITING).count()
        if confirmed:
            self.message_user(
                request, f"{confirmed} inschrijving(en) bevestigd en gemaild.", messages.SUCCESS
            )
        if refused:
            self.message_user(
                request,
                f"{refused} inschrijving(en) niet bevestigd: de editie is vol.",
                messages.WARNING,
            )
        if skipped:
            self.message_user(
                request,
                f"{skipped} inschrijving(en) overgeslagen: die stonden niet op de wachtlijst.",
                messages.INFO,
            )

    @admin.action(description="Annuleren", permissions=["change"])
    def cancel_registrations(self, request, queryset):
        cancelled = 0
        for registration in queryset.active():
            registration.cancel()
            cancelled += 1
        self.message_user(
            request,
            f"{cancelled} inschrijving(en) geannuleerd. Is er al gefactureerd, maak dan een "
            "creditfactuur.",
            messages.SUCCESS,
        )

    @admin.action(description="Bevestiging opnieuw versturen", permissions=["change"])
    def resend_confirmation(self, request, queryset):
        sent = failed = 0
        for registration in queryset.active().select_related("edition"):
            if emails.send_confirmation(registration):
                sent += 1
            else:
                failed += 1
        if sent:
            self.message_user(request, f"{sent} bevestiging(en) verstuurd.", messages.SUCCESS)
        if failed:
            self.message_user(
                request,
                f"{failed} bevestiging(en) konden niet worden verstuurd: de mailserver "
                "reageert niet. Probeer het later opnieuw.",
                messages.ERROR,
            )

    @admin.action(description="Exporteer deelnemerslijst (CSV)", permissions=["view"])
    def export_participants(self, request, queryset):
        header = [
            "Referentie",
            "Editie",
            "Status",
            "Voornaam",
            "Achternaam",
            "E-mail",
            "Telefoon",
            "Organisatie",
            "Functie",
            "Sector",
            "Rol",
            "Overnachten",
            "Kenmerk factuur",
            "Ingeschreven op",
        ]
        rows = (
            [
                r.reference,
                r.edition.title,
                r.get_status_display(),
                r.first_name,
                r.last_name,
                r.email,
                r.phone,
                r.organisation,
                r.job_title,
                r.get_sector_display(),
                r.get_role_display(),
                "ja" if r.overnight_stay else "nee",
                r.po_number,
                timezone.localtime(r.created_at).strftime("%d-%m-%Y %H:%M"),
            ]
            for r in queryset.select_related("edition").order_by("last_name", "first_name")
        )
        return csv_response("deelnemers.csv", header, rows)

    @admin.action(
        description="Exporteer lijst voor de locatie: dieet en toegankelijkheid (CSV)",
        permissions=["view"],
    )
    def export_venue_list(self, request, queryset):
        header = ["Naam", "Organisatie", "Overnachten", "Dieetwensen", "Toegankelijkheid/wensen"]
        rows = (
            [
                r.full_name,
                r.organisation,
                "ja" if r.overnight_stay else "nee",
                r.dietary_needs,
                r.accessibility_needs,
            ]
            for r in queryset.active().order_by("last_name", "first_name")
        )
        return csv_response("locatie-dieet-toegankelijkheid.csv", header, rows)
