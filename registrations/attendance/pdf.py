"""The PDFs of the days themselves and after: the attendance list per day, name badges and
the certificate of participation. One HTML template and one print stylesheet each, rendered
by the site's PDF engine (werkplaats/pdf.py), so they share the invoice's font, fetcher,
lock and reproducible bytes.
"""

import hashlib
import math

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from programme.models import amsterdam_date
from werkplaats import formats, pdf
from werkplaats.exports import dutch_name_key

from .models import certificate_sections, participants

# A badge is 90 x 55 mm, eight on an A4 sheet (2 x 4), with cut lines around each.
BADGES_PER_SHEET = 8
# The name's box on a badge (badges.css): 80 x 23 mm, at most three lines of 1.15 em.
NAME_WIDTH_PT = 80 / 25.4 * 72
NAME_HEIGHT_PT = 23 / 25.4 * 72
LINE_HEIGHT = 1.15
MAX_LINES = 3
NAME_LARGEST_PT, NAME_SMALLEST_PT = 22, 8
# DejaVu Sans Bold averages about 0.65 em per letter in names, capitals up to 0.78; 0.7
# leaves room for a name of wide letters without shrinking ordinary names much.
EM_PER_CHAR = 0.7


def _render(template, context, *, stylesheet, identifier, created):
    with translation.override("nl"):
        html = render_to_string(template, {"font_family": pdf.FONT_FAMILY, **context})
    return pdf.render_html(html, stylesheet=stylesheet, identifier=identifier, created=created)


def attendance_list(edition, day, people=None):
    """The presentielijst of one day: every confirmed participant (`people` when the caller
    has them already) with a signature column."""
    return _render(
        "attendance/attendance_list.html",
        {
            "edition": edition,
            "day": formats.day(day, weekday=True),
            "period": formats.period(edition.start_date, edition.end_date),
            "people": participants(edition) if people is None else people,
        },
        stylesheet="css/attendance_list.css",
        identifier=f"presentielijst-{edition.pk}-{day.isoformat()}",
        created=day.isoformat(),
    )


def name_size(name):
    """The largest font size (pt) at which `name` fits its badge: as many lines as the box
    holds at that size (three at most), and its longest word on one line. Long names get a
    smaller size instead of overflowing."""
    words = name.split() or [""]
    for size in range(NAME_LARGEST_PT, NAME_SMALLEST_PT - 1, -1):
        per_line = math.floor(NAME_WIDTH_PT / (size * EM_PER_CHAR))
        lines = min(MAX_LINES, math.floor(NAME_HEIGHT_PT / (size * LINE_HEIGHT)))
        if max(len(word) for word in words) <= per_line and _lines(words, per_line) <= lines:
            return size
    return NAME_SMALLEST_PT


def _lines(words, per_line):
    lines, used = 1, 0
    for word in words:
        needed = len(word) if used == 0 else used + 1 + len(word)
        if needed > per_line and used:
            lines, used = lines + 1, len(word)
        else:
            used = needed
    return lines


def badges(registrations, edition):
    """Name badges for `registrations` (all of `edition`), eight per A4 sheet, in Dutch order."""
    people = sorted(registrations, key=lambda r: dutch_name_key(r.last_name, r.first_name))
    cards = [
        {"name": r.full_name, "size": name_size(r.full_name), "organisation": r.organisation}
        for r in people
    ]
    sheets = [cards[n : n + BADGES_PER_SHEET] for n in range(0, len(cards), BADGES_PER_SHEET)]
    return _render(
        "attendance/badges.html",
        {
            "edition": edition,
            "period": formats.period(edition.start_date, edition.end_date),
            "sheets": sheets,
        },
        stylesheet="css/badges.css",
        # The same people give the same bytes; a long selection still gives a short identifier.
        identifier="badges-"
        + hashlib.sha256(f"{edition.pk}:{[r.pk for r in people]}".encode()).hexdigest()[:32],
        created=edition.start_date.isoformat(),
    )


def certificate(certificate):
    """The certificate's PDF, from its snapshot alone (never the live registration)."""
    return _render(
        "attendance/certificate.html",
        {
            "certificate": certificate,
            "period": formats.period(certificate.start_date, certificate.end_date),
            "hours": formats.decimal(certificate.contact_hours),
            "issued": formats.day(amsterdam_date(certificate.issued_at)),
            "verify_url": settings.SITE_URL.rstrip("/") + certificate.get_absolute_url(),
            "sections": certificate_sections(certificate),
        },
        stylesheet="css/certificate.css",
        identifier=certificate.code,
        created=amsterdam_date(certificate.issued_at).isoformat(),
    )
