"""Our own references match: a transfer quoting the order's BST-00042 or a participant's
INS-00006 (the references we gave them) pays the order's open invoice; names on the bank line
are suggestions on the assign screen, never an allocation."""

import itertools
from decimal import Decimal

import pytest
from django.urls import reverse

from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice
from registrations.models import Order, Registration
from registrations.payments import matching
from registrations.payments.models import Allocation, Payment
from tests.conftest import camt053, camt_transaction, make_registration
from werkplaats import formats

TOTAL = Decimal("2178.00")  # 1800 + 21% VAT, the conftest edition's price


LINES = itertools.count(1)


def entry(amount, remittance=None, name="Gemeente Utrecht", reference=None):
    """A credit line with its own bank reference, as every line of a real statement has."""
    return {
        "bank_reference": f"BANK{next(LINES):06d}",
        "amount": Decimal(amount),
        "transactions": [camt_transaction(remittance=remittance, name=name, reference=reference)],
    }


def read_in(*entries, version="02", name="afschrift.xml"):
    return matching.import_statement(camt053(list(entries), version=version), name, by="femke")


@pytest.fixture
def invoiced(open_edition, invoicing):
    """Two participants, each with their own order and invoice of € 2.178,00."""
    people = [
        make_registration(open_edition, first_name="Anna", last_name="de Vries"),
        make_registration(open_edition, first_name="Bram", last_name="Jansen"),
    ]
    return [(person, issue_invoice(person)) for person in people]


def order_of_two(edition):
    """Sanne books herself and a colleague in one order."""
    order = Order(
        edition=edition,
        first_name="Sanne",
        last_name="Bakker",
        email="sanne@woonstad.example.nl",
        organisation="Woonstad Rotterdam",
        invoice_organisation="Woonstad Rotterdam",
        invoice_street="Postbus 1",
        invoice_postcode="3000 AA",
        invoice_city="Rotterdam",
        invoice_email="facturen@woonstad.example.nl",
        kvk_number="24265373",
    )
    people = [
        Registration(
            first_name=first,
            last_name=last,
            email=f"{first.lower()}@woonstad.example.nl",
            organisation="Woonstad Rotterdam",
        )
        for first, last in [("Sanne", "Bakker"), ("Joost", "Mulder")]
    ]
    Registration.objects.place(order, people, by_staff=True)
    return order, people


@pytest.mark.parametrize("version", ["02", "08"])
def test_a_line_with_only_the_participants_reference_pays_that_orders_invoice(invoiced, version):
    (anna, anna_invoice), (bram, _bram_invoice) = invoiced
    read_in(entry(TOTAL, bram.reference), version=version)
    read_in(entry(TOTAL, anna.reference), version=version, name="tweede.xml")
    payments = list(Payment.objects.order_by("pk"))
    assert [p.state for p in payments] == [Payment.State.MATCHED] * 2
    allocation = Allocation.objects.get(payment=payments[1])
    assert allocation.invoice == anna_invoice and allocation.amount == TOTAL
    anna_invoice.refresh_from_db()
    assert anna_invoice.status() == Invoice.Status.PAID
    assert f"referentie INS-{anna.pk:05d}" in payments[1].note


@pytest.mark.parametrize(
    "typed",
    [
        lambda r, o: f"INS-{r.pk}",  # no leading zeros
        lambda r, o: f"ins {r.pk:05d}",
        lambda r, o: f"Inschrijving werkplaats ins{r.pk:05d} Anna de Vries",
        lambda r, o: f"BST {o.pk}",
        lambda r, o: f"betaling bst-{o.pk:05d}/2022",
        lambda r, o: f"kenmerk: BST.{o.pk:03d}",
    ],
    ids=["no-zeros", "lower-space", "in-text", "bst-space", "bst-in-text", "bst-dot"],
)
def test_the_references_are_read_as_tolerantly_as_invoice_numbers(invoiced, typed):
    anna, invoice = invoiced[0]
    read_in(entry(TOTAL, typed(anna, anna.order)))
    assert Allocation.objects.get().invoice == invoice


def test_a_reference_inside_a_longer_number_is_no_reference(invoiced):
    anna, _invoice = invoiced[0]
    read_in(entry(TOTAL, f"XINS-{anna.pk:05d}9"))
    assert Payment.objects.get().state == Payment.State.UNMATCHED


def test_the_invoice_number_still_wins_over_a_reference(invoiced):
    (anna, _anna_invoice), (_bram, bram_invoice) = invoiced
    read_in(entry(TOTAL, f"{anna.reference} factuur {bram_invoice.number}"))
    assert Allocation.objects.get().invoice == bram_invoice


def test_of_an_orders_several_open_invoices_the_one_with_that_amount_is_paid(
    open_edition, invoicing
):
    order, (sanne, joost) = order_of_two(open_edition)
    first = issue_invoice(sanne)
    second = issue_invoice(joost, lines=[("Werkplaats zonder overnachting", 1, "1500.00", 21)])
    read_in(entry("1815.00", order.reference))
    allocation = Allocation.objects.get()
    assert allocation.invoice == second
    first.refresh_from_db()
    assert first.status() == Invoice.Status.OPEN


