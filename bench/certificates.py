"""Certificate PDF benchmark: how long rendering the certificates of a large edition takes.
A measurement, not a test: it prints the figures.

    .venv/bin/python bench/certificates.py [--count 100] [--configured-db] [--check]

By default it works on a fresh SQLite database in a temporary directory; --configured-db uses
DATABASE_URL instead (it writes an edition and registrations: use a scratch database).
Target: 100 certificates rendered in < 10 s.
"""

import argparse
import datetime
import sys
import tempfile
import time
from decimal import Decimal

import scenery

TARGET_SECONDS = 10.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="certificates (100)")
    parser.add_argument("--configured-db", action="store_true", help="use DATABASE_URL")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="werkplaats-bench-") as workdir:
        scenery.setup_django(args.configured_db, workdir)
        from django.db import connection

        from registrations.attendance import pdf
        from registrations.attendance.models import Attendance, Certificate, edition_days

        start = datetime.date.today() - datetime.timedelta(days=30)
        edition = scenery.edition(
            start,
            contact_hours_per_day=Decimal("6"),
            accreditation_text="Geaccrediteerd door Registerplein, kenmerk RP-2022-0815.",
        )
        registrations = scenery.participants(
            edition, args.count, first_name="Ænne-Çlara", last_name=lambda n: f"Øster-Üğur {n}"
        )
        days = edition_days(edition)
        Attendance.objects.record(edition, days, {(r.pk, days[0]) for r in registrations})
        certificates = [Certificate.objects.issue(r) for r in registrations]

        t0 = time.perf_counter()
        pdf.certificate(certificates[0])
        cold_ms = (time.perf_counter() - t0) * 1000

        t0, cpu0 = time.perf_counter(), time.process_time()
        sizes = [len(pdf.certificate(certificate)) for certificate in certificates]
        seconds = time.perf_counter() - t0
        # CPU time of this process: on a shared machine the wall clock also counts waiting.
        cpu_seconds = time.process_time() - cpu0

        ok = seconds < TARGET_SECONDS * args.count / 100
        print(f"database: {connection.vendor}")
        print(f"first certificate in this process (cold): {cold_ms:8.1f} ms")
        print(
            f"render {args.count} certificates:             {seconds:8.2f} s    "
            f"({seconds / args.count * 1000:.1f} ms each, {sum(sizes) / len(sizes) / 1024:.0f} "
            f"KiB each; target < {TARGET_SECONDS * args.count / 100:.0f} s) "
            f"{'OK' if ok else 'MISSED'}"
        )
        print(f"  (CPU time of this process for them:     {cpu_seconds:8.2f} s)")
        connection.close()
    if args.check and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
