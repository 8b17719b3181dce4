"""Coach conversations benchmark: 60 participants booking 20 slots at once on PostgreSQL, and
the booking's latency against a sign-up's in the same run. A measurement, not a test.

    DATABASE_URL=postgres://... .venv/bin/python bench/coaching.py [--people 60] [--slots 20]

It makes a throwaway database beside DATABASE_URL's (its name with "_coaching_bench"; the role
must be allowed to create databases), migrates it and drops it again. First `--people`
sign-ups are posted to the public form at once (threads released together, Django's test
Client in this process: server time, no network), then the same people book a coach slot at
once: each chooses one of the `--slots` slots at random, and whoever is refused (someone was
first) chooses again from what the page offers them, until every slot is taken. Mail goes to
memory. It prints the median and 95th percentile of each request's time, the booking's as a
share of the sign-up's, and checks that every slot holds exactly one person and nobody two.
"""

import argparse
import datetime
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import scenery


def setup_database(workdir):
    """Django with DATABASE_URL's server, on a fresh throwaway database; returns its teardown."""
    sys.path.insert(0, str(scenery.ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "werkplaats.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-not-a-secret")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_MEDIA_ROOT"] = str(Path(workdir) / "media")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    warnings.filterwarnings("ignore", message="No directory at")
    if connection.vendor != "postgresql":
        sys.exit("bench/coaching.py measures on PostgreSQL: set DATABASE_URL=postgres://...")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.REGISTRATION_RATE_LIMIT = 1_000_000  # all from one address: not the limit's bench
    settings.ALLOWED_HOSTS = ["testserver"]  # the test Client's host
    # Without collectstatic's manifest, the plain storage (the same cost for both requests).
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    connection.settings_dict.setdefault("TEST", {})
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_coaching_bench"
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return lambda: connection.creation.destroy_test_db(old_name, verbosity=0)


# PostgreSQL allows 100 connections by default, shared with the rest of the machine: at most
# this many of the threads hold one at the same moment (as tests/test_concurrency.py does).
IN_FLIGHT = 40


def at_once(count, work):
    """Run work(n) for n in range(count) in threads released together (at most IN_FLIGHT
    holding a database connection at once); [work's result]."""
    from django.db import connection

    barrier = threading.Barrier(count)
    slots = threading.BoundedSemaphore(IN_FLIGHT)
    results = [None] * count

    def run(number):
        barrier.wait()
        try:
            with slots:
                results[number] = work(number)
        except Exception as error:  # reported, not hidden
            results[number] = [(0.0, repr(error))]
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def timed_post(url, data):
    from django.test import Client

    started = time.perf_counter()
    response = Client().post(url, data)
    return time.perf_counter() - started, response


def sign_up_data(number):
    return {
        "first_name": f"Deelnemer{number}",
        "last_name": "Bench",
        "email": f"deelnemer{number}@bench.example.nl",
        "phone": "06 12345678",
        "organisation": "Gemeente Utrecht",
        "job_title": "Wijkregisseur",
        "sector": "gemeente",
        "role": "leider",
        "own_case": "Hoe krijgen bewoners meer regie?",
        "dietary_needs": "",
        "accessibility_needs": "",
        "overnight_stay": "ja",
        "invoice_organisation": "Gemeente Utrecht",
        "invoice_attention": "",
        "invoice_street": "Stadsplateau 1",
        "invoice_postcode": "3521 AZ",
        "invoice_city": "Utrecht",
        "invoice_country": "NL",
        "invoice_email": "facturen@utrecht.example.nl",
        "po_number": "",
        "vat_id": "",
        "kvk_number": "30280353",
        "oin": "",
        "peppol_id": "",
        "accept_terms": "on",
        "accept_privacy": "on",
        "website": "",
    }


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(name, seconds):
    median, p95 = statistics.median(seconds), percentile(seconds, 0.95)
    print(
        f"{name:<34} {len(seconds):>4} requests  median {median * 1000:7.1f} ms  "
        f"p95 {p95 * 1000:7.1f} ms"
    )
    return median, p95


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=60)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--seed", type=int, default=31)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        teardown = setup_database(workdir)
        try:
            run(options)
        finally:
            teardown()