def test_of_several_open_invoices_none_fitting_the_amount_waits_with_a_suggestion(
    open_edition, invoicing
):
    order, (sanne, joost) = order_of_two(open_edition)
    first, second = issue_invoice(sanne), issue_invoice(joost)
    read_in(entry("100.00", order.reference))
    payment = Payment.objects.get()
    assert payment.state == Payment.State.UNMATCHED
    assert not Allocation.objects.exists()
    assert first.number in payment.note and second.number in payment.note


def test_a_reference_whose_invoice_is_paid_or_credited_waits_for_finance(invoiced):
    (anna, anna_invoice), (bram, bram_invoice) = invoiced
    read_in(entry(TOTAL, anna.reference))
    credit_invoice(bram_invoice)
    read_in(entry(TOTAL, anna.reference), entry(TOTAL, bram.reference), name="tweede.xml")
    later = list(Payment.objects.order_by("pk"))[1:]
    assert [p.state for p in later] == [Payment.State.UNMATCHED] * 2
    assert all("geen open factuur" in p.note for p in later)
    assert Allocation.objects.filter(invoice=anna_invoice).count() == 1
    assert not Allocation.objects.filter(invoice=bram_invoice).exists()


def test_two_lines_for_one_order_on_one_statement_see_each_other(invoiced):
    anna, invoice = invoiced[0]
    read_in(entry(TOTAL, anna.reference), entry(TOTAL, anna.order.reference))
    states = list(Payment.objects.order_by("pk").values_list("state", flat=True))
    assert states == [Payment.State.MATCHED, Payment.State.UNMATCHED]
    assert Allocation.objects.get().invoice == invoice


def test_a_statement_with_references_read_in_twice_adds_nothing(invoiced):
    anna, invoice = invoiced[0]
    line = entry(TOTAL, anna.reference)
    content = camt053([line])
    matching.import_statement(content, "a.xml")
    with pytest.raises(matching.camt.StatementRefused):
        matching.import_statement(content, "a.xml")
    matching.import_statement(camt053([line], statement_id="other"), "b.xml")
    assert Payment.objects.count() == 1 and Allocation.objects.count() == 1


def test_a_name_alone_is_never_allocated_but_suggested(invoiced):
    (anna, anna_invoice), _bram = invoiced
    read_in(entry(TOTAL, "cursus wijkontwikkeling", name="A. DE VRIES"))
    payment = Payment.objects.get()
    assert payment.state == Payment.State.UNMATCHED
    found = matching.suggestions(payment)
    assert [invoice for invoice, _why in found] == [anna_invoice]
    assert "de Vries" in found[0][1]


ASSIGN = "admin:payments_payment_assign"


def test_the_assign_screen_starts_from_the_reference_in_the_bank_line(
    client, finance_user, invoiced
):
    (anna, anna_invoice), (_bram, bram_invoice) = invoiced
    # Paid already: the reference now finds nothing open, so the line waits.
    read_in(entry(TOTAL, anna.reference))
    read_in(entry(TOTAL, f"nogmaals {anna.reference}", name="Bram Jansen"), name="b.xml")
    payment = Payment.objects.unmatched().get()
    client.force_login(finance_user)
    html = client.get(reverse(ASSIGN, args=[payment.pk])).content.decode()
    # Not pre-filled with the bank's account name.
    assert 'value="Bram Jansen"' not in html
    assert f"referentie {anna.reference} in de omschrijving" in html
    # The paid invoice stands apart below the open one found by the name on the account.
    assert html.index(bram_invoice.number) < html.index("Al betaald of gecrediteerd")
    assert html.index("Al betaald of gecrediteerd") < html.index(anna_invoice.number)
    assert "€ 2.178,00" in html and "2178.00" not in html
    assert formats.day(anna_invoice.invoice_date) in html  # "3 oktober 2022"


@pytest.mark.parametrize(
    "query",
    [
        lambda p, o: "Joost Mulder",  # a colleague
        lambda p, o: "bakker",  # the booker
        lambda p, o: o.reference,
        lambda p, o: p.reference.lower(),
    ],
    ids=["participant", "booker", "order-reference", "registration-reference"],
)
def test_finance_searches_by_participant_booker_or_reference(
    client, finance_user, open_edition, invoicing, invoiced, query
):
    order, (_sanne, joost) = order_of_two(open_edition)
    invoice = issue_invoice(list(order.positions.all()))
    read_in(entry("99.00", "?"))
    payment = Payment.objects.get()
    client.force_login(finance_user)
    html = client.get(reverse(ASSIGN, args=[payment.pk]), {"q": query(joost, order)})
    html = html.content.decode()
    assert invoice.number in html
    assert all(other.number not in html for _person, other in invoiced)


def test_searching_an_amount_lists_open_invoices_above_paid_ones(client, finance_user, invoiced):
    (anna, anna_invoice), (_bram, bram_invoice) = invoiced
    read_in(entry(TOTAL, anna.reference), entry("5.00", "?"))
    payment = Payment.objects.unmatched().get()
    client.force_login(finance_user)
    html = client.get(reverse(ASSIGN, args=[payment.pk]), {"q": "2.178,00"}).content.decode()
    assert html.index(bram_invoice.number) < html.index("Al betaald of gecrediteerd")
    assert html.index("Al betaald of gecrediteerd") < html.index(anna_invoice.number)
