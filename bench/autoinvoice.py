"""Automatic invoicing benchmark: 300 confirmed orders invoiced by the order's job, against
the PDF-only issue of the same invoice in the same run. A measurement, not a test: it prints
the figures.

    .venv/bin/python bench/autoinvoice.py [--orders 300] [--rules-dir DIR] [--configured-db]

The job (registrations/invoicing/tasks.invoice_order, as the db_worker runs it) issues each
order's invoice (UBL made, validated with both official rule sets when found, embedded in the
PDF, both stored) and mails it with both attachments (the locmem mail backend: what it costs
us, not the mail server's answer). In turns with it, the same kind of order is issued the way
invoices were issued before e-invoices (PDF only, no mail), so a machine whose load drifts
slows both alike. The first of each kind is left out (it compiles the rule sets and warms
WeasyPrint). Rules: --rules-dir, else EINVOICE_RULES_DIR, else ../shared/einvoice.
"""

import argparse
import datetime
import os
import statistics
import tempfile
import time
from pathlib import Path

import scenery

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="orders invoiced by the job")
    parser.add_argument("--rules-dir", help="folder with the official rule files")
    parser.add_argument("--configured-db", action="store_true", help="use DATABASE_URL")
    args = parser.parse_args()
    rules = Path(
        args.rules_dir or os.environ.get("EINVOICE_RULES_DIR") or ROOT.parent / "shared/einvoice"
    )

    with tempfile.TemporaryDirectory(prefix="werkplaats-bench-") as workdir:
        os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
        scenery.setup_django(args.configured_db, workdir)
        from django.conf import settings
        from django.core import mail
        from django.db import connection

        from programme.models import InvoiceMoment
        from registrations.invoicing import documents, issuing, pdf, tasks
        from registrations.invoicing.models import Invoice, InvoiceDocument

        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        mail.outbox = []
        if rules.is_dir():
            settings.EINVOICE_RULES_DIR = str(rules)

        def pdf_only(invoice):
            """Issuing's last step as it was before e-invoices: the PDF and its checksum."""
            content = pdf.render_invoice(invoice)
            InvoiceDocument.objects.create(invoice=invoice, kind="pdf", content=content)
            invoice.pdf_sha256 = documents.sha256(content)
            invoice.save(update_fields=["pdf_sha256"])

        scenery.complete_issuer()
        start = datetime.date.today() + datetime.timedelta(days=365)
        edition = scenery.edition(start, invoice_moment=InvoiceMoment.AT_CONFIRMATION)
        registrations = scenery.participants(edition, 2 * (args.orders + 1))

        with_einvoice = issuing.store_documents
        job, before = [], []
        t_all = time.perf_counter()
        for n, registration in enumerate(registrations):
            automatic = n % 2 == 1
            issuing.store_documents = with_einvoice if automatic else pdf_only
            t0 = time.perf_counter()
            if automatic:
                outcome = tasks.invoice_order.call(registration.order_id)
                assert "done" in outcome, outcome
            else:
                issuing.issue_invoice(registration)
            elapsed = time.perf_counter() - t0
            if n >= 2:  # the first of each kind is the cold one
                (job if automatic else before).append(elapsed)
        total = time.perf_counter() - t_all
        issuing.store_documents = with_einvoice

        automatic_orders = [r.order_id for r in registrations[1::2]]
        invoices = Invoice.objects.filter(order_id__in=automatic_orders)
        assert invoices.count() == args.orders + 1
        assert not invoices.filter(emailed_at__isnull=True).exists()
        assert not invoices.filter(ubl_sha256="").exists()
        assert len(mail.outbox) == args.orders + 1

        job_s, before_s = statistics.median(job), statistics.median(before)
        print(
            f"database: {connection.vendor}; rules: "
            f"{rules if rules.is_dir() else 'not found, e-invoices not validated'}"
        )
        print(f"{args.orders} orders invoiced by the job, {args.orders} issued PDF-only, in turns")
        print(f"job per order (issue + e-invoice + mail), median: {job_s:7.3f} s")
        print(f"PDF-only issue of the same invoice, median:       {before_s:7.3f} s")
        print(f"job / PDF-only:                                   {job_s / before_s:7.2f} x")
        print(
            f"the job for all {args.orders} orders:                        "
            f"{sum(job):7.1f} s ({total:.1f} s with the PDF-only turns)"
        )
        connection.close()


if __name__ == "__main__":
    main()
