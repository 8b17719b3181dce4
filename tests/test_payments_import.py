"""Bank statements in: CAMT.053 files in the shape the Dutch banks export become payments on
invoices, matched by the invoice number people type, and never by a guess."""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from stdnum import iso11649

from registrations.invoicing.issuing import correct_and_reissue, credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice
from registrations.payments import matching
from registrations.payments.camt import StatementRefused
from registrations.payments.models import (
    Allocation,
    BankStatement,
    Payment,
    settle,
)
from tests.conftest import camt053, camt_transaction, make_registration

TOTAL = Decimal("2178.00")  # 1800 + 21% VAT, the conftest edition's price


@pytest.fixture
def invoices(open_edition, invoicing):
    """Three issued invoices of € 2.178,00 each."""
    return [
        issue_invoice(make_registration(open_edition, first_name=name, email=f"{name}@example.nl"))
        for name in ["Anna", "Bram", "Chris"]
    ]


def entry(amount, remittance=None, reference=None, **extra):
    return {
        "amount": Decimal(amount),
        "transactions": [camt_transaction(remittance=remittance, reference=reference)],
        **extra,
    }


def read_in(content, name="afschrift.xml"):
    return matching.import_statement(content, name, by="femke")


def state(invoice):
    invoice = Invoice.objects.select_related("credit_note").get(pk=invoice.pk)
    return invoice.status()


def creditor_reference(body):
    """ISO 11649: RF, two check digits (98 - mod 97 of body + 'RF00' in digits), body."""
    digits = "".join(str(int(c, 36)) for c in f"{body}RF00")
    return f"RF{98 - int(digits) % 97:02d}{body}"


def spaced(number):
    series, sequence = number[:5], number[5:]
    return f"{series[:4]} - {sequence}"


@pytest.mark.parametrize("version", ["02", "08"])
def test_a_payment_with_the_invoice_number_pays_the_invoice_in_both_camt_versions(
    invoices, version
):
    invoice = invoices[0]
    statement = read_in(camt053([entry(TOTAL, f"Factuur {invoice.number}")], version=version))
    payment = Payment.objects.get()
    assert (payment.amount, payment.counterparty_name, payment.counterparty_iban) == (
        TOTAL,
        "Gemeente Utrecht",
        "NL02RABO0123456789",
    )
    assert payment.state == Payment.State.MATCHED
    assert payment.statement == statement and statement.matched == 1
    invoice.refresh_from_db()
    assert invoice.paid_on == datetime.date(2022, 10, 3)
    assert state(invoice) == Invoice.Status.PAID


@pytest.mark.parametrize(
    "typed",
    [
        lambda n: n.lower(),
        lambda n: f"factuur{n}",
        lambda n: f"FACTUURNR. {n}",
        lambda n: spaced(n),
        lambda n: n.replace("-000", "-"),  # 2026-1 for 2026-0001
        lambda n: n.replace("-000", "-00"),  # 2026-001
        lambda n: f"betaling {n.replace('-', ' ')} deelnemer Anna",  # a space for the dash
    ],
    ids=[
        "lower-case",
        "factuur-glued",
        "factuurnr",
        "spaces",
        "no-leading-zeros",
        "one-zero-less",
        "space-for-dash",
    ],
)
def test_the_matcher_tolerates_how_people_type_the_number(invoices, typed):
    invoice = invoices[0]
    read_in(camt053([entry(TOTAL, typed(invoice.number))]))
    assert Allocation.objects.get().invoice == invoice


def test_a_date_in_the_description_is_not_read_as_an_invoice_number(invoices):
    year = invoices[0].number[:4]
    read_in(camt053([entry(TOTAL, f"inschrijving d.d. 15-09-{year} 1 deelnemer")]))
    assert Payment.objects.get().state == Payment.State.UNMATCHED


def test_an_rf_creditor_reference_in_structured_remittance_pays_the_invoice(invoices):
    invoice = invoices[1]
    reference = creditor_reference(invoice.number.replace("-", ""))
    assert iso11649.is_valid(reference)
    read_in(camt053([entry(TOTAL, reference=reference)], version="08"))
    assert Allocation.objects.get().invoice == invoice


def test_two_invoice_numbers_in_one_transfer_pay_both_when_the_amount_is_their_sum(invoices):
    first, second, _ = invoices
    read_in(camt053([entry(2 * TOTAL, f"{first.number} en {second.number}")]))
    assert sorted(Allocation.objects.values_list("invoice_id", "amount")) == [
        (first.pk, TOTAL),
        (second.pk, TOTAL),
    ]
    assert state(first) == state(second) == Invoice.Status.PAID


