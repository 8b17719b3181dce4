"""The lists staff and finance work in: what the registration and invoice lists show, and the
totals of the invoices a filter leaves."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse

from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice
from registrations.payments import matching
from tests.conftest import make_edition, make_registration
from werkplaats.formats import money

AT = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)
INVOICES = reverse("admin:invoicing_invoice_changelist")
REGISTRATIONS = reverse("admin:registrations_registration_changelist")


def count_queries(django_assert_max_num_queries, client, url):
    with django_assert_max_num_queries(1000) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response


@pytest.fixture
def two_editions(invoicing):
    first = make_edition(title="Werkplaats voorjaar", slug="voorjaar")
    second = make_edition(
        title="Werkplaats najaar",
        slug="najaar",
        start_date=first.start_date + datetime.timedelta(days=100),
        end_date=first.end_date + datetime.timedelta(days=100),
    )
    return first, second


def issue_for(edition, **fields):
    return issue_invoice([make_registration(edition, **fields)], at=AT)


def test_registration_list_shows_order_organisation_function_and_a_short_edition(
    client, staff_member, open_edition
):
    registration = make_registration(
        open_edition, organisation="Gemeente Zwolle", job_title="Wijkcoach"
    )
    client.force_login(staff_member)
    html = client.get(REGISTRATIONS).content.decode()
    order_url = reverse("admin:registrations_order_change", args=[registration.order_id])
    assert f'<a href="{order_url}">{registration.order.reference}</a>' in html
    assert "Gemeente Zwolle" in html
    assert "Wijkcoach" in html
    start = open_edition.start_date.strftime("%d-%m-%Y")
    assert f'<span title="{open_edition.title}">{start}</span>' in html


def test_invoice_list_shows_edition_order_participants_and_dates(
    client, finance_user, two_editions
):
    first, _second = two_editions
    invoice = issue_for(first, first_name="Noor", last_name="Visser")
    matching.record_payment(invoice, AT.date(), by="test")
    client.force_login(finance_user)
    response = client.get(INVOICES)
    html = response.content.decode()
    order_url = reverse("admin:registrations_order_change", args=[invoice.order_id])
    assert f'<a href="{order_url}">{invoice.order.reference}</a> Noor Visser' in html
    assert f'<span title="Werkplaats voorjaar">{first.start_date.strftime("%d-%m-%Y")}' in html
    invoice.refresh_from_db()
    row = html[html.index(f"{invoice.number}<br>") :]
    assert 'class="field-dates"' in row
    assert f'<span class="due-on">vervalt {invoice.due_date.strftime("%d-%m-%Y")}</span>' in row
    assert f'<small class="paid-on">betaald {invoice.paid_on.strftime("%d-%m-%Y")}</small>' in row
    assert '<small class="emailed-on">gemaild –</small>' in row


def test_invoice_totals_are_those_of_the_filtered_invoices_with_credit_notes_negative(
    client, finance_user, two_editions
):
    first, second = two_editions
    kept = issue_for(first)
    credited = issue_for(first)
    credit_note = credit_invoice(credited, at=AT)
    issue_for(second)
    client.force_login(finance_user)

    response = client.get(INVOICES, {"editie": first.pk})
    shown = {invoice.pk for invoice in response.context["cl"].result_list}
    assert shown == {kept.pk, credited.pk, credit_note.pk}
    expected = Invoice.objects.filter(pk__in=shown).aggregate(
        excl=Sum("total_excl_vat"), vat=Sum("total_vat"), incl=Sum("total_incl_vat")
    )
    # The credit note cancels the credited invoice: what remains is the kept one's.
    assert credit_note.total_incl_vat == -credited.total_incl_vat
    assert expected["incl"] == kept.total_incl_vat
    totals = response.context["totals"]
    assert totals == {
        "excl_vat": money(expected["excl"]),
        "vat": money(expected["vat"]),
        "incl_vat": money(expected["incl"]),
    }
    html = response.content.decode()
    assert "Totaal van 3 facturen in deze selectie (creditfacturen negatief)" in html
    assert f"<td>{totals['incl_vat']}</td>" in html

    everything = client.get(INVOICES).context["totals"]
    all_incl = Invoice.objects.aggregate(incl=Sum("total_incl_vat"))["incl"]
    assert everything["incl_vat"] == money(all_incl)

    nothing = client.get(INVOICES, {"q": "bestaat-niet"}).context["totals"]
    assert nothing["incl_vat"] == money(Decimal("0.00"))


def test_invoice_list_queries_do_not_grow_with_the_rows(
    client, finance_user, two_editions, django_assert_max_num_queries
):
    first, second = two_editions
    issue_for(first)
    client.force_login(finance_user)
    few, _response = count_queries(django_assert_max_num_queries, client, INVOICES)
    for edition in [first, second, first, second]:
        issue_invoice(
            [make_registration(edition), make_registration(edition)], at=AT
        )  # two participants on one invoice
    with django_assert_max_num_queries(few):
        response = client.get(INVOICES, {"o": "3"})
    assert response.context["cl"].result_count == 5
    assert few <= 16
