"""Finance's overview: what is outstanding, per edition and in total, by how late it is, and
per organisation of the register."""

import datetime
from collections import defaultdict

from django.db import models

from programme.models import Edition
from registrations.invoicing.models import Invoice
from registrations.organisations.models import Organisation

from . import reminders
from .models import ZERO, Payment

# What someone still owes money on (Invoice.status()).
OWING = [Invoice.Status.OPEN, Invoice.Status.OVERDUE, Invoice.Status.PARTIALLY_PAID]

BUCKETS = [
    ("not_due", "nog niet vervallen"),
    ("late_30", "1–30 dagen te laat"),
    ("late_60", "31–60 dagen te laat"),
    ("late_more", "meer dan 60 dagen te laat"),
]
# Days late (today minus the due date) of each bucket, first and last (None: open-ended).
DAYS_LATE = {"not_due": (None, 0), "late_30": (1, 30), "late_60": (31, 60), "late_more": (61, None)}


def _due_in(key, today):
    """The Q of the invoices `key`'s number of days late, as due dates."""
    first, last = DAYS_LATE[key]
    condition = models.Q()
    if first is not None:
        condition &= models.Q(due_date__lte=today - datetime.timedelta(days=first))
    if last is not None:
        condition &= models.Q(due_date__gte=today - datetime.timedelta(days=last))
    return condition


def outstanding(today):
    """{'rows': [{'edition', 'amounts': [per bucket], 'total', 'count'}], 'totals': [...],
    'total', 'count'}: one GROUP BY over the open invoices, whatever their number, and one
    query for their editions.

    An owing invoice is one standing on its own, paid below its total (Invoice.status()), so
    what it still owes (Invoice.outstanding) is its total minus what was paid."""
    owed = models.F("total_incl_vat") - models.F("amount_paid")
    sums = {
        key: models.Sum(owed, filter=_due_in(key, today), default=ZERO) for key, _label in BUCKETS
    }
    per_edition = {
        row.pop("edition_id"): row
        for row in Invoice.objects.in_state(*OWING, today=today)
        .with_edition()
        .values("edition_id")
        .annotate(count=models.Count("pk"), **sums)
        .order_by()
    }
    editions = Edition.objects.in_bulk(list(per_edition))
    rows = []
    totals = defaultdict(lambda: ZERO)
    for pk in sorted(per_edition, key=lambda pk: (editions[pk].start_date, pk)):
        figures = per_edition[pk]
        amounts = [figures[key] for key, _label in BUCKETS]
        for key, _label in BUCKETS:
            totals[key] += figures[key]
        rows.append(
            {
                "edition": editions[pk],
                "amounts": amounts,
                "total": sum(amounts, ZERO),
                "count": figures["count"],
            }
        )
    return {
        "buckets": [label for _key, label in BUCKETS],
        "rows": rows,
        "totals": [totals[key] for key, _label in BUCKETS],
        "total": sum(totals.values(), ZERO),
        "count": sum(row["count"] for row in rows),
    }


def outstanding_per_organisation(today):
    """[{'organisation' (None: orders not linked yet), 'total', 'count', 'oldest_due'}]: what
    each organisation of the register still owes, most first; one GROUP BY over the owing
    invoices (an invoice counts for the organisation its order is linked to) and one query
    for the organisations."""
    owed = models.F("total_incl_vat") - models.F("amount_paid")
    rows = list(
        Invoice.objects.in_state(*OWING, today=today)
        .with_organisation()
        .values("organisation_id")
        .annotate(
            total=models.Sum(owed, default=ZERO),
            count=models.Count("pk"),
            oldest_due=models.Min("due_date"),
        )
        .order_by()
    )
    organisations = Organisation.objects.in_bulk(
        [row["organisation_id"] for row in rows if row["organisation_id"] is not None]
    )
    for row in rows:
        row["organisation"] = organisations.get(row.pop("organisation_id"))
    return sorted(
        rows,
        key=lambda row: (row["organisation"] is None, -row["total"], str(row["organisation"])),
    )


def unmatched():
    """Bank lines waiting in the queue: received, not yet linked to an invoice."""
    return Payment.objects.filter(state=Payment.State.UNMATCHED)


def reminders_due(today):
    """The invoices due for a reminder today (reminders.due, the rule the job sends by)."""
    return [invoice for invoice, _level in reminders.due(today)]
