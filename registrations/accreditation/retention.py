"""Registration numbers leave with the rest of a participant's personal data: when the
edition's registrations are anonymised (a step of apply_retention, settings.RETENTION_STEPS,
run just before the anonymisation itself). The certificates keep their points, without
the number."""

from django.db import transaction

from registrations import retention
from registrations.models import Registration

from .models import CertificatePoints, Entry


@transaction.atomic
def erase(edition):
    """Erase the edition's registration numbers and final-assignment marks, and the number
    on its certificates; returns how many registrations had one."""
    return erase_of(Registration.objects.filter(edition=edition))


def erase_of(registrations):
    """The same for some registrations (also one person erased on request,
    registrations/privacy): the one home of what erasing a registration number means."""
    entries = Entry.objects.filter(registration__in=registrations)
    people = entries.values("registration_id").distinct().count()
    entries.delete()
    CertificatePoints.objects.filter(certificate__registration__in=registrations).exclude(
        registration_number=""
    ).update(registration_number="")
    return people


def erase_numbers(dry_run=False, at=None):
    """The step apply_retention runs: the lines it reports."""
    lines = []
    for edition, _due in retention.editions_due(at):
        if not Entry.objects.filter(registration__edition=edition).exists():
            continue
        if dry_run:
            lines.append(f"Dry run: registratienummers van {edition} te wissen.")
        else:
            lines.append(f"{edition}: registratienummers gewist bij {erase(edition)}.")
    return lines
