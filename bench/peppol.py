"""E-invoices over Peppol benchmark: 300 invoices handed to a local access point by one and by
two workers, against the e-mail path in the same run. A measurement, not a test: it prints the
figures.

    .venv/bin/python bench/peppol.py [--invoices 300] [--rules-dir DIR] [--configured-db]

Set-up: 300 invoices to a gemeente known by its OIN (they go over Peppol) and 300 to a
company known by its KvK number (e-mail only), issued as the job issues them (UBL validated,
PDF with the UBL inside, both stored). Then, in the same run:
- the e-mail path: sending.send() for each KvK invoice (the stored PDF and UBL mailed, the
  locmem backend: what it costs us, not the mail server);
- the Peppol path's send: sending.send() for each OIN invoice: the copy PDF made and mailed,
  the transmission queued (its attempt not yet run);
- the hand-over: the transmit task (as a db_worker runs it: claim, stored UBL checked and
  validated with both rule sets, discovery, POST, answer recorded) for all 300, by one worker
  thread, then again (the transmissions reset) by two. The access point is a small threaded
  HTTP server on 127.0.0.1 that answers at once as Storecove's API documents.
Use --configured-db with a PostgreSQL DATABASE_URL for two workers that really run side by
side (SQLite serialises them).
"""

import argparse
import datetime
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import scenery

ROOT = Path(__file__).resolve().parent.parent
OIN = "00000001001234567000"
KEY = "bench-key-not-a-secret"


class AccessPoint(BaseHTTPRequestHandler):
    """Storecove's submission and discovery endpoints, answered at once; a repeated
    idempotencyGuid gets the first guid back."""

    guids = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            return self._answer(401, {})
        if self.path.endswith("/discovery/receives"):
            return self._answer(200, {"code": "OK"})
        with self.lock:
            guid = self.guids.setdefault(body["idempotencyGuid"], str(uuid.uuid4()))
        return self._answer(200, {"guid": guid})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=300, help="invoices per path")
    parser.add_argument("--rules-dir", help="folder with the official rule files")
    parser.add_argument("--configured-db", action="store_true", help="use DATABASE_URL")
    args = parser.parse_args()
    rules = Path(
        args.rules_dir or os.environ.get("EINVOICE_RULES_DIR") or ROOT.parent / "shared/einvoice"
    )
    if not rules.is_dir():
        sys.exit(f"needs the official rule files in {rules} (--rules-dir)")

    server = ThreadingHTTPServer(("127.0.0.1", 0), AccessPoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    with tempfile.TemporaryDirectory(prefix="werkplaats-bench-") as workdir:
        os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
        scenery.setup_django(args.configured_db, workdir)
        from django.conf import settings
        from django.core import mail
        from django.db import connection

        from registrations.invoicing import issuing, sending
        from registrations.transmission import tasks
        from registrations.transmission.models import Attempt, Status, Transmission

        # One line per attempt would drown the figures.
        logging.getLogger("registrations.transmission").setLevel(logging.WARNING)
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        settings.EINVOICE_RULES_DIR = str(rules)
        settings.PEPPOL_API_URL = f"http://127.0.0.1:{server.server_port}/api/v2"
        settings.PEPPOL_API_KEY = KEY
        settings.PEPPOL_LEGAL_ENTITY_ID = "4242"
        mail.outbox = []

        scenery.complete_issuer()
        edition = scenery.edition(datetime.date.today() + datetime.timedelta(400))
        n = args.invoices
        t0 = time.perf_counter()
        gemeente = scenery.participants(edition, n + 1, kvk_number="", oin=OIN)
        company = scenery.participants(edition, n + 1)
        # Issued outside the measurement; no transmission yet (sending.send makes it).
        peppol_invoices = [issuing.issue_invoice(r) for r in gemeente]
        email_invoices = [issuing.issue_invoice(r) for r in company]
        print(f"set-up: {2 * (n + 1)} invoices issued in {time.perf_counter() - t0:.1f} s")

        # Attempts are run by the workers below, not by the send.
        queue_attempt = tasks.queue_attempt
        tasks.queue_attempt = lambda transmission: None

        def timed_sends(invoices):
            times = []
            for invoice in invoices:
                start = time.perf_counter()
                assert sending.send(invoice)
                times.append(time.perf_counter() - start)
            return times[1:]  # the first is the cold one

        email_times = timed_sends(email_invoices)
        copy_times = timed_sends(peppol_invoices)
        tasks.queue_attempt = queue_attempt
        assert len(mail.outbox) == 2 * (n + 1)
        pks = list(
            Transmission.objects.filter(invoice__in=peppol_invoices[1:])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        assert len(pks) == n
        # The cold one: compiles the rule sets.
        first = Transmission.objects.get(invoice=peppol_invoices[0])
        tasks.transmit.call(first.pk)

        def hand_over(workers):
            Attempt.objects.filter(transmission_id__in=pks).delete()
            Transmission.objects.filter(pk__in=pks).update(
                status=Status.QUEUED,
                next_attempt_at=datetime.datetime.now(datetime.UTC),
                attempt_count=0,
                validated_at=None,
                provider_message_id="",
            )
            for pk in pks:
                Transmission.objects.filter(pk=pk).update(idempotency_key=uuid.uuid4())
            todo = list(pks)
            lock = threading.Lock()

            def worker():
                while True:
                    with lock:
                        if not todo:
                            break
                        pk = todo.pop(0)
                    tasks.transmit.call(pk)
                connection.close()

            start = time.perf_counter()
            threads = [threading.Thread(target=worker) for _ in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - start
            handed = Transmission.objects.filter(pk__in=pks, status=Status.HANDED_OVER).count()
            assert handed == n, handed
            assert Attempt.objects.filter(transmission_id__in=pks).count() == n
            return elapsed

        one, two = hand_over(1), hand_over(2)

        email_s, copy_s = statistics.median(email_times), statistics.median(copy_times)
        print(f"database: {connection.vendor}; rules: {rules}")
        print(
            f"e-mail path, sending.send per invoice (PDF + UBL), median: {email_s * 1000:7.1f} ms"
        )
        print(
            f"Peppol path, sending.send per invoice (copy PDF + queue), median: {copy_s * 1000:7.1f} ms"
        )
        for workers, elapsed in ((1, one), (2, two)):
            print(
                f"hand-over of {n} invoices by {workers} worker(s): {elapsed:6.1f} s, "
                f"{n / elapsed:6.1f} invoices/s, {elapsed / n * 1000 * workers:6.1f} ms per "
                "invoice per worker"
            )
        per_invoice = copy_s + one / n
        print(
            f"Peppol per invoice (send + hand-over, 1 worker): {per_invoice * 1000:7.1f} ms; "
            f"overhead against e-mail: {(per_invoice - email_s) * 1000:+7.1f} ms "
            f"({per_invoice / email_s:.1f} x)"
        )
        connection.close()
    server.shutdown()


if __name__ == "__main__":
    main()
