"""Words that read right, each in the page or mail where it was seen wrong: the reminder says
"je" throughout, no dash dangles, admin messages give amounts and dates the Dutch way, the
personal page thanks once, the stay is mentioned to who stays, a full edition says so, a past
edition keeps its deadline, and the confirmation gives the price incl. btw too."""

import datetime
import io
import re
from decimal import Decimal

import time_machine
from django.core.management import call_command
from django.urls import reverse

from registrations import emails
from registrations.invoicing.issuing import issue_invoice
from registrations.models import Registration
from registrations.payments import matching
from registrations.payments.models import Payment
from tests.conftest import (
    camt053,
    camt_transaction,
    make_edition,
    make_ended_edition,
    make_registration,
    sign_up_data,
)
from werkplaats import formats

ISSUED = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)


def words(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_payment_reminder_says_je_throughout(
    open_edition, invoicing, mailoutbox, django_capture_on_commit_callbacks
):
    with time_machine.travel(ISSUED):
        issue_invoice(make_registration(open_edition), at=ISSUED)
    with time_machine.travel(datetime.datetime(2022, 10, 20, 7, tzinfo=datetime.UTC)):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_reminders", stdout=io.StringIO())

    mail = mailoutbox[0]
    html = mail.alternatives[0][0]
    for text in (mail.body, words(html)):
        assert text.startswith("Beste Crediteurenadministratie,") or (
            "Beste Crediteurenadministratie," in text
        )
        assert "Je kenmerk" in text and "PO-2022-0042" in text
        assert not re.search(r"\b(u|uw|Uw|Geachte)\b", text)


def test_the_organisation_has_no_dangling_dash_without_a_function(client, open_edition):
    without = make_registration(open_edition, job_title="")
    with_function = make_registration(open_edition, job_title="Wijkregisseur")

    page = words(client.get(without.get_absolute_url()).content.decode())
    assert "Organisatie Gemeente Utrecht Overnachten" in page
    assert "Gemeente Utrecht –" not in page
    page = words(client.get(with_function.get_absolute_url()).content.decode())
    assert "Organisatie Gemeente Utrecht – Wijkregisseur" in page


def test_admin_messages_give_amounts_and_dates_the_dutch_way(
    client, finance_user, open_edition, invoicing
):
    invoice = issue_invoice(make_registration(open_edition))
    statement = camt053(
        [
            {
                "amount": Decimal("2178.00"),
                "booking_date": datetime.date.today(),
                "transactions": [camt_transaction(remittance="cursus", name="Gem. Utrecht")],
            }
        ]
    )
    matching.import_statement(statement, "afschrift.xml", by="femke")
    payment = Payment.objects.unmatched().get()
    client.force_login(finance_user)

    url = reverse("admin:payments_payment_assign", args=[payment.pk])
    response = client.post(url, {"assign": "1", "invoices": [invoice.pk]}, follow=True)

    page = response.content.decode()
    today = datetime.date.today()
    assert f"Betaling van € 2.178,00 op {formats.day(today)} gekoppeld." in page
    assert "2178.00" not in page and formats.numeric_date(today) not in page
    invoice.refresh_from_db()
    assert invoice.paid_text() == f"{invoice.number} is al betaald op {formats.day(today)}"


def test_the_personal_page_thanks_only_right_after_the_sign_up(client, open_edition):
    url = reverse("registrations:register", args=[open_edition.slug])
    first = client.post(url, sign_up_data(), follow=True).content.decode()
    assert "Bedankt, Fatima. Je ontvangt een bevestiging per e-mail." in first
    assert "Je bent ingeschreven" in first

    registration = Registration.objects.get()
    again = client.get(registration.get_absolute_url()).content.decode()
    assert "Bedankt" not in again
    assert "je ontvangt een bevestiging" not in again.lower()
    assert "Fatima, je inschrijving is bevestigd." in again


def test_the_personal_page_after_the_event_says_it_is_over(client, db):
    edition = make_ended_edition()
    registration = make_registration(edition)
    page = words(client.get(registration.get_absolute_url()).content.decode())
    assert "De werkplaats is voorbij" in page
    assert "Je was ingeschreven voor" in page
    assert "Bedankt" not in page and "Je bent ingeschreven" not in page


def test_the_stay_is_mentioned_only_to_who_stays_overnight(open_edition):
    stays = make_registration(open_edition, overnight_stay=True)
    goes_home = make_registration(open_edition, overnight_stay=False)

    assert "inclusief arrangement- en verblijfskosten" in emails.confirmation_message(stays).body
    message = emails.confirmation_message(goes_home)
    assert "verblijfskosten" not in message.body
    assert "verblijfskosten" not in message.alternatives[0][0]


def test_the_confirmation_gives_the_price_incl_btw_as_well(client, open_edition):
    registration = make_registration(open_edition)
    message = emails.confirmation_message(registration)
    expected = "€ 1.800,- per persoon, exclusief btw (€ 2.178,00 inclusief 21% btw)"
    assert expected in message.body
    assert expected in words(message.alternatives[0][0])
    page = words(client.get(registration.get_absolute_url()).content.decode())
    assert "Prijs € 1.800,- exclusief 21% btw (€ 2.178,00 inclusief btw)" in page


def test_a_full_edition_says_vol_with_the_waiting_list_button(client, db):
    edition = make_edition(capacity=1)
    make_registration(edition)
    html = client.get(edition.get_absolute_url()).content.decode()
    page = words(html)
    assert "Vol: aanmelden voor de wachtlijst" in page
    assert "Aanmelden voor de wachtlijst" in page
    assert "status-open" not in html
    assert "Inschrijven voor de werkplaats" not in page


def test_the_2022_edition_keeps_its_deadline(client, edition_2022):
    page = words(client.get(edition_2022.get_absolute_url()).content.decode())
    assert "Inschrijven Gesloten . Inschrijven kon tot en met vrijdag 16 september 2022" in page
