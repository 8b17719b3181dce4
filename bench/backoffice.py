"""Back office benchmark: the overview (the admin index) and the statistics pages, as a share
of the plain registrations list's server time, on PostgreSQL. A measurement, not a test.

    DATABASE_URL=postgres://... .venv/bin/python bench/backoffice.py [--rounds 7]
                                                 [--requests 7] [--check]

It makes a throwaway database beside DATABASE_URL's (its name with "_backoffice_bench"; the
role must be allowed to create databases), migrates it, fills it in bulk and drops it again:
20 editions x 300 registrations (confirmed, some waiting, some cancelled at varied moments;
varied sectors, roles, organisations, overnight stays and diets), an order each, 6,000
invoices and credit notes (some credited, some of those refunded, some part paid, some not
sent), 10,000 payments (most allocated, one to three per invoice, some unmatched), with the
invoices' amounts written by payments' settle() as an import would.

Then it asks for each page with Django's test Client in this process (logged in with
force_login; server time, no network): warm-up requests first, then rounds; in each round every
page in turn (the order rotates) `--requests` times, and the round's median per page. The
machine is shared and noisy, so each ratio is taken within a round, against the baseline of
the same round, and the median of the rounds' ratios is reported.

Baseline: the registrations changelist (/beheer/registrations/registration/, superuser), a
plain admin list of 100 rows with its filters. Targets (issue 22): the overview (admin index,
as finance and as superuser) at most 2x the baseline, the statistics pages (one edition;
across editions) at most 3x. It also prints the number of queries of each page.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from decimal import Decimal
from pathlib import Path

import scenery

EDITIONS = 20
PER_EDITION = 300
PAYMENTS = 10_000
PRICE = Decimal("1800.00")
VAT = Decimal("378.00")
TOTAL = PRICE + VAT
# How many days from today each edition starts: one coming, one open for sign-up, one running
# today, the rest in the past, about a season apart (oldest last).
STARTS = [75, 30, -1] + [-40 - 90 * n for n in range(EDITIONS - 3)]

OVERVIEW_TARGET = 2.0
STATISTICS_TARGET = 3.0
BASELINE = "registrations list (baseline)"

CITIES = """Utrecht Amsterdam Rotterdam Den_Haag Eindhoven Groningen Tilburg Almere Breda
Nijmegen Apeldoorn Haarlem Arnhem Enschede Amersfoort Zaanstad Zwolle Leiden Maastricht
Dordrecht Ede Leeuwarden Delft Deventer Heerlen Helmond Oss Venlo Hengelo Emmen""".split()
# 160 organisations; each edition draws from a different share of them, so some come back.
ORGANISATIONS = (
    [f"Gemeente {city.replace('_', ' ')}" for city in CITIES]
    + [f"Stichting Welzijn {n}" for n in range(40)]
    + [f"Woonstichting {n}" for n in range(30)]
    + [f"Adviesbureau {n} BV" for n in range(60)]
)
DIETS = ["vegetarisch", "veganistisch", "halal", "glutenvrij", "geen noten", "lactosevrij"]


def spelled(name, rng):
    """The same organisation as people type it: now and then lower case or with extra spaces."""
    roll = rng.random()
    if roll < 0.05:
        return name.lower()
    if roll < 0.08:
        return f" {name.replace(' ', '  ', 1)} "
    return name


def setup_database(workdir):
    """Django with DATABASE_URL's server, on a fresh throwaway database; returns its teardown."""
    sys.path.insert(0, str(scenery.ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "werkplaats.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-not-a-secret")
    os.environ["DJANGO_DEBUG"] = "0"  # DEBUG keeps every query in memory
    os.environ["DJANGO_MEDIA_ROOT"] = str(Path(workdir) / "media")
    import django

    django.setup()
    from django.db import connection

    # WhiteNoise serves no static files here (the test Client asks for none).
    warnings.filterwarnings("ignore", message="No directory at")
    if connection.vendor != "postgresql":
        sys.exit("bench/backoffice.py measures on PostgreSQL: set DATABASE_URL=postgres://...")
    connection.settings_dict.setdefault("TEST", {})
    connection.settings_dict["TEST"]["NAME"] = (
        f"{connection.settings_dict['NAME']}_backoffice_bench"
    )
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return lambda: connection.creation.destroy_test_db(old_name, verbosity=0)


def make_editions(today):
    editions = []
    for n, days in enumerate(STARTS):
        start = today + datetime.timedelta(days=days)
        editions.append(
            scenery.edition(
                start,
                title=f"Werkplaats {start.year} ({n + 1})",
                slug=f"werkplaats-bench-{n + 1}",
                is_published=True,
                capacity=270,
                registration_deadline=start - datetime.timedelta(days=14),
            )
        )
    return editions


def make_registrations(edition, rng):
    """PER_EDITION registrations, an order each: 255 confirmed (20 of them came off the waiting
    list), 15 waiting, 30 cancelled (10 of them while waiting)."""
    from django.utils import timezone

    from registrations.models import Registration

    Status = Registration.Status
    start = timezone.make_aware(datetime.datetime.combine(edition.start_date, datetime.time(9)))
    now = timezone.now()
    sectors = [value for value, _label in Registration.Sector.choices] + [""]
    roles = [value for value, _label in Registration.Role.choices] + [""]
    plan = []
    for n in range(PER_EDITION):
        signed_up = min(start - datetime.timedelta(days=rng.uniform(15, 150)), now)
        status, waiting_since, cancelled_at = Status.CONFIRMED, None, None
        if n < 20:
            waiting_since = signed_up
        elif n < 35:
            status, waiting_since = Status.WAITING, signed_up
        elif n < 65:
            status = Status.CANCELLED
            waiting_since = signed_up if n < 45 else None
            cancelled_at = min(signed_up + datetime.timedelta(days=rng.uniform(0, 150)), now)
        organisation = rng.choice(ORGANISATIONS[: 40 + rng.randrange(len(ORGANISATIONS) - 40)])
        government = organisation.startswith("Gemeente")
        plan.append(
            {
                "status": status,
                "waiting_since": waiting_since,
                "cancelled_at": cancelled_at,
                "created_at": signed_up,
                "organisation": spelled(organisation, rng),
                "invoice_organisation": organisation,
                "sector": "gemeente" if government and rng.random() < 0.8 else rng.choice(sectors),
                "role": rng.choice(roles),
                "job_title": rng.choice(["Wijkregisseur", "Beleidsadviseur", "Opbouwwerker", ""]),
                "overnight_stay": rng.random() < 0.7,
                "dietary_needs": rng.choice(DIETS) if rng.random() < 0.15 else "",
                "kvk_number": "" if government else f"{30000000 + rng.randrange(10**6):08d}",
                "oin": f"{rng.randrange(10**19):020d}" if government else "",
            }
        )
    return scenery.participants(
        edition, PER_EDITION, **{key: (lambda n, key=key: plan[n][key]) for key in plan[0]}
    )


def invoice(registration, number, series, sequence, invoice_date, **extra):
    from django.utils import timezone

    from registrations.invoicing.models import Invoice

    return Invoice(
        number=number,
        series=series,
        sequence=sequence,
        order_id=registration.order_id,
        invoice_date=invoice_date,
        due_date=invoice_date + datetime.timedelta(days=30),
        supply_start=registration.edition.start_date,
        supply_end=registration.edition.end_date,
        issued_at=timezone.make_aware(datetime.datetime.combine(invoice_date, datetime.time(10))),
        issuer_name="Platform31",
        issuer_street="Postbus 30833",
        issuer_postcode="2500 GV",
        issuer_city="Den Haag",
        issuer_country="Nederland",
        issuer_kvk_number="27169301",
        issuer_vat_id="NL000099998B57",
        issuer_iban="NL91ABNA0417164300",
        customer_organisation=registration.organisation.strip(),
        customer_street="Stadsplateau 1",
        customer_postcode="3521 AZ",
        customer_city="Utrecht",
        customer_country="NL",
        customer_country_name="Nederland",
        customer_email="facturen@example.nl",
        payment_reference=number,
        **{"total_excl_vat": PRICE, "total_vat": VAT, "total_incl_vat": TOTAL, **extra},
    )


def make_invoices(registrations, today, rng):
    """An invoice for every confirmed or cancelled registration (one line each); half of the
    cancelled ones credited with a credit note (the other half wait as "te crediteren").
    Returns (standing invoices, [(credited invoice, credit note)])."""
    from django.utils import timezone

    from registrations.invoicing.models import Invoice, InvoiceLine
    from registrations.models import Registration

    billed = [r for r in registrations if r.status != Registration.Status.WAITING]
    sequences = {}
    rows, lines = [], []

    def numbered(registration, invoice_date, **extra):
        series = f"{invoice_date.year}-"
        sequences[series] = sequences.get(series, 0) + 1
        number = f"{series}{sequences[series]:05d}"
        rows.append(invoice(registration, number, series, sequences[series], invoice_date, **extra))
        return rows[-1]

    for registration in billed:
        signed_up = timezone.localdate(registration.created_at)
        invoice_date = min(signed_up + datetime.timedelta(days=7), today)
        emailed = None if rng.random() < 0.03 else registration.created_at
        numbered(registration, invoice_date, emailed_at=emailed)
    Invoice.objects.bulk_create(rows)
    invoices = list(rows)
    lines += [
        InvoiceLine(
            invoice=row,
            registration=registration,
            description=f"Deelname {registration.edition}",
            quantity=1,
            unit_price=PRICE,
            vat_rate=registration.vat_rate,
            amount_excl_vat=PRICE,
        )
        for row, registration in zip(invoices, billed, strict=True)
    ]
    rows.clear()
    pairs = []
    for original, registration in zip(invoices, billed, strict=True):
        # Every other cancelled registration (consecutive keys): 15 credit notes per edition.
        if registration.status == Registration.Status.CANCELLED and registration.pk % 2:
            credit_date = min(timezone.localdate(registration.cancelled_at), today)
            credit_date = max(credit_date, original.invoice_date)
            note = numbered(
                registration,
                credit_date,
                kind=Invoice.Kind.CREDIT_NOTE,
                credited_invoice=original,
                total_excl_vat=-PRICE,
                total_vat=-VAT,
                total_incl_vat=-TOTAL,
                emailed_at=registration.cancelled_at,
            )
            pairs.append((original, note))
            lines.append(
                InvoiceLine(
                    invoice=note,
                    registration=registration,
                    description=f"Creditering deelname {registration.edition}",
                    quantity=-1,
                    unit_price=PRICE,
                    vat_rate=registration.vat_rate,
                    amount_excl_vat=-PRICE,
                )
            )
    Invoice.objects.bulk_create(rows)
    InvoiceLine.objects.bulk_create(lines, batch_size=2000)
    credited = {original.pk for original, _note in pairs}
    return [row for row in invoices if row.pk not in credited], pairs


def make_payments(standing, pairs, today, rng):
    """PAYMENTS payments: standing invoices paid in one, two or three parts, some in part,
    some not at all; credited invoices paid and some refunded; the rest unmatched. Then
    settle() writes what they add up to onto the invoices. Returns the counts made."""
    from django.db import transaction

    from registrations.payments.models import Allocation, BankStatement, Payment, settle

    statements = BankStatement.objects.bulk_create(
        BankStatement(
            sha256=f"{n:064x}", filename=f"afschrift-{n}.xml", format="camt053", entries=500
        )
        for n in range(20)
    )
    payments, allocations = [], []

    def paid(invoice_row, amount, after_days, state=Payment.State.MATCHED):
        booked = min(invoice_row.invoice_date + datetime.timedelta(days=after_days), today)
        payment = Payment(
            statement=rng.choice(statements),
            amount=amount,
            booking_date=booked,
            account_iban="NL91ABNA0417164300",
            counterparty_name=invoice_row.customer_organisation,
            counterparty_iban="NL02RABO0123456789",
            bank_reference=f"REF-{len(payments):06d}",
            remittance=f"factuur {invoice_row.number}",
            state=state,
        )
        payments.append(payment)
        allocations.append((payment, invoice_row, amount))

    for row in standing:
        roll = rng.random()
        if roll < 0.05:
            continue  # not paid (yet): open or overdue by its due date
        if roll < 0.10:
            paid(row, Decimal("1000.00"), rng.randrange(10, 40))  # part paid
            continue
        parts = 1 if roll < 0.40 else 2 if roll < 0.85 else 3
        share = (TOTAL / parts).quantize(Decimal("0.01"))
        amounts = [share] * (parts - 1) + [TOTAL - share * (parts - 1)]
        for n, amount in enumerate(amounts):
            paid(row, amount, rng.randrange(5, 30) + 10 * n)
    for original, note in pairs:
        if rng.random() < 0.66:
            paid(original, TOTAL, rng.randrange(5, 30))
            if rng.random() < 0.5:
                paid(note, -TOTAL, rng.randrange(1, 20))  # refunded; else refund due
    matched = len(payments)
    for n in range(max(PAYMENTS - matched, 0)):
        state = Payment.State.NOT_OURS if n % 4 == 0 else Payment.State.UNMATCHED
        payments.append(
            Payment(
                statement=rng.choice(statements),
                amount=Decimal(rng.randrange(50, 3000)),
                booking_date=today - datetime.timedelta(days=rng.randrange(0, 400)),
                account_iban="NL91ABNA0417164300",
                counterparty_name=f"Onbekend {n}",
                bank_reference=f"REF-{len(payments):06d}",
                remittance=f"betaling {n}",
                state=state,
            )
        )
    with transaction.atomic():
        Payment.objects.bulk_create(payments, batch_size=2000)
        Allocation.objects.bulk_create(
            (
                Allocation(payment=payment, invoice=row, amount=amount)
                for payment, row, amount in allocations
            ),
            batch_size=2000,
        )
        settle(
            [row.pk for row in standing] + [pk for pair in pairs for pk in (pair[0].pk, pair[1].pk)]
        )
    return matched, len(payments) - matched


def make_offers(edition):
    """Open offers for three waiting people of the open edition, one expiring within a day."""
    from django.utils import timezone

    from registrations.models import Registration, WaitingListOffer

    now = timezone.now()
    waiting = Registration.objects.filter(edition=edition).waiting()[:3]
    WaitingListOffer.objects.bulk_create(
        WaitingListOffer(
            registration=r, offered_at=now, expires_at=now + datetime.timedelta(hours=h)
        )
        for r, h in zip(waiting, [10, 30, 40], strict=False)
    )


def build(rng):
    """The whole data set; returns (editions, a description of what was made)."""
    from django.db.models import Count
    from django.utils import timezone

    from registrations.invoicing.models import Invoice
    from registrations.models import Registration

    today = timezone.localdate()
    scenery.complete_issuer()
    editions = make_editions(today)
    registrations = []
    for edition in editions:
        registrations += make_registrations(edition, rng)
    standing, pairs = make_invoices(registrations, today, rng)
    matched, unmatched = make_payments(standing, pairs, today, rng)
    make_offers(editions[1])
    counts = Registration.objects.values_list("status").order_by("status").annotate(n=Count("pk"))
    return editions, (
        f"{len(editions)} editions, {len(registrations)} registrations "
        f"({', '.join(f'{n} {status}' for status, n in counts)}), "
        f"{Invoice.objects.count()} invoices and credit notes ({len(pairs)} credited), "
        f"{matched + unmatched} payments ({unmatched} not matched to an invoice)\n"
        "invoices by state: "
        + ", ".join(
            f"{Invoice.objects.in_state(state).count()} {label}"
            for state, label in Invoice.Status.choices
        )
    )


def users():
    from django.contrib.auth.models import Group, User

    superuser = User.objects.create_superuser("bench-admin", "admin@example.nl", "x")
    finance = User.objects.create_user("bench-finance", "femke@example.nl", "x", is_staff=True)
    finance.groups.add(Group.objects.get(name="Financiën"))
    return superuser, finance


def measure(client, url, requests):
    """The median server time of `requests` GETs, in seconds."""
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        if response.status_code != 200:
            sys.exit(f"{url} answered {response.status_code}")
    return statistics.median(times)


def queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (7)")
    parser.add_argument("--requests", type=int, default=7, help="requests per page per round (7)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="werkplaats-bench-") as workdir:
        teardown = setup_database(workdir)
        try:
            ok = run(args)
        finally:
            from django.db import connection

            connection.close()
            teardown()
    if args.check and not ok:
        sys.exit(1)


def run(args):
    from django.conf import settings
    from django.test import Client, override_settings
    from django.urls import reverse

    started = time.perf_counter()
    editions, made = build(random.Random(22))
    built = time.perf_counter() - started
    superuser, finance = users()
    clients = {}
    for user in (superuser, finance):
        clients[user] = Client()
        clients[user].force_login(user)
    looked_at = editions[3]  # the last edition that ended: the most earlier editions to compare
    pages = [
        (BASELINE, superuser, "/beheer/registrations/registration/", None),
        ("overview (index), finance", finance, reverse("admin:index"), OVERVIEW_TARGET),
        ("overview (index), superuser", superuser, reverse("admin:index"), OVERVIEW_TARGET),
        (
            "statistics, one edition",
            superuser,
            reverse("admin:programme_edition_statistics", args=[looked_at.pk]),
            STATISTICS_TARGET,
        ),
        (
            "statistics, all editions",
            superuser,
            reverse("admin:programme_edition_statistics_all"),
            STATISTICS_TARGET,
        ),
    ]
    # The site's storage looks static names up in collectstatic's manifest; without one (no
    # collectstatic run), the plain storage: every page then has the same, smaller, cost per
    # static URL. "testserver" is the test Client's host.
    storages = dict(settings.STORAGES)
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        storages["staticfiles"] = {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        }
    with override_settings(
        STORAGES=storages,
        ALLOWED_HOSTS=["testserver"],
    ):
        for _name, user, url, _target in pages:
            measure(clients[user], url, 2)  # warm-up: templates, caches, connection
        counted = {name: queries(clients[user], url) for name, user, url, _target in pages}
        times = {name: [] for name, *_rest in pages}
        for round_ in range(args.rounds):
            # Rotate the order: no page always runs first (or right after the same page).
            for name, user, url, _target in (
                pages[round_ % len(pages) :] + pages[: round_ % len(pages)]
            ):
                times[name].append(measure(clients[user], url, args.requests))
    measured = time.perf_counter() - started - built

    print(f"database: PostgreSQL; {made}")
    print(
        f"built in {built:.0f} s; measured in {measured:.0f} s: {args.rounds} rounds x "
        f"{args.requests} requests per page, median per round, median of the rounds' ratios"
    )
    print(f"{'page':32} {'median ms':>10} {'queries':>8} {'ratio':>7}   target")
    ok = True
    for name, _user, _url, target in pages:
        ratios = [mine / base for mine, base in zip(times[name], times[BASELINE], strict=True)]
        ratio = statistics.median(ratios)
        verdict = ""
        if target is not None:
            hit = ratio <= target
            ok &= hit
            verdict = f"<= {target:.0f}x  {'OK' if hit else 'MISSED'}"
        print(
            f"{name:32} {statistics.median(times[name]) * 1000:10.1f} {counted[name]:8d} "
            f"{ratio:6.2f}x   {verdict}"
        )
    print(f"statistics of one edition: {looked_at} (16 editions before it)")
    print(f"static files: {storages['staticfiles']['BACKEND'].rpartition('.')[2]}")
    return ok


if __name__ == "__main__":
    main()
