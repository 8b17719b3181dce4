from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from programme.models import amsterdam_date
from registrations.models import Registration, TransitionRefused
from werkplaats import formats
from werkplaats.admin_tools import (
    admin_page,
    apply_to_each,
    confirm_page,
    mail_preview,
    report_mail,
)
from werkplaats.queue import Queued

from . import admin_views, emails, tasks
from .admin_views import MANAGE, badges_response
from .models import Attendance, Certificate, CertificateRefused, edition_days, participants

# What a step of an attendance action raises to skip its row with a reason.
REFUSALS = (TransitionRefused, CertificateRefused)


class AttendanceEditionMixin:
    """What attendance adds to the edition admin: the days themselves, with the check-in
    list, the attendance list per day (PDF and CSV) and the name badges of all confirmed
    participants. `fieldsets` and `actions` hold the additions only; werkplaats/admin.py
    joins them to the others'."""

    fieldsets = [("Tijdens en na de werkplaats", {"fields": ["event_days"]})]
    actions = ["name_badges"]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "event_days"]

    @admin.display(description="aanwezigheid en badges")
    def event_days(self, edition):
        if edition.pk is None:
            return "–"
        lists = format_html_join(
            "",
            '<li>{}: <a href="{}">presentielijst (pdf)</a> · <a href="{}">csv</a></li>',
            (
                (
                    formats.day(day, weekday=True),
                    reverse(
                        "admin:programme_edition_attendance_pdf", args=[edition.pk, day.isoformat()]
                    ),
                    reverse(
                        "admin:programme_edition_attendance_csv", args=[edition.pk, day.isoformat()]
                    ),
                )
                for day in edition_days(edition)
            ),
        )
        return format_html(
            '<ul><li><a href="{}">Aanwezigheid vastleggen</a></li>{}'
            '<li><a href="{}">Naambadges van alle bevestigde deelnemers (pdf)</a></li></ul>',
            reverse("admin:programme_edition_checkin", args=[edition.pk]),
            lists,
            reverse("admin:programme_edition_badges", args=[edition.pk]),
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/aanwezigheid/",
                admin_page(self, admin_views.checkin),
                name="programme_edition_checkin",
            ),
            path(
                "<int:pk>/presentielijst/<str:day>.pdf",
                admin_page(self, admin_views.attendance_list_pdf),
                name="programme_edition_attendance_pdf",
            ),
            path(
                "<int:pk>/presentielijst/<str:day>.csv",
                admin_page(self, admin_views.attendance_list_csv),
                name="programme_edition_attendance_csv",
            ),
            path(
                "<int:pk>/naambadges.pdf",
                admin_page(self, admin_views.edition_badges),
                name="programme_edition_badges",
            ),
            *super().get_urls(),
        ]

    def has_manage_attendance_permission(self, request):
        return request.user.has_perm(MANAGE)

    @admin.action(
        description="Naambadges van alle bevestigde deelnemers (pdf)",
        permissions=["manage_attendance"],
    )
    def name_badges(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Kies één editie voor de naambadges.", messages.WARNING)
            return None
        edition = queryset.get()
        return badges_response(request, participants(edition), edition)


class CertificateToSendFilter(admin.SimpleListFilter):
    """Participants of an ended edition whose certificate has not been mailed: the
    overview's worklist, and where "Bewijs van deelname mailen…" is done."""

    title = "bewijs van deelname"
    parameter_name = "bewijs"

    def lookups(self, request, model_admin):
        return [("te_mailen", "nog te mailen (editie afgelopen)")]

    def queryset(self, request, queryset):
        if self.value() == "te_mailen":
            to_send = Certificate.objects.to_send(amsterdam_date(timezone.now()))
            return queryset.filter(pk__in=to_send.values("pk"))
        return queryset


class AttendanceRegistrationMixin:
    """What attendance adds to the registration admin: name badges for the selected, a
    no-show, and certificates of participation (`actions` and `list_filter`, the additions
    only)."""

    actions = ["name_badges", "mark_no_show", "send_certificates"]
    list_filter = [CertificateToSendFilter]

    @admin.action(
        description="Naambadges van de geselecteerde deelnemers (pdf)", permissions=["manage"]
    )
    def name_badges(self, request, queryset):
        people = list(queryset.confirmed().select_related("edition"))
        editions = {r.edition for r in people}
        if len(editions) != 1:
            self.message_user(
                request,
                "Kies bevestigde deelnemers van één editie voor de naambadges.",
                messages.WARNING,
            )
            return None
        return badges_response(request, people, editions.pop())

    @admin.action(description="Niet verschenen (op geen dag aanwezig)", permissions=["manage"])
    def mark_no_show(self, request, queryset):
        def step(registration):
            if registration.status != Registration.Status.CONFIRMED:
                raise CertificateRefused(f"{registration.reference} is geen bevestigde deelnemer.")
            Attendance.objects.mark_no_show(registration)
            return f"{registration.reference} niet verschenen"

        apply_to_each(
            self,
            request,
            queryset.select_related("edition"),
            step,
            "Niet verschenen",
            refusals=REFUSALS,
        )

    @admin.action(description="Bewijs van deelname mailen…", permissions=["manage"])
    def send_certificates(self, request, queryset):
        queryset = queryset.select_related("edition", "certificate").order_by("pk")
        if "apply" not in request.POST:
            # Nothing is sent on the first click: who gets it, who not and why, one message.
            already = [
                r for r in queryset if hasattr(r, "certificate") and r.certificate.emailed_at
            ]
            return confirm_page(
                self,
                request,
                queryset,
                "send_certificates",
                "Bewijs van deelname opnieuw mailen?" if already else "Bewijs van deelname mailen",
                "Een deel van deze deelnemers heeft het bewijs van deelname al per e-mail "
                "gekregen. Mail je het nog een keer, dan krijgen zij het dubbel."
                if already
                else "",
                rows=[
                    f"{r.reference} kreeg het al op {formats.moment(r.certificate.emailed_at)}"
                    for r in already
                ],
                mail=mail_preview(
                    "Het bewijs van deelname",
                    queryset,
                    lambda r: _certificate_recipient(r),
                    lambda r: emails.certificate_message(Certificate.objects.prepare(r)),
                    REFUSALS,
                ),
            )
        queued = Queued()

        def step(registration):
            certificate = Certificate.objects.issue(registration)
            queued.results.append(tasks.send_certificate_email.enqueue(certificate.pk))
            return registration.reference

        apply_to_each(
            self,
            request,
            queryset,
            step,
            "Bewijs van deelname gemaild",
            refusals=REFUSALS,
            failed=lambda r: f"Bewijs van deelname voor {r.reference} is niet gemaakt",
        )
        report_mail(self, request, queued, "Bewijs van deelname")
        return None


def _certificate_recipient(registration):
    Certificate.objects.prepare(registration)  # refuses with the reason the action would
    return f"{registration.full_name} <{registration.email}> ({registration.reference})"


class CertificateAdmin(admin.ModelAdmin):
    """Issued certificates, read-only: what they state is a snapshot; the PDF is rendered
    from it on request."""

    list_display = [
        "participant_name",
        "workshop_title",
        "start_date",
        "contact_hours",
        "emailed_at",
        "pdf_link",
    ]
    list_filter = ["workshop_title", ("emailed_at", admin.EmptyFieldListFilter)]
    search_fields = ["participant_name", "code"]
    readonly_fields = [
        "registration",
        "code",
        "participant_name",
        "workshop_title",
        "organisers",
        "start_date",
        "end_date",
        "venue",
        "days_attended",
        "contact_hours",
        "accreditation_text",
        "issued_at",
        "emailed_at",
        "pdf_link",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="pdf")
    def pdf_link(self, certificate):
        url = reverse("admin:attendance_certificate_pdf", args=[certificate.pk])
        return format_html('<a href="{}">{}</a>', url, certificate.filename)

    def get_urls(self):
        return [
            path(
                "<int:pk>/pdf/",
                admin_page(self, admin_views.certificate_pdf),
                name="attendance_certificate_pdf",
            ),
            *super().get_urls(),
        ]