def test_two_invoice_numbers_and_an_amount_that_fits_neither_is_never_split_by_guessing(
    invoices,
):
    first, second, _ = invoices
    read_in(camt053([entry(TOTAL, f"{first.number} {second.number}")]))
    payment = Payment.objects.get()
    assert payment.state == Payment.State.UNMATCHED
    assert "niet eenduidig" in payment.note
    assert not Allocation.objects.exists()
    assert state(first) == state(second) == Invoice.Status.OPEN


def test_partial_and_over_payments_are_recorded_as_such(invoices):
    partly, over, _ = invoices
    read_in(
        camt053(
            [
                entry("1000.00", partly.number),
                entry(TOTAL + Decimal("10.00"), over.number),
            ]
        )
    )
    assert state(partly) == Invoice.Status.PARTIALLY_PAID
    assert state(over) == Invoice.Status.OVERPAID
    partly.refresh_from_db()
    assert partly.paid_on is None
    # The rest, on the next statement, completes it.
    read_in(camt053([entry(TOTAL - 1000, partly.number, booking_date="2022-10-10")]))
    partly.refresh_from_db()
    assert state(partly) == Invoice.Status.PAID
    assert partly.paid_on == datetime.date(2022, 10, 10)


def test_a_batch_entry_becomes_one_payment_per_transaction(invoices):
    first, second, third = invoices
    batch = {
        "amount": 2 * TOTAL + 5,
        "transactions": [
            camt_transaction(amount=TOTAL, remittance=first.number, name="Gemeente Zwolle"),
            camt_transaction(amount=TOTAL, remittance=second.number, name="Gemeente Ede"),
            camt_transaction(amount=5, remittance="gift", name="Piet"),
        ],
    }
    read_in(camt053([batch, entry(TOTAL, third.number)], version="08"))
    assert Payment.objects.count() == 4
    assert set(Payment.objects.values_list("counterparty_name", flat=True)) == {
        "Gemeente Zwolle",
        "Gemeente Ede",
        "Piet",
        "Gemeente Utrecht",
    }
    assert Payment.objects.unmatched().get().counterparty_name == "Piet"
    assert {state(i) for i in invoices} == {Invoice.Status.PAID}


def test_the_same_statement_twice_adds_nothing(invoices):
    content = camt053([entry(TOTAL, invoices[0].number)])
    read_in(content)
    with pytest.raises(StatementRefused, match="al ingelezen"):
        read_in(content)
    assert (BankStatement.objects.count(), Payment.objects.count()) == (1, 1)
    assert Allocation.objects.get().amount == TOTAL


def test_an_overlapping_statement_adds_only_its_new_lines(invoices):
    first, second, _ = invoices
    read_in(camt053([entry(TOTAL, first.number)], statement_id="A"))
    later = read_in(
        camt053([entry(TOTAL, first.number), entry(TOTAL, second.number)], statement_id="A+B")
    )
    assert (later.entries, later.known_entries) == (1, 1)
    assert Payment.objects.count() == 2
    assert state(first) == Invoice.Status.PAID  # not overpaid: its line was stored once


def test_a_refund_to_a_credited_invoice_matches_its_credit_note(invoices):
    invoice = invoices[0]
    read_in(camt053([entry(TOTAL, invoice.number)], statement_id="1"))
    credit = credit_invoice(invoice)
    assert state(invoice) == Invoice.Status.REFUND_DUE
    read_in(
        camt053(
            [entry(-TOTAL, f"terugbetaling {invoice.number}", booking_date="2022-10-20")],
            statement_id="2",
        )
    )
    refund = Payment.objects.get(amount=-TOTAL)
    assert refund.allocations.get().invoice == credit
    credit.refresh_from_db()
    assert credit.refunded_on == datetime.date(2022, 10, 20)
    assert state(invoice) == Invoice.Status.REFUNDED
    assert state(credit) == Invoice.Status.REFUNDED


def test_a_debit_naming_an_uncredited_invoice_waits_in_the_queue(invoices):
    read_in(camt053([entry(-TOTAL, invoices[0].number)]))
    assert Payment.objects.get().state == Payment.State.UNMATCHED


def test_money_for_a_credited_unpaid_invoice_becomes_a_refund_due(invoices):
    invoice = invoices[0]
    credit_invoice(invoice)
    assert state(invoice) == Invoice.Status.CREDITED
    read_in(camt053([entry(TOTAL, invoice.number)]))
    assert state(invoice) == Invoice.Status.REFUND_DUE


def test_pending_entries_are_not_payments_yet(invoices):
    read_in(camt053([entry(TOTAL, invoices[0].number, status="PDNG")]))
    assert not Payment.objects.exists()


