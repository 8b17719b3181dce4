"""Finance's overview: what is outstanding, per edition and in total, by how late it is."""

from collections import defaultdict

from programme.models import Edition
from registrations.invoicing.models import Invoice

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


def bucket(days_late):
    if days_late <= 0:
        return "not_due"
    if days_late <= 30:
        return "late_30"
    if days_late <= 60:
        return "late_60"
    return "late_more"


def outstanding(today):
    """{'rows': [{'edition', 'amounts': [per bucket], 'total', 'count'}], 'totals': [...],
    'total', 'count'}: one query for every open invoice, whatever their number."""
    invoices = (
        Invoice.objects.in_state(*OWING, today=today)
        .select_related("credit_note")
        .with_edition()
        .order_by("supply_start", "due_date")
    )
    per_edition = defaultdict(lambda: defaultdict(lambda: ZERO))
    counts = defaultdict(int)
    for invoice in invoices:
        amount = invoice.outstanding
        per_edition[invoice.edition_id][bucket((today - invoice.due_date).days)] += amount
        counts[invoice.edition_id] += 1
    editions = Edition.objects.in_bulk(list(per_edition))
    rows = []
    totals = defaultdict(lambda: ZERO)
    for pk, amounts in per_edition.items():
        for key, amount in amounts.items():
            totals[key] += amount
        rows.append(
            {
                "edition": editions[pk],
                "amounts": [amounts[key] for key, _label in BUCKETS],
                "total": sum(amounts.values(), ZERO),
                "count": counts[pk],
            }
        )
    return {
        "buckets": [label for _key, label in BUCKETS],
        "rows": rows,
        "totals": [totals[key] for key, _label in BUCKETS],
        "total": sum(totals.values(), ZERO),
        "count": sum(counts.values()),
    }


def unmatched():
    """Bank lines waiting in the queue: received, not yet linked to an invoice."""
    return Payment.objects.filter(state=Payment.State.UNMATCHED)


def reminders_due(today):
    """The invoices due for a reminder today (reminders.due, the rule the job sends by)."""
    return [invoice for invoice, _level in reminders.due(today)]
