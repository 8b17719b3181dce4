"""Intake's figures for the overview on /beheer/: per edition, who has not written their case
yet (two queries, whatever the number of editions)."""

from django.db.models import Count

from registrations.models import Registration

from .models import Intake, without_case


def without_case_per_edition(editions):
    """{edition id: confirmed participants who have not answered any question of their case}."""
    rows = (
        without_case(Registration.objects.confirmed().filter(edition__in=editions))
        .values("edition")
        .annotate(n=Count("pk"))
    )
    counts = {edition.pk: 0 for edition in editions}
    counts.update({row["edition"]: row["n"] for row in rows})
    return counts


def intakes(editions):
    """{edition id: its Intake's pk} for the editions whose staff set their questions (the
    cases page is the intake's)."""
    return dict(Intake.objects.filter(edition__in=editions).values_list("edition", "pk"))