HOSTILE = {
    "billion-laughs": b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol2;</Document>""",
    "external-entity": b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&xxe;</Document>""",
    "external-dtd": b"""<?xml version="1.0"?>
<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/evil.dtd">
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>""",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_xml_is_refused_and_stores_nothing(invoices, name):
    with pytest.raises(StatementRefused, match="DTD, entiteiten of externe verwijzingen"):
        read_in(HOSTILE[name])
    assert not BankStatement.objects.exists() and not Payment.objects.exists()


def test_bad_files_are_refused_with_a_message_naming_the_problem(invoices):
    good = camt053([entry(TOTAL, invoices[0].number), entry(TOTAL, invoices[1].number)])
    cases = {
        good[: len(good) // 2]: "houdt halverwege op",
        good.replace(b"Gemeente Utrecht", "Gemeente Utrécht".encode("latin-1")): "tekencodering",
        b":20:STARTUMSE\r\n:25:NL91ABNA0417164300\r\n": "MT940",
        b"datum;bedrag;omschrijving\n": "geen CAMT.053",
        b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>': "geen CAMT.053",
        good.replace(b'Ccy="EUR">2178.00</Amt>', b'Ccy="EUR">21,78</Amt>', 1): "geen geldig bedrag",
    }
    for content, message in cases.items():
        with pytest.raises(StatementRefused, match=message):
            read_in(content)
    assert not BankStatement.objects.exists() and not Payment.objects.exists()
    assert Invoice.objects.filter(paid_on__isnull=False).count() == 0


def test_a_statement_failing_halfway_stores_none_of_its_lines(invoices, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Allocation.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        read_in(camt053([entry(TOTAL, invoices[0].number)]))
    assert not BankStatement.objects.exists() and not Payment.objects.exists()


def test_finance_assigns_an_unmatched_payment_by_hand_or_marks_it_not_ours(invoices):
    read_in(camt053([entry(TOTAL, "inschrijving Anna"), entry("12.50", "abonnement")]))
    anna, other = Payment.objects.unmatched().order_by("amount").reverse()
    matching.assign(anna, [invoices[0]], by="femke")
    assert state(invoices[0]) == Invoice.Status.PAID
    matching.mark_not_ours(other, "Abonnement van een andere afdeling", by="femke")
    other.refresh_from_db()
    assert other.state == Payment.State.NOT_OURS
    assert not Payment.objects.unmatched().exists()
    with pytest.raises(Exception, match="al gekoppeld"):
        matching.assign(anna, [invoices[1]])
    assert Allocation.objects.count() == 1


def test_marking_paid_by_hand_is_a_payment(invoices):
    invoice = invoices[0]
    day = invoice.invoice_date
    payment = matching.record_payment(invoice, day, by="femke")
    assert payment.source == Payment.Source.MANUAL and payment.amount == TOTAL
    invoice.refresh_from_db()
    assert invoice.paid_on == day
    with pytest.raises(Exception, match="al betaald"):
        matching.record_payment(invoice, day)
    credit = credit_invoice(invoice)
    matching.record_refund(credit, day)
    assert state(credit) == Invoice.Status.REFUNDED


def test_the_migration_turns_hand_set_paid_and_refunded_dates_into_payments(invoices):
    migration = importlib.import_module(
        "registrations.payments.migrations.0002_paid_on_becomes_payments"
    )
    paid, refunded, _open = invoices
    day = paid.invoice_date
    Invoice.objects.filter(pk__in=[paid.pk, refunded.pk]).update(paid_on=day)
    credit = credit_invoice(refunded)
    Invoice.objects.filter(pk=credit.pk).update(refunded_on=day)
    migration.payments_from_dates(apps, None)
    # The next migration writes the amounts those payments add up to onto the invoices.
    importlib.import_module(
        "registrations.payments.migrations.0005_invoice_amounts_from_payments"
    ).invoice_amounts(apps, None)
    assert sorted(Allocation.objects.values_list("invoice_id", "amount")) == sorted(
        [(paid.pk, TOTAL), (refunded.pk, TOTAL), (credit.pk, -TOTAL)]
    )
    assert state(paid) == Invoice.Status.PAID
    assert state(credit) == Invoice.Status.REFUNDED
    assert state(_open) == Invoice.Status.OPEN
    # The dates the payments give are the dates finance had set.
    assert settle([paid.pk, refunded.pk, credit.pk]) == 0


def test_money_on_a_corrected_invoice_moves_to_its_replacement(invoices):
    invoice = invoices[0]
    read_in(camt053([entry(TOTAL, invoice.number)]))
    credit, replacement = correct_and_reissue(invoice, {"invoice_street": "Postbus 1"})
    assert state(invoice) == Invoice.Status.REFUND_DUE
    assert matching.transfer(invoice, replacement, by="femke") == TOTAL
    assert state(invoice) == Invoice.Status.REFUNDED
    assert state(replacement) == Invoice.Status.PAID
    assert sum(Payment.objects.values_list("amount", flat=True)) == TOTAL  # one bank payment
    with pytest.raises(ValidationError, match="niets te verrekenen"):
        matching.transfer(invoice, replacement)
