import datetime
import io

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from programme.models import Edition
from registrations import admin as registrations_admin
from registrations.exports import csv_response
from registrations.models import Registration
from werkplaats import formats
from werkplaats.queue import Queued

from . import pdf, tasks
from .models import (
    Attendance,
    Certificate,
    CertificateRefused,
    edition_days,
    participants,
    recordable_days,
)

MANAGE = "registrations.change_registration"
VIEW = "registrations.view_registration"


def _require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _pdf_response(content, filename):
    return FileResponse(
        io.BytesIO(content), as_attachment=True, filename=filename, content_type="application/pdf"
    )


def badges_response(registrations, edition):
    return _pdf_response(pdf.badges(registrations, edition), f"naambadges-{edition.slug}.pdf")


class AttendanceEditionAdmin(registrations_admin.EditionWithPlacesAdmin):
    """The edition admin with the days themselves: the check-in list, the attendance list per
    day (PDF and CSV) and the name badges of all confirmed participants."""

    fieldsets = [
        *registrations_admin.EditionWithPlacesAdmin.fieldsets,
        ("Tijdens en na de werkplaats", {"fields": ["event_days"]}),
    ]
    actions = [*registrations_admin.EditionWithPlacesAdmin.actions, "name_badges"]

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
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/aanwezigheid/", view(self.checkin_view), name="programme_edition_checkin"
            ),
            path(
                "<int:pk>/presentielijst/<str:day>.pdf",
                view(self.attendance_list_pdf),
                name="programme_edition_attendance_pdf",
            ),
            path(
                "<int:pk>/presentielijst/<str:day>.csv",
                view(self.attendance_list_csv),
                name="programme_edition_attendance_csv",
            ),
            path(
                "<int:pk>/naambadges.pdf", view(self.badges_view), name="programme_edition_badges"
            ),
            *super().get_urls(),
        ]

    @staticmethod
    def _edition_day(pk, day):
        edition = get_object_or_404(Edition, pk=pk)
        try:
            date = datetime.date.fromisoformat(day)
        except ValueError:
            raise Http404 from None
        if date not in edition_days(edition):
            raise Http404
        return edition, date

    def attendance_list_pdf(self, request, pk, day):
        _require(request, VIEW)
        edition, date = self._edition_day(pk, day)
        return _pdf_response(
            pdf.attendance_list(edition, date), f"presentielijst-{edition.slug}-{date}.pdf"
        )

    def attendance_list_csv(self, request, pk, day):
        _require(request, VIEW)
        edition, date = self._edition_day(pk, day)
        rows = [
            [n, r.full_name, r.organisation, ""]
            for n, r in enumerate(participants(edition), start=1)
        ]
        return csv_response(
            f"presentielijst-{edition.slug}-{date}.csv",
            ["Nr", "Naam", "Organisatie", "Handtekening"],
            rows,
        )

    def badges_view(self, request, pk):
        _require(request, MANAGE)
        edition = get_object_or_404(Edition, pk=pk)
        return badges_response(participants(edition), edition)

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
        return badges_response(participants(edition), edition)

    def checkin_view(self, request, pk):
        """Who was there, per participant per day: a plain form of checkboxes that works on a
        tablet without JavaScript, saved whole in one transaction. Days still to come cannot
        be filled in yet."""
        _require(request, MANAGE)
        edition = get_object_or_404(Edition, pk=pk)
        days = edition_days(edition)
        open_days = recordable_days(edition)
        people = participants(edition)
        if request.method == "POST":
            present = set()
            for value in request.POST.getlist("present"):
                registration_id, _, day = value.partition(":")
                try:
                    present.add((int(registration_id), datetime.date.fromisoformat(day)))
                except ValueError:
                    continue
            present = {(r, d) for r, d in present if d in open_days}
            # The "Niet verschenen" button of one row submits the whole form, ticks included.
            no_show = [r for r in people if str(r.pk) == request.POST.get("no_show")]
            try:
                Attendance.objects.record(edition, open_days, present, no_shows=no_show)
            except ValidationError as refusal:
                self.message_user(request, "; ".join(refusal.messages), messages.ERROR)
            else:
                self.message_user(request, "Aanwezigheid opgeslagen.", messages.SUCCESS)
                for absent in no_show:
                    self.log_change(request, absent, "Niet verschenen (op geen dag aanwezig)")
                    self.message_user(
                        request,
                        f"{absent.reference} staat als niet verschenen: op geen dag aanwezig.",
                        messages.WARNING,
                    )
            return redirect("admin:programme_edition_checkin", edition.pk)
        recorded = {
            (a.registration_id, a.date): a.present
            for a in Attendance.objects.filter(registration__edition=edition)
        }
        rows = [
            {
                "registration": person,
                "no_show": all(recorded.get((person.pk, day)) is False for day in days),
                "cells": [
                    {
                        "value": f"{person.pk}:{day.isoformat()}",
                        "checked": recorded.get((person.pk, day), False),
                        "open": day in open_days,
                        "label": f"{person.full_name} aanwezig op {formats.day(day)}",
                    }
                    for day in days
                ],
            }
            for person in people
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Aanwezigheid: {edition.title}",
            "edition": edition,
            "days": [{"date": day, "open": day in open_days} for day in days],
            "rows": rows,
            "opts": self.opts,
        }
        return TemplateResponse(request, "attendance/checkin.html", context)


