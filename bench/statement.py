"""Statement benchmark with our own references: a CAMT.053 statement of 5,000 lines quoting
INS-/BST- references, invoice numbers and names, read in against 5,000 invoices of as many
orders, per line against issuing one invoice (PDF only) in the same run. A measurement, not
a test: it prints the figures.

    .venv/bin/python bench/statement.py [--count 5000] [--rounds 5] [--configured-db]

Each quarter of the lines quotes one thing: a participant's reference (INS-00042), an order's
reference typed loosely ("bst 42"), the invoice number, or only the participant's name (no
allocation: that line waits in the queue, where the assign screen suggests the invoice; its
time per payment is printed too). Every tenth line pays part of the invoice.
"""

import argparse
import datetime
import statistics
import tempfile
import time
from decimal import Decimal

import scenery

TOTAL = Decimal("2178.00")
LAST_NAMES = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos"]


def make_invoices(edition, count):
    """`count` participants, each with an order and an issued invoice with its line, in bulk
    inserts: the snapshot fields only, no PDF (this measures the import, not issuing)."""
    from registrations.invoicing.models import InvoiceLine

    registrations = scenery.participants(
        edition,
        count,
        first_name=lambda n: f"Deelnemer{n}",
        last_name=lambda n: f"{LAST_NAMES[n % len(LAST_NAMES)]}-{n}",
    )
    invoices = scenery.issued_invoices(registrations, "2025-", 1)
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=1,
            registration=registration,
            description=f"Deelname {registration.full_name}",
            quantity=Decimal("1"),
            unit_price=Decimal("1800.00"),
            vat_rate=Decimal("21.00"),
            amount_excl_vat=Decimal("1800.00"),
        )
        for invoice, registration in zip(invoices, registrations, strict=True)
    )
    return list(zip(invoices, registrations, strict=True))


def quoted(n, invoice, registration):
    """What line n says: a participant's reference, an order's, the number, or a name."""
    return [
        f"Inschrijving werkplaats {registration.reference}",
        f"betaling bst {registration.order_id} wijkontwikkeling",
        f"factuur {invoice.number.lower()}",
        f"{registration.first_name} {registration.last_name} werkplaats",
    ][n % 4]


def statement(rows):
    return scenery.camt_statement(
        "REFS",
        [
            (TOTAL if n % 10 else Decimal("1000.00"), "Gemeente Utrecht", quoted(n, *row))
            for n, row in enumerate(rows)
        ],
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="lines and invoices (5000)")
    parser.add_argument("--rounds", type=int, default=5, help="PDF-only issues timed (5)")
    parser.add_argument("--configured-db", action="store_true", help="use DATABASE_URL")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="werkplaats-bench-") as workdir:
        scenery.setup_django(args.configured_db, workdir)
        from django.db import connection

        from registrations.history.models import OrderLogEntry
        from registrations.invoicing import documents, issuing, pdf
        from registrations.invoicing.models import InvoiceDocument
        from registrations.payments import matching
        from registrations.payments.models import Payment

        def pdf_only(invoice):
            """Issuing's last step before e-invoices: the PDF and its checksum."""
            content = pdf.render_invoice(invoice)
            InvoiceDocument.objects.create(invoice=invoice, kind="pdf", content=content)
            invoice.pdf_sha256 = documents.sha256(content)
            invoice.save(update_fields=["pdf_sha256"])

        scenery.complete_issuer()
        edition = scenery.edition(datetime.date.today() - datetime.timedelta(days=60))
        rows = make_invoices(edition, args.count)
        content = statement(rows)

        start = time.perf_counter()
        record = matching.import_statement(content, "refs.xml")
        seconds = time.perf_counter() - start
        per_line_ms = seconds / args.count * 1000

        waiting = list(Payment.objects.unmatched().order_by("pk")[:20])
        screen_ms = []
        for payment in waiting:
            t0 = time.perf_counter()
            found = matching.suggestions(payment)
            screen_ms.append((time.perf_counter() - t0) * 1000)
            assert found, f"no suggestion for {payment.remittance}"

        # The PDF-only issue of one invoice, in the same run on the same database; the first
        # is left out (WeasyPrint's first render).
        issuing.store_documents = pdf_only
        fresh = scenery.participants(
            scenery.edition(datetime.date.today() + datetime.timedelta(days=365)), args.rounds + 1
        )
        issue_ms = []
        for n, registration in enumerate(fresh):
            t0 = time.perf_counter()
            issuing.issue_invoice(registration)
            if n:
                issue_ms.append((time.perf_counter() - t0) * 1000)
        issue_median = statistics.median(issue_ms)

        print(f"database: {connection.vendor}; {args.count} invoices, {args.count} lines")
        print(
            f"read in the statement:                  {seconds:8.2f} s  "
            f"({record.matched} matched, {record.entries - record.matched} in the queue; "
            f"{OrderLogEntry.objects.filter(kind='payment').count()} history entries)"
        )
        print(f"per line:                               {per_line_ms:8.2f} ms")
        print(f"issue one invoice, PDF only, median:    {issue_median:8.1f} ms")
        print(f"one line / one PDF-only issue:          {per_line_ms / issue_median:8.3f}")
        print(
            f"assign screen suggestions (name only), median of {len(screen_ms)}: "
            f"{statistics.median(screen_ms):.1f} ms"
        )
        connection.close()


if __name__ == "__main__":
    main()
