"""One invoice state on every screen: each state, reached through the real paths (issuing,
a bank statement, a payment recorded by hand, crediting, a refund), shows the same label in
the invoice list, its status filter, the registration and order pages, both bookkeeping
exports, the outstanding overview and the reminders."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from programme.models import amsterdam_date
from registrations.invoicing import exports
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice
from registrations.payments import matching, overview, reminders
from tests.conftest import admin_action, camt053, camt_transaction, make_edition, make_registration

Status = Invoice.Status
TOTAL = Decimal("2178.00")  # 1800 + 21% VAT, make_edition's price
INVOICES = reverse("admin:invoicing_invoice_changelist")
OWING = {Status.OPEN, Status.OVERDUE, Status.PARTIALLY_PAID}
REMINDED = {Status.OVERDUE, Status.PARTIALLY_PAID}


def _issue(days_ago=0):
    """An invoice for one participant of an edition of its own, issued `days_ago`."""
    registration = make_registration(make_edition())
    return issue_invoice(registration, at=timezone.now() - datetime.timedelta(days=days_ago))


def _paid(amount=TOTAL, days_ago=0):
    invoice = _issue(days_ago)
    matching.record_payment(invoice, invoice.invoice_date, amount=amount)
    invoice.refresh_from_db()
    return invoice


def _from_the_bank():
    invoice = _issue()
    transaction = camt_transaction(remittance=f"factuur {invoice.number}")
    statement = camt053(
        [{"amount": TOTAL, "transactions": [transaction]}], statement_id=invoice.number
    )
    matching.import_statement(statement, "afschrift.xml", by="femke")
    return invoice


def _credited(paid=False, refunded=False):
    invoice = _paid() if paid else _issue()
    credit = credit_invoice(invoice)
    if refunded:
        matching.record_refund(credit, amsterdam_date(timezone.now()), by="femke")
    return invoice, credit


def build():
    """{state: the invoice (or credit note) in it}, every one through the paths finance uses."""
    credited, credit_note = _credited()
    refund_due, _ = _credited(paid=True)
    refunded, _ = _credited(paid=True, refunded=True)
    return {
        Status.OPEN: _issue(),
        # 60 days ago with 30 days to pay: a month late, past the first reminder's 7 days.
        Status.OVERDUE: _issue(days_ago=60),
        Status.PARTIALLY_PAID: _paid(Decimal("100.00"), days_ago=60),
        Status.PAID: _from_the_bank(),
        Status.OVERPAID: _paid(TOTAL + Decimal("50.00")),
        Status.CREDITED: credited,
        Status.CREDIT_NOTE: credit_note,
        Status.REFUND_DUE: refund_due,
        Status.REFUNDED: refunded,
    }


def _cell(html, number, column):
    """The text of `column` in the table row that shows invoice `number`."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        if re.search(rf">\s*{re.escape(number)}\s*<", row):
            found = re.search(rf'class="[^"]*field-{column}[^"]*">(.*?)</td>', row, re.S)
            # The invoice list shows the status with the invoice's files beneath it.
            found = re.search(r'class="invoice-status">(.*?)</span>', found.group(1)) or found
            return re.sub(r"<[^>]+>", "", found.group(1)).strip()
    raise AssertionError(f"{number} not on the page")


def _csv_status(content, number):
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    statuses = {row[header.index("Status")] for row in body if row[0] == number}
    assert len(statuses) == 1, statuses
    assert header.count("Status") == 1
    return statuses.pop()


@pytest.fixture
def world(invoicing):
    return build()


def test_every_state_reads_the_same_on_every_screen(admin_client, world):
    today = amsterdam_date(timezone.now())
    subjects = {state: Invoice.objects.get(pk=invoice.pk) for state, invoice in world.items()}
    assert {state: invoice.status() for state, invoice in subjects.items()} == {
        state: state for state in subjects
    }

    changelist = admin_client.get(INVOICES).content.decode()
    in_filter = {
        value: {
            i.pk for i in admin_client.get(INVOICES, {"status": value}).context["cl"].result_list
        }
        for value in Status.values
    }
    export = admin_action(admin_client, INVOICES, "export_bookkeeping", Invoice.objects.all())
    assert export.status_code == 200
    invoicing_rows = list(
        exports.bookkeeping_rows(
            Invoice.objects.select_related("credited_invoice", "credit_note").order_by("number")
        )
    )
    owing = {row["edition"].pk: row for row in overview.outstanding(today)["rows"]}
    reminded = {invoice.pk for invoice, _level in reminders.due(today)}
    remindable = set(reminders.remindable(today).values_list("pk", flat=True))

    for state, invoice in subjects.items():
        label = state.label
        registration = invoice.lines.get().registration
        registration_page = admin_client.get(
            reverse("admin:registrations_registration_change", args=[registration.pk])
        ).content.decode()
        order_page = admin_client.get(
            reverse("admin:registrations_order_change", args=[registration.order_id])
        ).content.decode()

        assert _cell(changelist, invoice.number, "status_and_documents") == label, state
        assert [value for value, pks in in_filter.items() if invoice.pk in pks] == [state]
        assert _cell(registration_page, invoice.number, "status_label") == label, state
        assert _cell(order_page, invoice.number, "status_label") == label, state
        assert _csv_status(export.content, invoice.number) == label, state
        assert {row[-1] for row in invoicing_rows if row[0] == invoice.number} == {label}
        if state in OWING:
            row = owing[registration.edition_id]
            assert (row["count"], row["total"]) == (1, invoice.outstanding), state
            assert invoice.outstanding == TOTAL - invoice.amount_paid
        else:
            assert registration.edition_id not in owing, state
        assert (invoice.pk in reminded) == (state in REMINDED), state
        assert (invoice.pk in remindable) == (state in REMINDED), state


def test_a_part_paid_invoice_before_its_due_date_is_part_paid_and_not_reminded(invoicing):
    invoice = _paid(Decimal("100.00"))
    today = amsterdam_date(timezone.now())
    assert invoice.status() == Status.PARTIALLY_PAID
    assert list(Invoice.objects.in_state(Status.PARTIALLY_PAID)) == [invoice]
    assert not reminders.remindable(today).exists()
    assert reminders.due(today) == []
    # Still owed, so in the overview, not yet late.
    assert overview.outstanding(today)["count"] == 1


def test_a_credited_invoice_and_its_credit_note_move_through_the_refund_together(invoicing):
    invoice, credit = _credited(paid=True)
    both = {invoice.pk, credit.pk}
    assert set(Invoice.objects.in_state(Status.REFUND_DUE).values_list("pk", flat=True)) == both
    credit.refresh_from_db()
    assert (credit.amount_paid, credit.amount_refunded) == (TOTAL, Decimal("0.00"))
    # Finance may record the refund on either row of "terug te betalen".
    matching.record_refund(invoice, amsterdam_date(timezone.now()))
    assert set(Invoice.objects.in_state(Status.REFUNDED).values_list("pk", flat=True)) == both
    for row in Invoice.objects.filter(pk__in=both):
        assert (row.amount_paid, row.amount_refunded) == (TOTAL, TOTAL)
        assert row.status() == Status.REFUNDED
