"""What the benchmarks stand on: Django on a scratch database, a complete issuer, an edition
and its participants, issued invoices without their PDF, and a CAMT.053 statement. Not a
benchmark itself; the scripts beside it import it."""

import datetime
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(configured_db, workdir, migrate=True):
    """Django on a fresh SQLite database in `workdir`, or on DATABASE_URL (`configured_db`)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "werkplaats.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-not-a-secret")
    os.environ["DJANGO_DEBUG"] = "0"  # DEBUG keeps every query in memory
    os.environ["DJANGO_MEDIA_ROOT"] = str(Path(workdir) / "media")
    if not configured_db:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(workdir) / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.core.management import call_command

    if migrate:
        call_command("migrate", verbosity=0)


def complete_issuer():
    from registrations.invoicing.models import InvoiceIssuer

    issuer = InvoiceIssuer.load()
    for field, value in {
        "name": "Platform31",
        "street": "Postbus 30833",
        "postcode": "2500 GV",
        "city": "Den Haag",
        "kvk_number": "27169301",
        "vat_id": "NL000099998B57",
        "iban": "NL91ABNA0417164300",
    }.items():
        setattr(issuer, field, value)
    issuer.save()
    return issuer


def edition(start, **overrides):
    """A three-day edition from `start` at the 2022 venue and price."""
    from programme.models import Edition

    fields = {
        "title": "Werkplaats ‘Werken aan wijkontwikkeling’ (benchmark)",
        "slug": f"bench-{time.time_ns()}",
        "start_date": start,
        "end_date": start + datetime.timedelta(days=2),
        "daily_start_time": datetime.time(9, 30),
        "daily_end_time": datetime.time(17),
        "venue_name": "Kaap Doorn Conferentiecentrum",
        "venue_city": "Doorn",
        "price_excl_vat": Decimal("1800.00"),
        "registration_deadline": start - datetime.timedelta(days=60),
    }
    return Edition.objects.create(**{**fields, **overrides})


def participants(edition, count, **overrides):
    """`count` confirmed registrations, each with an order of its own, in two bulk inserts.
    bulk_create skips place(), so the agreed price is set as place() would set it;
    `overrides` may be callables of n."""
    from django.utils import timezone

    from registrations.models import INVOICE_DETAIL_FIELDS, ORDERER_FIELDS, Order, Registration

    now = timezone.now()
    fields = {
        "first_name": "Deelnemer",
        "last_name": str,
        "email": lambda n: f"bench{n}-{time.time_ns()}@example.nl",
        "phone": "06 12345678",
        "organisation": "Gemeente Utrecht",
        "job_title": "Wijkregisseur",
        "sector": "gemeente",
        "role": "leider",
        "invoice_organisation": "Gemeente Utrecht",
        "invoice_attention": "Crediteurenadministratie",
        "invoice_street": "Stadsplateau 1",
        "invoice_postcode": "3521 AZ",
        "invoice_city": "Utrecht",
        "invoice_email": "facturen@utrecht.example.nl",
        "po_number": lambda n: f"PO-{n:04d}",
        "kvk_number": "30280353",
        "price_excl_vat": edition.price_excl_vat,
        "vat_rate": edition.vat_rate,
        "terms_accepted_at": now,
        "privacy_accepted_at": now,
        **overrides,
    }
    order_only = {*INVOICE_DETAIL_FIELDS, "terms_accepted_at", "privacy_accepted_at"}
    order_fields = [*ORDERER_FIELDS, *order_only]
    rows = [
        {name: value(n) if callable(value) else value for name, value in fields.items()}
        for n in range(count)
    ]
    orders = Order.objects.bulk_create(
        Order(edition=edition, **{name: row[name] for name in order_fields if name in row})
        for row in rows
    )
    return Registration.objects.bulk_create(
        Registration(
            edition=edition,
            order=order,
            **{name: value for name, value in row.items() if name not in order_only},
        )
        for order, row in zip(orders, rows, strict=True)
    )


INVOICE_TOTAL = Decimal("2178.00")


def issued_invoices(registrations, series, first, customer=lambda n: "Gemeente Utrecht"):
    """One issued invoice per registration (numbered `series` + first, first + 1, ...) in one
    bulk insert: the snapshot fields only, no PDF (a benchmark of the import, not issuing)."""
    from django.utils import timezone

    from registrations.invoicing.models import Invoice

    today = datetime.date.today()
    now = timezone.now()
    edition = registrations[0].edition
    return Invoice.objects.bulk_create(
        Invoice(
            number=f"{series}{first + n:04d}",
            series=series,
            sequence=first + n,
            order_id=registration.order_id,
            invoice_date=today - datetime.timedelta(days=40),
            due_date=today - datetime.timedelta(days=10),
            supply_start=edition.start_date,
            supply_end=edition.end_date,
            issued_at=now,
            issuer_name="Platform31",
            issuer_street="Postbus 30833",
            issuer_postcode="2500 GV",
            issuer_city="Den Haag",
            issuer_country="Nederland",
            issuer_kvk_number="27169301",
            issuer_vat_id="NL000099998B57",
            issuer_iban="NL91ABNA0417164300",
            customer_organisation=customer(n),
            customer_street="Stadsplateau 1",
            customer_postcode="3521 AZ",
            customer_city="Utrecht",
            customer_country="NL",
            customer_country_name="Nederland",
            customer_email="facturen@example.nl",
            payment_reference=f"{series}{first + n:04d}",
            total_excl_vat=Decimal("1800.00"),
            total_vat=Decimal("378.00"),
            total_incl_vat=INVOICE_TOTAL,
        )
        for n, registration in enumerate(registrations)
    )


def camt_statement(statement_id, lines):
    """CAMT.053 (.001.02) bytes: one booked credit line per (amount, payer's name, text)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">',
        f"<BkToCstmrStmt><Stmt><Id>{statement_id}</Id>",
        "<Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>",
    ]
    for ref, (amount, name, text) in enumerate(lines):
        out.append(
            f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
            f"<BookgDt><Dt>{datetime.date.today()}</Dt></BookgDt>"
            f"<AcctSvcrRef>{statement_id}-{ref:06d}</AcctSvcrRef><NtryDtls><TxDtls>"
            f"<RltdPties><Dbtr><Nm>{name}</Nm></Dbtr><DbtrAcct><Id>"
            f"<IBAN>NL02RABO0123456789</IBAN></Id></DbtrAcct></RltdPties>"
            f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    out.append("</Stmt></BkToCstmrStmt></Document>")
    return "\n".join(out).encode()
