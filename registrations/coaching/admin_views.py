"""Coaching's own admin pages: a coach's schedule with each person's case (page, PDF, CSV),
for staff per coach and edition, and for a coach their own (group Coaches); the confirmed
participants of an edition without a slot. admin.py wires them in with get_urls."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from programme.models import Edition, amsterdam_date
from registrations.intake import cases
from registrations.intake.models import Intake
from registrations.models import Registration
from werkplaats.exports import dutch_name_key

from .models import Coach, CoachSlot, without_coach_slot

STAFF = ["coaching.view_coachslot", "intake.view_answer"]
OWN = "coaching.view_own_schedule"


def schedule_rows(coach, edition):
    """Each slot of `coach` in `edition`, in time order, with who booked it and their case."""
    slots = CoachSlot.objects.filter(coach=coach, edition=edition).select_related("registration")
    questions = list(Intake.objects.for_edition(edition).questions.all())
    given = cases.answers_given(edition)
    return questions, [
        cases.row(slot.registration, questions, given, slot.text()) for slot in slots
    ]


def _staff(request, coach_pk, edition_pk):
    if not request.user.has_perms(STAFF):
        raise PermissionDenied
    return get_object_or_404(Coach, pk=coach_pk), get_object_or_404(Edition, pk=edition_pk)


def own_coach(request):
    """The coach the logged-in user is, for their own schedule; else 403."""
    coach = Coach.objects.filter(user=request.user).first()
    if not request.user.has_perm(OWN) or coach is None:
        raise PermissionDenied
    return coach


def own_edition(coach):
    """The edition a coach's schedule shows: the next (or running) one they have slots in,
    else their latest."""
    today = amsterdam_date(timezone.now())
    theirs = Edition.objects.filter(coach_slots__coach=coach).distinct()
    coming = theirs.filter(end_date__gte=today).order_by("start_date").first()
    return coming or theirs.order_by("-start_date").first()


def schedule(model_admin, request, coach_pk, edition_pk):
    coach, edition = _staff(request, coach_pk, edition_pk)
    _, rows = schedule_rows(coach, edition)
    args = [coach.pk, edition.pk]
    links = [
        {
            "label": "Pdf om te printen",
            "url": reverse("admin:coaching_coachslot_schedule_pdf", args=args),
        },
        {"label": "Csv", "url": reverse("admin:coaching_coachslot_schedule_csv", args=args)},
    ]
    crumbs = [{"label": "Coaches", "url": reverse("admin:coaching_coach_changelist")}]
    return cases.page(request, model_admin, edition, f"Rooster van {coach}", rows, links, crumbs)


def schedule_pdf(model_admin, request, coach_pk, edition_pk):
    coach, edition = _staff(request, coach_pk, edition_pk)
    _, rows = schedule_rows(coach, edition)
    return cases.pdf_response(
        request,
        edition,
        f"Rooster van {coach}",
        rows,
        f"rooster-{coach.pk}-{edition.slug}.pdf",
        reference=f"rooster van coach {coach.pk}",
    )


def schedule_csv(model_admin, request, coach_pk, edition_pk):
    coach, edition = _staff(request, coach_pk, edition_pk)
    questions, rows = schedule_rows(coach, edition)
    return cases.csv_download(
        request,
        edition,
        questions,
        rows,
        f"rooster-{coach.pk}-{edition.slug}.csv",
        reference=f"rooster van coach {coach.pk}",
    )


def own_schedule(model_admin, request):
    coach = own_coach(request)
    edition = own_edition(coach)
    if edition is None:
        context = {**model_admin.admin_site.each_context(request), "title": f"Rooster van {coach}"}
        return TemplateResponse(request, "coaching/no_schedule.html", context)
    _, rows = schedule_rows(coach, edition)
    links = [
        {"label": "Pdf om te printen", "url": reverse("admin:coaching_coachslot_own_schedule_pdf")}
    ]
    return cases.page(request, model_admin, edition, f"Je rooster, {coach}", rows, links)


def own_schedule_pdf(model_admin, request):
    coach = own_coach(request)
    edition = own_edition(coach)
    if edition is None:
        raise PermissionDenied
    _, rows = schedule_rows(coach, edition)
    return cases.pdf_response(
        request,
        edition,
        f"Rooster van {coach}",
        rows,
        f"rooster-{edition.slug}.pdf",
        reference=f"rooster van coach {coach.pk}",
    )


def without_slot(model_admin, request, edition_pk):
    """The confirmed participants of an edition who have no coach conversation yet."""
    if not request.user.has_perm("coaching.view_coachslot"):
        raise PermissionDenied
    edition = get_object_or_404(Edition, pk=edition_pk)
    people = without_coach_slot(Registration.objects.filter(edition=edition).confirmed())
    people = sorted(people, key=lambda r: dutch_name_key(r.last_name, r.first_name))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Zonder coachgesprek: {edition}",
        "edition": edition,
        "people": people,
        "free": CoachSlot.objects.filter(edition=edition).free().count(),
    }
    return TemplateResponse(request, "coaching/without_slot.html", context)
