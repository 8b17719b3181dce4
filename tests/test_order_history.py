"""A history per order, as pretix keeps one: every step, wherever it is taken, recorded where it
happens, shown newest first on the order's admin page, never changed afterwards, and free of
names so that it outlives retention as it is."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse

from programme.models import Edition
from registrations import retention
from registrations.history.models import OrderLogEntry, record
from registrations.invoicing import emails as invoice_emails
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.models import Order, Registration, WaitingListOffer
from registrations.payments import matching, reminders
from registrations.payments.models import Payment
from tests.conftest import camt053, camt_transaction, make_edition, make_registration
from werkplaats import formats

Kind = OrderLogEntry.Kind
LINES = itertools.count(1)


def person(first, last):
    return Registration(
        first_name=first,
        last_name=last,
        email=f"{first.lower()}@woonstad.example.nl",
        organisation="Woonstad Rotterdam",
    )


def sign_up(edition):
    """Sanne Bakker books herself and her colleague Joost Mulder."""
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
    people = [person("Sanne", "Bakker"), person("Joost", "Mulder")]
    Registration.objects.place(order, people)
    return order, people


def statement_line(amount, remittance):
    return {
        "bank_reference": f"HIST{next(LINES):06d}",
        "amount": Decimal(amount),
        "transactions": [camt_transaction(remittance=remittance, name="Woonstad Rotterdam")],
    }


def kinds(order):
    return list(
        OrderLogEntry.objects.filter(order=order)
        .order_by("at", "pk")
        .values_list("kind", flat=True)
    )


def walk_through(order, people, staff_member, finance_user):
    """Every step an order can go through, each by its own path, in order."""
    sanne, joost = people
    piet = person("Piet", "de Boer")
    Registration.objects.place(order, [piet], by_staff=True, by=staff_member)  # waits: full
    sanne.change_choices(overnight_stay=False)
    joost.name_substitute(
        first_name="Kees",
        last_name="Smit",
        email="kees@woonstad.example.nl",
        phone="",
        job_title="",
    )
    joost.cancel()  # the place goes to Piet as an offer
    piet.offers.get().accept()
    joost.refresh_from_db()
    joost.reinstate(by=staff_member)  # full again: Joost waits
    first = issue_invoice([sanne, piet], by=finance_user)
    invoice_emails.send_invoice(first)
    credit_invoice(first, by=finance_user)
    invoice = issue_invoice([sanne, piet], by=finance_user)
    matching.import_statement(
        camt053([statement_line("1000.00", f"betaling {piet.reference}")]), "a.xml", by="femke"
    )
    reminders.send(invoice, 1, by="femke", today=invoice.due_date + datetime.timedelta(days=8))
    hold = reminders.hold(invoice, "Woonstad betaalt na afloop", by="femke")
    reminders.lift_hold(hold, by="femke")
    return invoice


STEPS = [
    Kind.ORDER_PLACED,
    Kind.POSITION_ADDED,
    Kind.CHOICES_CHANGED,
    Kind.SUBSTITUTE,
    Kind.CANCELLED,
    Kind.OFFER_MADE,
    Kind.OFFER_ACCEPTED,
    Kind.REINSTATED,
    Kind.INVOICE_ISSUED,
    Kind.INVOICE_SENT,
    Kind.CREDITED,
    Kind.INVOICE_ISSUED,
    Kind.PAYMENT,
    Kind.REMINDER,
    Kind.HOLD_SET,
    Kind.HOLD_LIFTED,
]


@pytest.fixture
def walked(invoicing, staff_member, finance_user, mailoutbox):
    edition = make_edition(capacity=2)
    order, people = sign_up(edition)
    invoice = walk_through(order, people, staff_member, finance_user)
    return order, people, invoice


def test_each_step_of_an_order_is_recorded_in_its_history(walked):
    order, (sanne, joost), invoice = walked
    assert kinds(order) == STEPS
    log = {entry.kind: entry for entry in OrderLogEntry.objects.filter(order=order)}
    assert log[Kind.POSITION_ADDED].by == "anna"  # the staff member who added Piet
    assert log[Kind.REINSTATED].by == "anna"
    assert log[Kind.CHOICES_CHANGED].by == ""  # Sanne herself, on her own page
    assert log[Kind.CHOICES_CHANGED].registration == sanne
    assert log[Kind.CREDITED].by == "femke"
    assert log[Kind.PAYMENT].text.startswith("Betaling van € 1.000,00 (03-10-2022) automatisch")
    assert invoice.number in log[Kind.PAYMENT].text
    assert f"{sanne.reference} Bevestigd".lower() in log[Kind.ORDER_PLACED].text.lower()
    assert "wachtlijst" in log[Kind.POSITION_ADDED].text


def test_the_orders_admin_page_shows_its_history_newest_first(client, walked, finance_user):
    order, _people, invoice = walked
    client.force_login(finance_user)
    html = client.get(reverse("admin:registrations_order_change", args=[order.pk])).content.decode()
    for label in {Kind(kind).label for kind in STEPS}:
        assert f">{label}<" in html or f"{label}</td>" in html, label
    newest = f"Herinneringen voor factuur {invoice.number} weer aan"
    oldest = "2 deelnemer(s): "
    assert html.index(newest) < html.index(oldest)
    first = OrderLogEntry.objects.filter(order=order).earliest("at", "pk")
    assert formats.moment(first.at) in html
    # Read-only: nothing to delete, add or edit.
    assert 'name="log-0-DELETE"' not in html and 'name="log-0-text"' not in html


def test_the_history_holds_no_names_and_survives_anonymisation_as_it_is(walked):
    order, _people, _invoice = walked
    names = ["Sanne", "Bakker", "Joost", "Mulder", "Kees", "Smit", "Piet", "Boer"]
    texts = list(OrderLogEntry.objects.filter(order=order).values_list("text", flat=True))
    assert all(name not in text for text in texts for name in names)
    edition = order.edition
    retention.anonymise(edition, due=edition.end_date)
    order.refresh_from_db()
    assert order.anonymised_at is not None
    after = list(OrderLogEntry.objects.filter(order=order).values_list("text", flat=True))
    assert after == texts


def test_a_history_entry_cannot_be_changed_or_deleted(open_edition):
    registration = make_registration(open_edition)
    entry = OrderLogEntry.objects.get(order=registration.order)
    entry.text = "iets anders"
    with pytest.raises(ValidationError):
        entry.save()
    with pytest.raises(ValidationError):
        entry.delete()
    # Past the model too: the database refuses.
    with pytest.raises(DatabaseError), transaction.atomic():
        OrderLogEntry.objects.filter(pk=entry.pk).update(text="iets anders")
    with pytest.raises(DatabaseError), transaction.atomic():
        OrderLogEntry.objects.filter(pk=entry.pk).update(by="mallory")
    entry.refresh_from_db()
    assert entry.text.startswith("1 deelnemer(s): ")
    # Nobody can be granted a change or delete either: reading is all there is.
    codenames = Permission.objects.filter(content_type__app_label="history")
    assert list(codenames.values_list("codename", flat=True)) == ["view_orderlogentry"]


def test_a_deleted_registration_leaves_its_history_entries_without_the_link(open_edition):
    first = make_registration(open_edition)
    colleague = person("Joost", "Mulder")
    Registration.objects.place(first.order, [colleague], by_staff=True)
    added = OrderLogEntry.objects.get(kind=Kind.POSITION_ADDED)
    assert added.registration == colleague
    Registration.objects.get(pk=colleague.pk).delete()
    added.refresh_from_db()
    assert added.registration is None and added.text.startswith(colleague.reference)


def test_a_payment_assigned_or_recorded_by_hand_is_in_the_history_with_who(open_edition, invoicing):
    registration = make_registration(open_edition)
    invoice = issue_invoice(registration)
    matching.import_statement(camt053([statement_line("500.00", "cursus")]), "a.xml", by="femke")
    matching.assign(Payment.objects.unmatched().get(), [invoice], by="femke")
    matching.record_payment(invoice, invoice.invoice_date, by="fred")
    payments = OrderLogEntry.objects.filter(order=registration.order, kind=Kind.PAYMENT)
    assert [
        (e.by, "met de hand" in e.text, "geregistreerd" in e.text) for e in payments.order_by("pk")
    ] == [
        ("femke", True, False),
        ("fred", False, True),
    ]


def test_staff_cancelling_in_the_admin_is_recorded_with_their_name(
    admin_client, open_edition, django_capture_on_commit_callbacks
):
    registration = make_registration(open_edition)
    url = reverse("admin:registrations_registration_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            url,
            {"action": "cancel_registrations", "_selected_action": [registration.pk], "apply": "1"},
        )
    registration.refresh_from_db()
    assert registration.is_cancelled
    entry = OrderLogEntry.objects.get(kind=Kind.CANCELLED)
    assert entry.by == "admin" and entry.order == registration.order


def test_record_is_the_one_call_other_steps_use(open_edition, staff_member):
    registration = make_registration(open_edition)
    entry = record(
        registration.order,
        Kind.CANCELLED,
        f"{registration.reference} geannuleerd door de besteller",
        registration=registration,
    )
    assert (entry.by, entry.order, entry.registration) == ("", registration.order, registration)
    by_user = record(registration.order.pk, Kind.HOLD_SET, "", by=staff_member)
    assert by_user.by == "anna"


def test_an_offer_declined_or_left_to_expire_is_in_the_history_of_its_order(db):
    edition = make_edition(capacity=1)
    first, second, third = (make_registration(edition) for _ in range(3))
    first.cancel()  # the place is offered to the second
    second.offers.get().decline()  # ... who says no: it goes to the third
    offer = third.offers.get()
    later = offer.expires_at + datetime.timedelta(minutes=1)
    with transaction.atomic():
        Edition.objects.select_for_update().get(pk=edition.pk)
        WaitingListOffer.objects.offer_free_places(edition, at=later)
    assert kinds(first.order) == [Kind.ORDER_PLACED, Kind.CANCELLED]
    assert kinds(second.order) == [
        Kind.ORDER_PLACED,
        Kind.OFFER_MADE,
        Kind.OFFER_DECLINED,
        Kind.CANCELLED,
    ]
    assert kinds(third.order) == [Kind.ORDER_PLACED, Kind.OFFER_MADE, Kind.OFFER_EXPIRED]
    expired = OrderLogEntry.objects.get(kind=Kind.OFFER_EXPIRED)
    assert (expired.at, expired.registration) == (later, third)
