"""Sign-up's figures for the back office's overview: places per open or coming edition, the
sign-ups over time, and staff's worklists (offers about to expire, retention falling due,
texts still to supply). Plain data; werkplaats/admin_site.py assembles the page.

Every figure comes from a fixed number of queries, however many registrations there are:
the counts are annotations on the editions, the sign-ups one GROUP BY over all of them.
"""

from collections import defaultdict

from django.db import models
from django.db.models.functions import TruncDate

from programme.models import TO_BE_SUPPLIED, Edition, PrivacyStatement

from . import retention
from .models import Registration, WaitingListOffer, count_with_status

RETENTION_NOTICE_DAYS = retention.NOTICE_DAYS


def editions(today):
    """The open and coming editions (not yet ended), first first, each with `confirmed`,
    `waiting`, `cancelled`, `offered` (open offers), `first_offer_expires`, `places_left`
    (Registration.objects.places_left, the one home of that rule) and the days until the
    deadline and the start; two queries."""
    Status = Registration.Status
    rows = list(
        Edition.objects.filter(end_date__gte=today)
        .annotate(
            confirmed=count_with_status(Status.CONFIRMED),
            waiting=count_with_status(Status.WAITING),
            cancelled=count_with_status(Status.CANCELLED),
        )
        .order_by("start_date", "pk")
    )
    offers = {
        row["registration__edition_id"]: row
        for row in WaitingListOffer.objects.open()
        .filter(registration__edition__in=[edition.pk for edition in rows])
        .values("registration__edition_id")
        .annotate(n=models.Count("pk"), first=models.Min("expires_at"))
        .order_by()
    }
    for edition in rows:
        open_offers = offers.get(edition.pk, {"n": 0, "first": None})
        edition.offered = open_offers["n"]
        edition.first_offer_expires = open_offers["first"]
        edition.places_left = Registration.objects.places_left(
            edition, counts={"confirmed": edition.confirmed, "offered": edition.offered}
        )
        edition.days_to_start = (edition.start_date - today).days
        edition.days_to_deadline = (edition.registration_deadline - today).days
        edition.is_running = edition.start_date <= today <= edition.end_date
    return rows


def editions_by_pk(pks):
    """The editions with these pks, first first; one query."""
    return list(Edition.objects.filter(pk__in=pks).order_by("start_date", "pk"))


def previous_editions(shown):
    """{edition pk: the edition that started last before it}, for the comparison line; one
    query."""
    if not shown:
        return {}
    earlier = list(
        Edition.objects.filter(start_date__lt=max(e.start_date for e in shown)).order_by(
            "-start_date", "-pk"
        )
    )
    return {
        edition.pk: next((e for e in earlier if e.start_date < edition.start_date), None)
        for edition in shown
    }


def signups_by_day(editions):
    """{edition pk: {days relative to its start: cumulative confirmed sign-ups}}: the people
    confirmed now, counted on the day they signed up; one GROUP BY over every edition."""
    starts = {edition.pk: edition.start_date for edition in editions}
    per_day = defaultdict(dict)
    rows = (
        Registration.objects.confirmed()
        .filter(edition_id__in=list(starts))
        .annotate(day=TruncDate("created_at"))
        .values("edition_id", "day")
        .annotate(n=models.Count("pk"))
        .order_by("edition_id", "day")
    )
    for row in rows:
        offset = (row["day"] - starts[row["edition_id"]]).days
        per_day[row["edition_id"]][offset] = row["n"]
    return {pk: _cumulative(days) for pk, days in per_day.items()}


def _cumulative(days):
    total, result = 0, {}
    for offset in sorted(days):
        total += days[offset]
        result[offset] = total
    return result


def total_at(cumulative, offset):
    """The cumulative sign-ups on day `offset` (relative to the start): the last day at or
    before it that had any."""
    reached = [n for day, n in cumulative.items() if day <= offset]
    return reached[-1] if reached else 0


def offers_expiring(now):
    return WaitingListOffer.objects.expiring(now)


def missing_texts(today):
    """[(what, the object, field name)] of the texts staff must still supply (README, "Texts
    staff must supply") for the editions not yet ended and the privacy statement; two
    queries. The invoice issuer's are invoicing's (invoicing/overview.py)."""
    found = []
    for edition in Edition.objects.filter(end_date__gte=today).order_by("start_date", "pk"):
        if not edition.terms.strip():
            found.append(("voorwaarden en annulering", edition, "terms"))
        if not edition.venue_address.strip():
            found.append(("straat en huisnummer locatie", edition, "venue_address"))
        if not edition.venue_postcode.strip():
            found.append(("postcode locatie", edition, "venue_postcode"))
    statement = PrivacyStatement.load()
    if TO_BE_SUPPLIED in statement.contact:
        found.append(("contact voor privacyvragen", statement, "contact"))
    return found


def retention_due(today, days=RETENTION_NOTICE_DAYS):
    """Editions whose registrations are anonymised within `days` (or already should be)."""
    return retention.editions_due_within(today, days)
