"""The accreditation points on a certificate of participation: copied when it is issued
(settings.CERTIFICATE_ISSUED) and shown on its PDF and verification page (settings.
CERTIFICATE_SECTIONS). The verification page is public: it never shows the registration
number."""

from werkplaats import formats

from .models import CertificatePoints, Entry, Register, parts_attended


def points_of(registration):
    """[CertificatePoints] unsaved: per register of the registration's edition, the points
    and hours the parts attended earn and the number the participant gave."""
    edition = registration.edition
    registers = list(Register.objects.filter(edition=edition))
    if not registers:
        return []
    parts = len(parts_attended([registration], edition).get(registration.pk, []))
    entries = {e.register_id: e for e in Entry.objects.filter(registration=registration)}
    found = []
    for register in registers:
        entry = entries.get(register.pk)
        found.append(
            CertificatePoints(
                register_name=register.name,
                accreditation_id=register.accreditation_id,
                registration_number=entry.number if entry else "",
                parts_attended=parts,
                parts_total=register.total_parts(),
                hours=register.hours_for(parts),
                points=register.points_for(parts),
                final_assignment_required=register.final_assignment_required,
                final_assignment_passed=bool(entry and entry.final_assignment_passed),
            )
        )
    return found


def copy_points(certificate):
    for points in points_of(certificate.registration):
        points.certificate = certificate
        points.save()


def section(certificate):
    """The points on `certificate`: as copied when it was issued, or for a certificate not
    issued yet (the admin's preview) as they would be copied now."""
    lines = (
        list(certificate.points.all()) if certificate.pk else points_of(certificate.registration)
    )
    if not lines:
        return None
    return {
        "pdf_template": "accreditation/_certificate.html",
        "page_template": "accreditation/_verify.html",
        "lines": [
            {
                "register": line.register_name,
                "accreditation_id": line.accreditation_id,
                "number": line.registration_number,
                "points": formats.decimal(line.points),
                "hours": formats.decimal(line.hours),
                "parts": f"{line.parts_attended} van {line.parts_total}",
                "final_assignment": (
                    ("behaald" if line.final_assignment_passed else "nog niet behaald")
                    if line.final_assignment_required
                    else ""
                ),
            }
            for line in lines
        ],
    }
