"""Bank statement import benchmark: a CAMT.053 statement of 5,000 lines against 5,000 open
invoices, and whether the cost grows with lines x invoices. A measurement, not a test.

    .venv/bin/python bench/payments.py [--count 5000] [--configured-db] [--check]

Three figures from one run:
- baseline: parsing the statement alone (defusedxml), the floor of any import;
- small: importing count/5 lines against count/5 invoices;
- full: importing `count` lines against `count` invoices (every invoice in the database).
Linear work gives full/small per line about 1; lines x invoices would make it about 5.
Targets: the full import in < 10 s, and per-line ratio full/small <= 2.
"""

import argparse
import datetime
import sys
import tempfile
import time
from decimal import Decimal

import scenery

TARGET_SECONDS = 10.0
RATIO_TARGET = 2.0
TOTAL = Decimal("2178.00")


def make_invoices(edition, first, count):
    """`count` issued invoices, numbered from `first`, each for a participant of its own."""
    registrations = scenery.participants(edition, count)
    return scenery.issued_invoices(registrations, "2026-", first, lambda n: f"Gemeente {n}")


# What people type: the number as printed, lower case, with "factuur", without leading zeros.
TYPED = [
    lambda number: number,
    lambda number: f"factuur {number.lower()}",
    lambda number: f"Factuurnr. {number.replace('-0', '-').replace('-0', '-')}",
    lambda number: f"inschrijving werkplaats {number} deelnemer",
]


def statement(numbers, extra_unmatched, statement_id):
    """CAMT.053 bytes: one credit line per number (every tenth a partial payment), plus lines
    nobody can match."""
    texts = [(TYPED[n % len(TYPED)](number), n) for n, number in enumerate(numbers)]
    texts += [(f"gift {n}", n) for n in range(extra_unmatched)]
    return scenery.camt_statement(
        statement_id,
        [(TOTAL if n % 10 else Decimal("1000.00"), f"Gemeente {n}", text) for text, n in texts],
    )


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="lines and invoices (5000)")
    parser.add_argument("--configured-db", action="store_true", help="use DATABASE_URL")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    small_count = args.count // 5

    with tempfile.TemporaryDirectory(prefix="werkplaats-bench-") as workdir:
        scenery.setup_django(args.configured_db, workdir)
        from django.db import connection

        from registrations.payments import camt, matching
        from registrations.payments.models import Payment

        scenery.complete_issuer()
        edition = scenery.edition(datetime.date.today() - datetime.timedelta(days=60))

        small_invoices = make_invoices(edition, 1, small_count)
        small = statement([i.number for i in small_invoices], 0, "S")
        _, small_seconds = timed(lambda: matching.import_statement(small, "klein.xml"))

        full_invoices = make_invoices(edition, small_count + 1, args.count - small_count)
        # As many lines as invoices: the new invoices' payments plus lines nobody can match.
        full = statement([i.number for i in full_invoices], small_count, "F")
        _, parse_seconds = timed(lambda: camt.parse(full))
        cpu = time.process_time()
        record, full_seconds = timed(lambda: matching.import_statement(full, "vol.xml"))
        full_cpu = time.process_time() - cpu

        lines = len(full_invoices) + small_count
        per_line_ratio = (full_seconds / lines) / (small_seconds / small_count)
        ok = full_seconds < TARGET_SECONDS and per_line_ratio <= RATIO_TARGET
        print(f"database: {connection.vendor}; {Payment.objects.count()} payments stored")
        print(f"parse {lines} lines only (baseline):      {parse_seconds:8.2f} s")
        print(
            f"import {small_count} lines / {small_count} invoices:    {small_seconds:8.2f} s "
            f"({small_seconds / small_count * 1000:.2f} ms per line)"
        )
        print(
            f"import {lines} lines / {args.count} invoices:    {full_seconds:8.2f} s "
            f"({full_seconds / lines * 1000:.2f} ms per line; {record.matched} matched, "
            f"{record.entries - record.matched} in the queue)   target < {TARGET_SECONDS:.0f} s"
        )
        print(f"  (CPU time of this process for it:     {full_cpu:8.2f} s; the rest is waiting)")
        print(f"ratio full import / parse baseline:     {full_seconds / parse_seconds:8.1f}")
        print(
            f"per-line ratio full / small:            {per_line_ratio:8.2f}   "
            f"(target <= {RATIO_TARGET}; lines x invoices would give ~5) "
            f"{'OK' if ok else 'MISSED'}"
        )
        connection.close()
    if args.check and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
