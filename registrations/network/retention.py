"""The network outlives the edition's retention, only while consent stands: a step of
apply_retention (settings.RETENTION_STEPS) that runs before the anonymisation and refreshes
each standing consent's copy from its registration, so the list keeps what the participant
agreed to share (and any correction staff made since) once the registration is erased."""

from django.db import transaction

from registrations.retention import editions_due

from .models import Consent


def keep_consented(dry_run=False, at=None):
    lines = []
    for edition, _due in editions_due(at):
        standing = Consent.objects.standing().filter(
            registration__edition=edition, registration__anonymised_at__isnull=True
        )
        if dry_run:
            lines.append(
                f"Dry run: netwerk van {edition}: {standing.count()} toestemming(en) bewaard."
            )
            continue
        with transaction.atomic():
            kept = list(standing.select_related("registration").select_for_update())
            for consent in kept:
                consent.copy_from(consent.registration)
                consent.save(update_fields=["name", "organisation", "job_title", "email"])
        lines.append(f"{edition}: netwerk: {len(kept)} toestemming(en) bewaard.")
    return lines
