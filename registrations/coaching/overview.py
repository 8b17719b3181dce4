"""Coaching's figures for the overview on /beheer/: per edition, who has no conversation yet
(a fixed number of queries, whatever the number of editions)."""

from django.db.models import Count

from registrations.models import Registration

from .models import CoachSlot, without_coach_slot


def without_slot(editions):
    """{edition id: confirmed participants without a coach slot}, only for the editions that
    offer slots."""
    offering = set(CoachSlot.objects.filter(edition__in=editions).values_list("edition", flat=True))
    if not offering:
        return {}
    rows = (
        without_coach_slot(Registration.objects.confirmed().filter(edition__in=offering))
        .values("edition")
        .annotate(n=Count("pk"))
    )
    counts = dict.fromkeys(offering, 0)
    counts.update({row["edition"]: row["n"] for row in rows})
    return counts
