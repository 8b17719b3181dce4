"""Invoice PDF benchmark: how close one invoice render is to WeasyPrint's floor, and how long
issuing 500 invoices takes. A measurement, not a test: it prints the figures.

    .venv/bin/python bench/invoices.py [--count 500] [--rounds 30] [--configured-db] [--check]

By default it works on a fresh SQLite database and media folder in a temporary directory;
--configured-db uses DATABASE_URL instead (its invoices are real: use a scratch database).
Targets: render / floor <= 4 (issue 15), and 500 invoices issued and rendered in < 30 s.
"""

import argparse
import copy
import datetime
import statistics
import sys
import tempfile
import time

import scenery

# Issue 15: at most 4x the bare page (pretix renders its one-page invoice with reportlab in
# about that time on this machine).
RATIO_TARGET = 4.0
BULK_TARGET_SECONDS = 30.0
FLOOR_HTML = "<!DOCTYPE html><html lang='nl'><p>Eén alinea tekst op een A4.</p></html>"


def interleaved_medians_ms(functions, rounds):
    """The median time of each function, run in turns (a, b, c, a, b, c, ...): a machine whose
    load drifts slows every one of them alike, so their ratios hold. The first turn warms up
    and is not counted."""
    times = {name: [] for name in functions}
    for turn in range(rounds + 1):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            if turn:
                times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="invoices to issue (500)")
    parser.add_argument("--rounds", type=int, default=30, help="renders per median (30)")
    parser.add_argument("--configured-db", action="store_true", help="use DATABASE_URL")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="werkplaats-bench-") as workdir:
        scenery.setup_django(args.configured_db, workdir)
        from django.db import connection

        from registrations.invoicing import checks, pdf
        from registrations.invoicing.einvoice import render_ubl
        from registrations.invoicing.issuing import issue_invoice
        from registrations.invoicing.models import Invoice
        from werkplaats import pdf as engine

        for warning in checks.invoice_pdf_dependencies():
            print(f"WARNING {warning.id}: {warning.msg}")

        scenery.complete_issuer()
        start = datetime.date.today() + datetime.timedelta(days=365)
        registrations = scenery.participants(scenery.edition(start), args.count + 1)

        t0 = time.perf_counter()
        first = issue_invoice(registrations[0])
        first_issue_ms = (time.perf_counter() - t0) * 1000

        ubl = render_ubl(first)
        # The same snapshot in layout 1 (tables), as every invoice was rendered before layout 2.
        tables = copy.copy(first)
        tables.layout = Invoice.Layout.TABLES
        medians = interleaved_medians_ms(
            {
                "invoice": lambda: pdf.render_invoice(first),
                "floor": lambda: pdf.render_html(
                    FLOOR_HTML, identifier="floor", created="2022-09-12", stylesheets=False
                ),
                "floor with css": lambda: pdf.render_html(
                    FLOOR_HTML, identifier="floor", created="2022-09-12"
                ),
                "invoice with e-invoice": lambda: pdf.render_invoice(first, einvoice=ubl),
                "layout 1": lambda: pdf.render_invoice(tables),
            },
            args.rounds,
        )
        invoice_ms, floor_ms = medians["invoice"], medians["floor"]
        ratio = invoice_ms / floor_ms

        t0, cpu0 = time.perf_counter(), time.process_time()
        for registration in registrations[1:]:
            issue_invoice(registration)
        bulk_seconds = time.perf_counter() - t0
        # CPU time of this process: on a shared machine the wall clock also counts waiting.
        bulk_cpu_seconds = time.process_time() - cpu0

        ratio_ok = ratio <= RATIO_TARGET
        bulk_ok = bulk_seconds < BULK_TARGET_SECONDS * args.count / 500
        print(f"database: {connection.vendor}; pdf options: {engine.PDF_OPTIONS}")
        print(f"first issue in this process (cold):   {first_issue_ms:8.1f} ms")
        print(
            f"invoice layout {first.layout}, render, median of {args.rounds}: {invoice_ms:6.1f} ms"
        )
        print(f"bare A4 paragraph (floor), median:    {floor_ms:8.1f} ms")
        print(f"  (same, with the invoice stylesheet: {medians['floor with css']:8.1f} ms)")
        print(
            f"  (the invoice with its e-invoice embedded, as issued: "
            f"{medians['invoice with e-invoice']:.1f} ms)"
        )
        print(
            f"  (the same invoice in layout 1, tables: {medians['layout 1']:.1f} ms, "
            f"{medians['layout 1'] / floor_ms:.2f} x the floor)"
        )
        print(
            f"ratio invoice / floor:                {ratio:8.2f}   "
            f"(target <= {RATIO_TARGET}) {'OK' if ratio_ok else 'MISSED'}"
        )
        print(
            f"issue + render {args.count} invoices:        {bulk_seconds:8.1f} s    "
            f"({bulk_seconds / args.count * 1000:.1f} ms each; target < "
            f"{BULK_TARGET_SECONDS * args.count / 500:.0f} s) {'OK' if bulk_ok else 'MISSED'}"
        )
        print(f"  (CPU time of this process for them:  {bulk_cpu_seconds:8.1f} s)")
        connection.close()
    if args.check and not (ratio_ok and bulk_ok):
        sys.exit(1)


if __name__ == "__main__":
    main()
