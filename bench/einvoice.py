"""E-invoice benchmark: what the e-invoice adds to issuing one invoice. A measurement, not a
test: it prints the figures.

    .venv/bin/python bench/einvoice.py [--rounds 40] [--rules-dir DIR] [--configured-db] [--check]

In one run it issues invoices alternately the way they were issued before e-invoices (PDF
only) and the way they are issued now (UBL made, validated with both official rule sets,
embedded in the PDF, both stored), and prints the median of each and the difference. The
first issue of each kind is left out: it pays for compiling the rule sets (about a second per
process) and WeasyPrint's first render. Rules: --rules-dir, else EINVOICE_RULES_DIR, else the
shared folder next to the project (../shared/einvoice). Target: at most 30 ms more per invoice.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import scenery

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 30.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="invoices of each kind (40)")
    parser.add_argument("--rules-dir", help="folder with the official rule files")
    parser.add_argument("--configured-db", action="store_true", help="use DATABASE_URL")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    rules = (
        args.rules_dir or os.environ.get("EINVOICE_RULES_DIR") or ROOT.parent / "shared/einvoice"
    )

    with tempfile.TemporaryDirectory(prefix="werkplaats-bench-") as workdir:
        scenery.setup_django(args.configured_db, workdir)
        from django.conf import settings
        from django.db import connection

        from registrations.invoicing import documents, einvoice, issuing, pdf
        from registrations.invoicing.models import InvoiceDocument

        def pdf_only(invoice):
            """Issuing's last step as it was before e-invoices: the PDF and its checksum."""
            content = pdf.render_invoice(invoice)
            InvoiceDocument.objects.create(invoice=invoice, kind="pdf", content=content)
            invoice.pdf_sha256 = documents.sha256(content)
            invoice.save(update_fields=["pdf_sha256"])

        scenery.complete_issuer()
        start = datetime.date.today() + datetime.timedelta(days=365)
        registrations = scenery.participants(scenery.edition(start), 2 * (args.rounds + 1))

        with_einvoice = issuing.store_documents
        settings.EINVOICE_RULES_DIR = str(rules)
        before, after = [], []
        for n, registration in enumerate(registrations):
            new = n % 2 == 1
            issuing.store_documents = with_einvoice if new else pdf_only
            t0 = time.perf_counter()
            invoice = issuing.issue_invoice(registration)
            elapsed = (time.perf_counter() - t0) * 1000
            if n >= 2:  # the first of each kind is the cold one
                (after if new else before).append(elapsed)
        issuing.store_documents = with_einvoice
        assert invoice.ubl_sha256 and documents.ubl_bytes(invoice)

        ubl = einvoice.render_ubl(invoice)
        make_ms = statistics.median(_times(lambda: einvoice.render_ubl(invoice), args.rounds))
        validate_ms = statistics.median(_times(lambda: einvoice.findings(ubl), args.rounds))
        plain = statistics.median(_times(lambda: pdf.render_invoice(invoice), args.rounds))
        hybrid = statistics.median(
            _times(lambda: pdf.render_invoice(invoice, einvoice=ubl), args.rounds)
        )

        before_ms, after_ms = statistics.median(before), statistics.median(after)
        difference = after_ms - before_ms
        ok = difference <= TARGET_MS
        print(f"database: {connection.vendor}; rules: {rules}; {args.rounds} invoices each")
        print(f"issue, PDF only (before), median:        {before_ms:8.1f} ms")
        print(f"issue, UBL + validation + PDF, median:   {after_ms:8.1f} ms")
        print(
            f"difference:                              {difference:8.1f} ms   "
            f"(target <= {TARGET_MS:.0f} ms) {'OK' if ok else 'MISSED'}"
        )
        print(f"  make the UBL, median:                  {make_ms:8.1f} ms")
        print(f"  validate it (both rule sets), median:  {validate_ms:8.1f} ms")
        print(f"  PDF render without / with the XML:     {plain:8.1f} / {hybrid:.1f} ms")
        connection.close()
    if args.check and not ok:
        sys.exit(1)


def _times(function, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        function()
        times.append((time.perf_counter() - t0) * 1000)
    return times


if __name__ == "__main__":
    main()
