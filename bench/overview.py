"""Overview benchmark: /beheer/ (the overview) against the plain registrations list, with 20
editions x 300 registrations, 6,000 invoices and 10,000 payments. A measurement, not a test.

    DATABASE_URL=postgres://.../scratch .venv/bin/python bench/overview.py --configured-db

On a scratch database (it adds 6,000 invoices; run it on an empty one), or without
--configured-db on a temporary SQLite file.

The server time of each page is measured in-process with Django's test Client (middleware,
view, template, queries; no network), in rounds that interleave the pages so both see the
same machine. Reported: the median per page and overview / changelist.
Target: the overview at most 2x the changelist.
"""

import argparse
import datetime
import statistics
import sys
import tempfile
import time
from decimal import Decimal

import scenery
from payments import TOTAL, make_invoices, timed

EDITIONS = 20
PER_EDITION = 300
PAYMENTS = 10_000
RATIO_TARGET = 2.0


def build():
    """The world: editions from 17 years back to 2 ahead, each with its participants, one
    invoice (with its line) per participant, and payments: half matched, half in the queue."""
    from django.contrib.auth.models import Group, User

    from registrations.invoicing.models import Invoice, InvoiceLine
    from registrations.payments.models import Allocation, Payment

    scenery.complete_issuer()
    today = datetime.date.today()
    invoices = []
    for number in range(EDITIONS):
        start = today + datetime.timedelta(days=365 * (number - 17) + 40)
        edition = scenery.edition(start, capacity=PER_EDITION + 20)
        made = make_invoices(edition, 1_000_000 + number * PER_EDITION, PER_EDITION)
        people = list(edition.registrations.order_by("pk"))
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=invoice,
                registration=person,
                description="Deelname",
                quantity=Decimal("1"),
                unit_price=Decimal("1800.00"),
                vat_rate=Decimal("21.00"),
                amount_excl_vat=Decimal("1800.00"),
            )
            for invoice, person in zip(made, people, strict=True)
        )
        invoices += made
    matched = PAYMENTS // 2
    payments = Payment.objects.bulk_create(
        Payment(
            state=Payment.State.MATCHED if n < matched else Payment.State.UNMATCHED,
            amount=TOTAL,
            booking_date=today,
            counterparty_name=f"Gemeente {n}",
            bank_reference=f"bench-{time.time_ns()}-{n}",
        )
        for n in range(PAYMENTS)
    )
    paid = invoices[:matched]
    Allocation.objects.bulk_create(
        Allocation(payment=payment, invoice=invoice, amount=TOTAL)
        for payment, invoice in zip(payments, paid, strict=False)
    )
    # What settle() would write, in one statement (the amounts are the mutable columns).
    Invoice.objects.filter(pk__in=[i.pk for i in paid]).update(amount_paid=TOTAL, paid_on=today)
    stamp = time.time_ns()
    finance = User.objects.create_user(f"financien-{stamp}", is_staff=True)
    finance.groups.add(Group.objects.get(name="Financiën"))
    superuser = User.objects.create_superuser(f"beheer-{stamp}", "", None)
    return finance, superuser


def timed_get(client, url):
    start = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--configured-db", action="store_true", help="use DATABASE_URL")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="werkplaats-bench-") as workdir:
        scenery.setup_django(args.configured_db, workdir)
        from django.db import connection
        from django.test import Client
        from django.urls import reverse

        from registrations.models import Registration
        from registrations.payments.models import Payment

        (finance, superuser), build_seconds = timed(build)
        clients = {}
        for name, user in [("finance", finance), ("superuser", superuser)]:
            clients[name] = Client(HTTP_HOST="localhost")
            clients[name].force_login(user)
        index = reverse("admin:index")
        changelist = reverse("admin:registrations_registration_changelist")
        pages = [
            ("changelist (superuser)", "superuser", changelist),
            ("overview (finance)", "finance", index),
            ("overview (superuser)", "superuser", index),
        ]
        for _label, who, url in pages:  # warm-up: templates, permissions, connections
            timed_get(clients[who], url)
        times = {label: [] for label, _who, _url in pages}
        for _round in range(args.rounds):
            for label, who, url in pages:
                times[label].append(timed_get(clients[who], url))
        medians = {label: statistics.median(values) for label, values in times.items()}
        base = medians["changelist (superuser)"]
        print(
            f"database: {connection.vendor}; {Registration.objects.count()} registrations, "
            f"{Payment.objects.count()} payments; built in {build_seconds:.1f} s; "
            f"{args.rounds} rounds"
        )
        worst = 0
        for label, median in medians.items():
            ratio = median / base
            if label.startswith("overview"):
                worst = max(worst, ratio)
            print(f"{label:28s} {median * 1000:8.1f} ms   {ratio:5.2f}x the changelist")
        ok = worst <= RATIO_TARGET
        print(
            f"worst overview ratio: {worst:.2f} (target <= {RATIO_TARGET}) {'OK' if ok else 'MISSED'}"
        )
        connection.close()
    if args.check and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
