"""Attendance's own admin pages: the check-in form, the attendance lists per day, the name
badges and a certificate's PDF. admin.py wires them in with get_urls."""

import datetime
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse

from programme.models import Edition
from registrations.accesslog.changes import log_change
from registrations.accesslog.log import Kind, record
from werkplaats import formats
from werkplaats.exports import csv_response
from werkplaats.refusals import refusal_text

from . import pdf
from .models import (
    Attendance,
    Certificate,
    Part,
    edition_days,
    participants,
    parts_of,
    recordable_days,
)

MANAGE = "registrations.change_registration"
VIEW = "registrations.view_registration"


def _require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied


def pdf_response(content, filename):
    return FileResponse(
        io.BytesIO(content), as_attachment=True, filename=filename, content_type="application/pdf"
    )


def badges_response(request, registrations, edition):
    record(
        Kind.EXPORT,
        "Naambadges (PDF)",
        request=request,
        count=len(registrations),
        edition=edition,
    )
    return pdf_response(pdf.badges(registrations, edition), f"naambadges-{edition.slug}.pdf")


def _edition_day(pk, day):
    edition = get_object_or_404(Edition, pk=pk)
    try:
        date = datetime.date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    if date not in edition_days(edition):
        raise Http404
    return edition, date


def attendance_list_pdf(model_admin, request, pk, day):
    _require(request, VIEW)
    edition, date = _edition_day(pk, day)
    people = participants(edition)
    record(
        Kind.EXPORT,
        f"Presentielijst {formats.numeric_date(date)} (PDF)",
        request=request,
        count=len(people),
        edition=edition,
    )
    return pdf_response(
        pdf.attendance_list(edition, date, people), f"presentielijst-{edition.slug}-{date}.pdf"
    )


def attendance_list_csv(model_admin, request, pk, day):
    _require(request, VIEW)
    edition, date = _edition_day(pk, day)
    rows = [
        [n, r.full_name, r.organisation, ""] for n, r in enumerate(participants(edition), start=1)
    ]
    record(
        Kind.EXPORT,
        f"Presentielijst {formats.numeric_date(date)} (CSV)",
        request=request,
        count=len(rows),
        edition=edition,
    )
    return csv_response(
        f"presentielijst-{edition.slug}-{date}.csv",
        ["Nr", "Naam", "Organisatie", "Handtekening"],
        rows,
    )


def edition_badges(model_admin, request, pk):
    _require(request, MANAGE)
    edition = get_object_or_404(Edition, pk=pk)
    return badges_response(request, participants(edition), edition)


def _ticked(values, parts):
    """The (registration id, date, part) triples of the ticked boxes; a box is named
    "id:date" for a whole day and "id:date:part" for a morning or afternoon."""
    ticked = set()
    for value in values:
        registration_id, _, rest = value.partition(":")
        day, _, part = rest.partition(":")
        part = part or Part.DAY
        try:
            ticked.add((int(registration_id), datetime.date.fromisoformat(day), part))
        except ValueError:
            continue
    return {item for item in ticked if item[2] in parts}


def _was_ticked(recorded, registration_id, day, part):
    """Whether the box of `part` shows ticked: also when the day was recorded the other way
    (whole, before a register asked for parts; or in parts, before it was removed), so that
    saving the page again keeps who was there."""
    if recorded.get((registration_id, day, part)):
        return True
    if part == Part.DAY:
        return any(recorded.get((registration_id, day, half)) for half in Part.values[1:])
    return bool(recorded.get((registration_id, day, Part.DAY)))


def checkin(model_admin, request, pk):
    """Who was there, per participant per day (or per morning and afternoon, where a
    register counts day parts): a plain form of checkboxes that works on a tablet without
    JavaScript, saved whole in one transaction. Days still to come cannot be filled in yet."""
    _require(request, MANAGE)
    edition = get_object_or_404(Edition, pk=pk)
    days = edition_days(edition)
    parts = parts_of(edition)
    open_days = recordable_days(edition)
    people = participants(edition)
    if request.method == "POST":
        present = {
            item for item in _ticked(request.POST.getlist("present"), parts) if item[1] in open_days
        }
        # The "Niet verschenen" button of one row submits the whole form, ticks included.
        no_show = [r for r in people if str(r.pk) == request.POST.get("no_show")]
        before = _recorded(edition)
        try:
            Attendance.objects.record(edition, open_days, present, no_shows=no_show)
        except ValidationError as refusal:
            model_admin.message_user(request, refusal_text(refusal), messages.ERROR)
        else:
            after = _recorded(edition)
            changed = {
                key[0] for key in before.keys() | after.keys() if before.get(key) != after.get(key)
            }
            # Each participant whose attendance changed has it in their own history.
            log_change(
                [r for r in people if r.pk in changed and r not in no_show],
                "Aanwezigheid vastgelegd",
                user=request.user,
            )
            model_admin.message_user(request, "Aanwezigheid opgeslagen.", messages.SUCCESS)
            for absent in no_show:
                model_admin.log_change(request, absent, "Niet verschenen (op geen dag aanwezig)")
                model_admin.message_user(
                    request,
                    f"{absent.reference} staat als niet verschenen: op geen dag aanwezig.",
                    messages.WARNING,
                )
        return redirect("admin:programme_edition_checkin", edition.pk)
    recorded = _recorded(edition)
    by_part = parts != [Part.DAY]
    columns = [(day, part) for day in days for part in parts]
    rows = [
        {
            "registration": person,
            "no_show": all(recorded.get((person.pk, d, p)) is False for d, p in columns),
            "cells": [
                {
                    "value": f"{person.pk}:{day.isoformat()}" + (f":{part}" if by_part else ""),
                    "checked": _was_ticked(recorded, person.pk, day, part),
                    "open": day in open_days,
                    "label": f"{person.full_name} aanwezig op {formats.day(day)}"
                    + (f" ({Part(part).label})" if by_part else ""),
                }
                for day, part in columns
            ],
        }
        for person in people
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Aanwezigheid: {edition.title}",
        "edition": edition,
        "by_part": by_part,
        "dates": [{"date": day, "parts": len(parts)} for day in days],
        "days": [
            {"date": day, "open": day in open_days, "part": Part(part).label if by_part else ""}
            for day, part in columns
        ],
        "rows": rows,
        "opts": model_admin.opts,
    }
    return TemplateResponse(request, "attendance/checkin.html", context)


def _recorded(edition):
    """{(registration id, day, part): present} of everything recorded for `edition`."""
    return {
        (a.registration_id, a.date, a.part): a.present
        for a in Attendance.objects.filter(registration__edition=edition)
    }


def certificate_pdf(model_admin, request, pk):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    certificate = get_object_or_404(
        Certificate.objects.select_related("registration__edition"), pk=pk
    )
    record(
        Kind.EXPORT,
        "Bewijs van deelname (PDF)",
        request=request,
        count=1,
        edition=certificate.registration.edition,
        reference=certificate.registration.reference,
    )
    return pdf_response(pdf.certificate(certificate), certificate.filename)