def run(options):
    from django.urls import reverse
    from django.utils import timezone

    from registrations.coaching.models import Coach, CoachSlot
    from registrations.models import Registration

    start = timezone.localdate() + datetime.timedelta(days=60)
    edition = scenery.edition(
        start,
        slug="coaching-bench",
        is_published=True,
        capacity=options.people + 11,
        registration_deadline=start - datetime.timedelta(days=14),
    )
    register = reverse("registrations:register", args=[edition.slug])

    def sign_up(number):
        seconds, response = timed_post(register, sign_up_data(number))
        return [(seconds, response.status_code)]

    first = timed_post(register, sign_up_data(-1))[1]
    if first.status_code != 302:
        errors = re.findall(r"invalid-feedback[^>]*>(.*?)<", first.content.decode())
        sys.exit(f"the sign-up form refused the bench's data: {errors}")
    sign_ups = at_once(options.people, sign_up)
    codes = [code for result in sign_ups for _, code in result]
    assert codes.count(302) == options.people, f"sign-ups: {codes}"

    coaches = [Coach.objects.create(name=f"Coach {n}") for n in range(4)]
    for n in range(options.slots):
        hour, minute = divmod(9 * 60 + (n // len(coaches)) * 50, 60)
        CoachSlot.objects.create(
            edition=edition,
            coach=coaches[n % len(coaches)],
            day=start,
            start=datetime.time(hour, minute),
            end=datetime.time(hour, minute + 45)
            if minute + 45 < 60
            else datetime.time(hour + 1, minute - 15),
            room=f"Zaal {n % len(coaches) + 1}",
        )
    people = list(Registration.objects.filter(edition=edition).order_by("pk"))
    slot_ids = list(CoachSlot.objects.filter(edition=edition).values_list("pk", flat=True))
    offered = re.compile(r'name="slot" value="(\d+)"')

    def book(number):
        rng = random.Random(options.seed + number)
        url = reverse("coaching:book", args=[people[number].token])
        choice = rng.choice(slot_ids)
        tries = []
        while True:
            seconds, response = timed_post(url, {"slot": choice})
            tries.append((seconds, response.status_code))
            if response.status_code == 302:
                return tries
            # Refused: choose again from the free slots the page shows.
            free = [int(pk) for pk in offered.findall(response.content.decode())]
            if not free:
                return tries
            choice = rng.choice(free)

    started = time.perf_counter()
    bookings = at_once(options.people, book)
    wall = time.perf_counter() - started

    print(
        f"PostgreSQL, {options.people} people, {options.slots} slots, all at once "
        f"(at most {IN_FLIGHT} connections in flight)"
    )
    sign_up_median, _ = report("sign-up (public form)", [s for r in sign_ups for s, _ in r])
    book_seconds = [s for r in bookings for s, _ in r]
    book_median, _ = report("coach booking (every attempt)", book_seconds)
    report("  of which booked", [s for r in bookings for s, c in r if c == 302])
    report("  of which refused (taken)", [s for r in bookings for s, c in r if c != 302] or [0.0])
    attempts = [len(r) for r in bookings]
    print(f"booking as a share of a sign-up (medians): {book_median / sign_up_median:.2f}x")
    print(
        f"all bookings settled in {wall:.2f} s; attempts per person: "
        f"median {statistics.median(attempts)}, max {max(attempts)}"
    )
    booked = CoachSlot.objects.filter(edition=edition, registration__isnull=False)
    holders = list(booked.values_list("registration_id", flat=True))
    winners = sum(1 for r in bookings if r and r[-1][1] == 302)
    print(
        f"slots taken: {len(holders)} of {options.slots}; people with a slot: {winners}; "
        f"one person per slot and one slot per person: {len(set(holders)) == len(holders) == winners}"
    )
    errors = [r for r in bookings if any(isinstance(c, str) for _, c in r)]
    if errors:
        print(f"errors: {errors[:3]}")


if __name__ == "__main__":
    main()