admin.site.unregister(Edition)
admin.site.register(Edition, AttendanceEditionAdmin)

# The registration admin as it is registered when this app loads: sign-up's, extended by
# invoicing (INSTALLED_APPS lists attendance after both). Extending the registered class
# keeps invoicing's columns and actions without this app importing invoicing.
_RegisteredRegistrationAdmin = type(admin.site.get_model_admin(Registration))


class RegistrationAdmin(_RegisteredRegistrationAdmin):
    """Adds: name badges for the selected, a no-show, and certificates of participation."""

    actions = [
        *_RegisteredRegistrationAdmin.actions,
        "name_badges",
        "mark_no_show",
        "send_certificates",
    ]

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
        return badges_response(people, editions.pop())

    @admin.action(description="Niet verschenen (op geen dag aanwezig)", permissions=["manage"])
    def mark_no_show(self, request, queryset):
        def step(registration):
            if registration.status != Registration.Status.CONFIRMED:
                raise CertificateRefused(f"{registration.reference} is geen bevestigde deelnemer.")
            Attendance.objects.mark_no_show(registration)
            return f"{registration.reference} niet verschenen"

        registrations_admin.apply_to_each(
            self,
            request,
            queryset.select_related("edition"),
            step,
            "Niet verschenen",
            refusals=(CertificateRefused,),
        )

    @admin.action(description="Bewijs van deelname mailen…", permissions=["manage"])
    def send_certificates(self, request, queryset):
        queryset = queryset.select_related("edition", "certificate").order_by("pk")
        already = [r for r in queryset if hasattr(r, "certificate") and r.certificate.emailed_at]
        if already and "apply" not in request.POST:
            context = {
                **self.admin_site.each_context(request),
                "title": "Bewijs van deelname opnieuw mailen?",
                "rows": [
                    f"{r.reference} kreeg het al op "
                    f"{timezone.localtime(r.certificate.emailed_at):%d-%m-%Y %H:%M}"
                    for r in already
                ],
                "queryset": queryset,
                "action": "send_certificates",
                "opts": self.opts,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "attendance/admin_confirm.html", context)
        queued = Queued()

        def step(registration):
            certificate = Certificate.objects.issue(registration)
            queued.results.append(tasks.send_certificate_email.enqueue(certificate.pk))
            return registration.reference

        registrations_admin.apply_to_each(
            self,
            request,
            queryset,
            step,
            "Bewijs van deelname gemaild",
            refusals=(CertificateRefused,),
        )
        registrations_admin.report_mail(self, request, queued, "Bewijs van deelname")
        return None


admin.site.unregister(Registration)
admin.site.register(Registration, RegistrationAdmin)


@admin.register(Certificate)
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
                self.admin_site.admin_view(self.pdf_view),
                name="attendance_certificate_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        certificate = get_object_or_404(Certificate.objects.select_related("registration"), pk=pk)
        return _pdf_response(pdf.certificate(certificate), certificate.filename)
