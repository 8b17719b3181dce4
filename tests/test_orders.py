"""One sign-up, several participants, one invoice: the order (who signed up, where the invoice
goes) holds its participants, as pretix's order holds positions."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from registrations.invoicing.issuing import (
    correct_and_reissue,
    credit_invoice,
    invoice_groups,
    issue_invoice,
)
from registrations.invoicing.models import Invoice, InvoiceRefused
from registrations.models import (
    NotEnoughPlaces,
    Order,
    Registration,
    TransitionRefused,
    WhenShort,
)
from tests.conftest import admin_action, form_data, make_edition, make_registration, sign_up_data

COLLEAGUES = [
    ("Pieter", "de Vries", "pieter@gemeente.example.nl"),
    ("Sanne", "Bakker", "sanne@gemeente.example.nl"),
]


def with_colleagues(colleagues=COLLEAGUES, **overrides):
    data = sign_up_data(**overrides)
    data["collega-TOTAL_FORMS"] = str(len(colleagues))
    data["collega-INITIAL_FORMS"] = "0"
    for number, (first, last, email) in enumerate(colleagues):
        data[f"collega-{number}-first_name"] = first
        data[f"collega-{number}-last_name"] = last
        data[f"collega-{number}-email"] = email
        data[f"collega-{number}-overnight_stay"] = "nee" if number else "ja"
        data[f"collega-{number}-dietary_needs"] = "glutenvrij" if number else ""
    return data


def register_url(edition):
    return reverse("registrations:register", args=[edition.slug])


def test_three_colleagues_signed_up_in_one_go_get_one_order_and_each_their_own_mail(
    client, open_edition, mailoutbox, settings
):
    response = client.post(register_url(open_edition), with_colleagues())

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    people = list(order.positions.order_by("pk"))
    assert [p.email for p in people] == [
        "fatima@gemeente.example.nl",
        "pieter@gemeente.example.nl",
        "sanne@gemeente.example.nl",
    ]
    assert {p.status for p in people} == {Registration.Status.CONFIRMED}
    # Colleagues work where whoever signed them up works; their own choices are theirs.
    assert {p.organisation for p in people} == {"Gemeente Utrecht"}
    assert [p.overnight_stay for p in people] == [True, True, False]
    assert people[2].dietary_needs == "glutenvrij"
    assert order.invoice_postcode == "3521 AZ"
    assert order.po_number == "PO-2022-0042"
    assert len({p.token for p in people}) == 3

    recipients = sorted(tuple(message.to) for message in mailoutbox)
    assert recipients == sorted(
        [
            ("fatima@gemeente.example.nl",),  # her confirmation
            ("fatima@gemeente.example.nl",),  # the overview of the order
            ("pieter@gemeente.example.nl",),
            ("sanne@gemeente.example.nl",),
            (settings.STAFF_NOTIFICATION_EMAIL,),
        ]
    )
    pieter = next(m for m in mailoutbox if m.to == ["pieter@gemeente.example.nl"])
    assert people[1].get_absolute_url() in pieter.body
    assert people[0].get_absolute_url() not in pieter.body
    overview = next(m for m in mailoutbox if "3 deelnemers" in m.subject)
    assert overview.to == ["fatima@gemeente.example.nl"]
    for person in people:
        assert person.full_name in overview.body
    assert order.get_absolute_url() in overview.body

    page = client.get(order.get_absolute_url()).content.decode()
    assert order.reference in page
    for person in people:
        assert person.full_name in page


def test_signing_up_only_yourself_lands_on_your_own_page_and_sends_no_overview(
    client, open_edition, mailoutbox
):
    response = client.post(register_url(open_edition), sign_up_data())
    registration = Registration.objects.get()
    assert response["Location"] == registration.get_absolute_url()
    assert not any("deelnemers" in message.subject for message in mailoutbox)


def test_the_add_button_shows_one_more_colleague_and_keeps_what_was_typed_storing_nothing(
    client, open_edition
):
    data = with_colleagues(COLLEAGUES[:1], add_colleague="1")
    response = client.post(register_url(open_edition), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert not Order.objects.exists() and not Registration.objects.exists()
    assert 'name="collega-TOTAL_FORMS" value="2"' in page
    assert 'value="pieter@gemeente.example.nl"' in page
    assert 'value="fatima@gemeente.example.nl"' in page
    assert 'name="collega-1-email"' in page
    # Showing the form again is not an error.
    assert "nog niet verstuurd" not in page


def test_the_remove_button_takes_exactly_that_colleague_out(client, open_edition):
    data = with_colleagues(remove_colleague="0")
    page = client.post(register_url(open_edition), data).content.decode()
    assert 'name="collega-TOTAL_FORMS" value="1"' in page
    assert "sanne@gemeente.example.nl" in page
    assert "pieter@gemeente.example.nl" not in page
    assert not Registration.objects.exists()


def test_no_more_participants_than_the_edition_allows_even_from_a_forged_form(client, db):
    edition = make_edition(max_participants_per_order=2)
    page = client.get(register_url(edition)).content.decode()
    assert "Nog een deelnemer toevoegen" in page

    full = client.post(register_url(edition), with_colleagues(COLLEAGUES[:1]))
    assert full.status_code == 302

    forged = client.post(
        register_url(make_edition(max_participants_per_order=2)), with_colleagues()
    )
    assert forged.status_code == 200
    assert "hoogstens 2 deelnemers" in forged.content.decode()
    assert Order.objects.count() == 1

    shown = client.post(
        register_url(edition), with_colleagues(COLLEAGUES[:1], add_colleague="1")
    ).content.decode()
    assert 'name="collega-TOTAL_FORMS" value="1"' in shown
    assert "Nog een deelnemer toevoegen" not in shown


def test_each_participant_needs_their_own_address_and_one_not_yet_signed_up(client, open_edition):
    make_registration(open_edition, email="sanne@gemeente.example.nl")
    twice = [COLLEAGUES[0], ("Piet", "Vries", "PIETER@gemeente.example.nl")]
    response = client.post(register_url(open_edition), with_colleagues(twice))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Elke deelnemer heeft een eigen e-mailadres nodig" in page

    response = client.post(register_url(open_edition), with_colleagues())
    page = response.content.decode()
    assert "al ingeschreven voor deze werkplaats" in page
    assert 'href="#id_collega-1-email"' in page
    assert Registration.objects.count() == 1


def test_only_colleagues_signed_up_when_you_do_not_take_part(client, open_edition, mailoutbox):
    response = client.post(register_url(open_edition), with_colleagues(not_participating="on"))
    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert [p.first_name for p in order.positions.order_by("pk")] == ["Pieter", "Sanne"]
    assert order.full_name == "Fatima El Amrani"
    assert any(m.to == ["fatima@gemeente.example.nl"] for m in mailoutbox)

    nobody = client.post(register_url(open_edition), sign_up_data(not_participating="on"))
    assert "minstens één deelnemer" in nobody.content.decode()


def test_fewer_places_than_people_asks_first_and_stores_nothing(client, db):
    edition = make_edition(capacity=2)
    make_registration(edition)
    response = client.post(register_url(edition), with_colleagues())

    page = response.content.decode()
    assert response.status_code == 200
    assert "nog 1 plaats vrij voor 3 deelnemers" in page
    assert "Er is nog niets opgeslagen" in page
    assert "De eerste 1 van de 3 deelnemers" in page
    assert "Alle 3 deelnemers komen op de wachtlijst" in page
    assert Registration.objects.count() == 1 and Order.objects.count() == 1


def test_choosing_split_confirms_the_first_and_queues_the_rest_in_form_order(client, db):
    edition = make_edition(capacity=2)
    make_registration(edition)
    response = client.post(register_url(edition), with_colleagues(when_short="split"))
    assert response.status_code == 302
    order = Order.objects.latest("pk")
    people = list(order.positions.order_by("pk"))
    assert [p.status for p in people] == ["confirmed", "waiting", "waiting"]
    assert [p.position_on_waiting_list() for p in people[1:]] == [1, 2]


def test_choosing_all_waiting_leaves_the_free_place_for_others(client, db):
    edition = make_edition(capacity=2)
    make_registration(edition)
    client.post(register_url(edition), with_colleagues(when_short="all_waiting"))
    order = Order.objects.latest("pk")
    assert set(order.positions.values_list("status", flat=True)) == {"waiting"}
    assert Registration.objects.places_left(edition) == 1


def test_places_are_counted_per_participant_under_the_lock(db):
    edition = make_edition(capacity=3)
    order = Order(edition=edition, **_order_fields())
    people = [Registration(**_person(n)) for n in range(4)]
    with pytest.raises(NotEnoughPlaces) as short:
        Registration.objects.place(order, people)
    assert (short.value.free, short.value.requested) == (3, 4)
    assert not Order.objects.exists()

    Registration.objects.place(order, people, when_short=WhenShort.SPLIT)
    counts = Registration.objects.counts(edition)
    assert (counts["confirmed"], counts["waiting"]) == (3, 1)


def _order_fields():
    return {
        "first_name": "Fatima",
        "last_name": "El Amrani",
        "email": "fatima@gemeente.example.nl",
        "organisation": "Gemeente Utrecht",
        "invoice_organisation": "Gemeente Utrecht",
        "invoice_street": "Stadsplateau 1",
        "invoice_postcode": "3521 AZ",
        "invoice_city": "Utrecht",
        "invoice_email": "facturen@utrecht.example.nl",
        "po_number": "PO-1",
        "kvk_number": "30280353",
    }


def _person(number):
    return {
        "first_name": f"Deelnemer{number}",
        "last_name": "Test",
        "email": f"deelnemer{number}@gemeente.example.nl",
        "organisation": "Gemeente Utrecht",
    }


def _order_of_three(edition, **order_overrides):
    order = Order(edition=edition, **{**_order_fields(), **order_overrides})
    offset = Registration.objects.count()
    people = [Registration(**_person(offset + n)) for n in range(3)]
    Registration.objects.place(order, people, by_staff=True)
    return order, people


def test_one_invoice_per_order_with_a_line_per_participant(db, invoicing):
    order, people = _order_of_three(make_edition())
    invoice = issue_invoice(invoice_groups(order.positions.all())[0])

    lines = list(invoice.lines.order_by("position"))
    assert invoice.order == order
    assert [line.registration for line in lines] == people
    assert all(people[n].full_name in lines[n].description for n in range(3))
    assert str(invoice.total_excl_vat) == "5400.00"
    assert invoice.customer_organisation == "Gemeente Utrecht"
    assert invoice.po_number == "PO-1"
    # Issuing the order again: each participant is on its own now, and refused.
    with pytest.raises(InvoiceRefused, match="heeft al factuur"):
        issue_invoice(invoice_groups(order.positions.all())[0])


def test_finance_issues_one_invoice_per_order_with_one_click(admin_client, db, invoicing):
    edition = make_edition()
    first, _ = _order_of_three(edition)
    second, _ = _order_of_three(edition, po_number="PO-2")
    url = reverse("admin:registrations_registration_changelist")
    response = admin_action(admin_client, url, "issue_invoices", Registration.objects.all())
    assert response.status_code == 302
    assert Invoice.objects.count() == 2
    assert {i.order for i in Invoice.objects.all()} == {first, second}
    assert all(i.lines.count() == 3 for i in Invoice.objects.all())


def test_finance_combines_orders_with_the_same_organisation_and_reference(db, invoicing):
    edition = make_edition()
    _, first = _order_of_three(edition)
    _, second = _order_of_three(edition, invoice_organisation="gemeente  utrecht")
    combined = issue_invoice(first[:1] + second[:2])
    assert combined.order is None
    assert combined.lines.count() == 3
    # The earliest order's details go on the invoice.
    assert combined.customer_organisation == "Gemeente Utrecht"

    _, other = _order_of_three(edition, po_number="PO-ANDERS")
    with pytest.raises(InvoiceRefused, match="dezelfde factuurorganisatie en hetzelfde kenmerk"):
        issue_invoice(first[1:2] + other[:1])
    with pytest.raises(InvoiceRefused, match="heeft al factuur"):
        issue_invoice(first[:2])


def test_combining_in_the_admin_makes_one_invoice(admin_client, db, invoicing):
    edition = make_edition()
    _order_of_three(edition)
    _order_of_three(edition)
    url = reverse("admin:registrations_registration_changelist")
    admin_action(admin_client, url, "issue_combined_invoice", Registration.objects.all())
    invoice = Invoice.objects.get()
    assert invoice.lines.count() == 6


def test_a_cancelled_colleague_puts_the_invoice_in_the_queue_and_reissue_keeps_the_rest(
    db, invoicing
):
    order, people = _order_of_three(make_edition())
    invoice = issue_invoice(invoice_groups(order.positions.all())[0])
    people[1].cancel()
    assert list(Invoice.objects.to_credit()) == [invoice]

    credit, reissued = correct_and_reissue(invoice)
    assert credit.credited_invoice == invoice
    assert [line.registration for line in reissued.lines.order_by("position")] == [
        people[0],
        people[2],
    ]
    assert not Invoice.objects.to_credit().exists()
    assert reissued.order == order


def test_an_invoiced_orders_invoice_details_are_frozen_in_the_database(db, invoicing):
    order, people = _order_of_three(make_edition())
    invoice = issue_invoice(invoice_groups(order.positions.all())[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE registrations_order SET invoice_street = 'Elders 1' WHERE id = %s",
                [order.pk],
            )
    # Who signed up may still fix their phone number.
    Order.objects.filter(pk=order.pk).update(phone="06 99999999")

    credit_invoice(invoice)
    Order.objects.filter(pk=order.pk).update(invoice_street="Elders 1")
    assert Order.objects.get(pk=order.pk).invoice_street == "Elders 1"


def test_correcting_the_invoice_details_changes_the_order_and_reissues(db, invoicing):
    order, people = _order_of_three(make_edition())
    invoice = issue_invoice(invoice_groups(order.positions.all())[0])
    credit, reissued = correct_and_reissue(invoice, {"invoice_street": "Postbus 16200"})
    assert reissued.customer_street == "Postbus 16200"
    assert reissued.lines.count() == 3
    order.refresh_from_db()
    assert order.invoice_street == "Postbus 16200"


def test_an_invoiced_orders_invoice_details_are_read_only_in_the_admin(
    client, db, invoicing, staff_member
):
    order, _ = _order_of_three(make_edition())
    url = reverse("admin:registrations_order_change", args=[order.pk])
    client.force_login(staff_member)
    assert 'name="invoice_street"' in client.get(url).content.decode()
    issue_invoice(invoice_groups(order.positions.all())[0])
    page = client.get(url)
    html = page.content.decode()
    assert 'name="invoice_street"' not in html
    assert Invoice.objects.get().number in html
    data = form_data(page, "order_form", invoice_street="Elders 1", phone="06 11111111")
    assert client.post(url, data).status_code == 302
    order.refresh_from_db()
    assert order.invoice_street == "Stadsplateau 1"
    assert order.phone == "06 11111111"


def test_an_invoiced_participant_names_a_substitute_through_the_organisation(db, invoicing):
    order, people = _order_of_three(make_edition())
    issue_invoice(invoice_groups(order.positions.all())[0])
    substitute = {
        "first_name": "Karin",
        "last_name": "Visser",
        "email": "karin@gemeente.example.nl",
        "phone": "06 12345678",
        "job_title": "Wijkcoach",
    }
    with pytest.raises(TransitionRefused, match="factuur voor deze plaats staat al op jouw naam"):
        people[0].name_substitute(**substitute)
    people[0].refresh_from_db()
    assert people[0].first_name == "Deelnemer0"


@pytest.mark.parametrize("total", ["abc", "", "1.5", "99999999999"])
def test_a_forged_colleague_count_gets_a_dutch_message_and_stores_nothing(
    client, open_edition, total
):
    data = with_colleagues()
    data["collega-TOTAL_FORMS"] = total
    response = client.post(register_url(open_edition), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "nog niet verstuurd" in page
    assert "Mogelijk dient u" not in page
    assert not Order.objects.exists()
