"""Two uploads at once (a double click, two finance users): every bank line is stored once and
every invoice paid once. PostgreSQL only: SQLite serialises writers anyway."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from registrations.invoicing.issuing import issue_invoice
from registrations.payments import matching
from registrations.payments.camt import StatementRefused
from registrations.payments.models import Allocation, BankStatement, Payment
from tests.conftest import camt053, camt_transaction, make_edition, make_issuer, make_registration

TOTAL = Decimal("2178.00")


def in_parallel(contents):
    start = threading.Barrier(len(contents))
    results = [None] * len(contents)

    def run(n):
        start.wait()
        try:
            results[n] = matching.import_statement(contents[n], f"afschrift-{n}.xml").pk
        except StatementRefused as refusal:
            results[n] = str(refusal)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(contents))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_and_overlapping_statements_read_in_at_once_store_each_line_once(postgres):
    make_issuer()
    edition = make_edition()
    invoices = [issue_invoice(make_registration(edition)) for _ in range(3)]
    lines = [
        {"amount": TOTAL, "transactions": [camt_transaction(remittance=i.number)]} for i in invoices
    ]
    same = camt053(lines, statement_id="A")
    overlapping = camt053(lines, statement_id="A-kopie")  # other bytes, the same bank lines
    results = in_parallel([same, same, same, overlapping])
    stored = [r for r in results if isinstance(r, int)]
    # At most one record per distinct file; the later one finds the lines already known.
    assert 1 <= len(stored) <= 2, results
    assert (
        BankStatement.objects.filter(
            filename__in=["afschrift-0.xml", "afschrift-1.xml", "afschrift-2.xml"]
        ).count()
        <= 1
    )
    assert sum(BankStatement.objects.values_list("entries", flat=True)) == 3
    assert Payment.objects.count() == 3
    assert sorted(Allocation.objects.values_list("invoice_id", "amount")) == [
        (i.pk, TOTAL) for i in invoices
    ]
