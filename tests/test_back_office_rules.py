"""The back office keeps the sign-up's rules in every path: admin change form, admin action,
public form, shell. Each test goes through the path in which the rule was seen broken."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from programme.models import Edition
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice, InvoiceRefused
from registrations.models import Registration, TransitionRefused
from registrations.payments.matching import record_payment
from tests.conftest import closed_port, make_edition, make_registration, sign_up_data

pytestmark = pytest.mark.django_db

REGISTRATIONS = reverse("admin:registrations_registration_changelist")
INVOICES = reverse("admin:invoicing_invoice_changelist")


def act(client, url, action, rows, **extra):
    data = {"action": action, "_selected_action": [row.pk for row in rows], **extra}
    return client.post(url, data, follow=True)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def change_form_data(client, registration, **changes):
    """What the admin change form posts back for `registration`, with `changes`."""
    url = reverse("admin:registrations_registration_change", args=[registration.pk])
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        data[name] = field.widget.format_value(value) if hasattr(value, "quantize") else value
    data.update(changes)
    for key in ("invoices-TOTAL_FORMS", "invoices-INITIAL_FORMS"):
        data[key] = "0"
    data["invoices-MIN_NUM_FORMS"], data["invoices-MAX_NUM_FORMS"] = "0", "1000"
    return url, {k: ("on" if v is True else v) for k, v in data.items() if v is not False}


# 1. Only a confirmed participant is invoiced.


def test_issue_invoice_refuses_someone_on_the_waiting_list(invoicing):
    edition = make_edition(capacity=1)
    make_registration(edition)
    waiting = make_registration(edition)
    assert waiting.status == Registration.Status.WAITING
    with pytest.raises(InvoiceRefused, match="wachtlijst"):
        issue_invoice(waiting)
    assert not Invoice.objects.exists()


def test_bulk_invoicing_skips_the_waiting_list_and_says_why(client, invoicing, finance_user):
    edition = make_edition(capacity=1)
    confirmed = make_registration(edition)
    waiting = make_registration(edition)
    client.force_login(finance_user)
    response = act(client, REGISTRATIONS, "issue_invoices", [confirmed, waiting])
    assert Invoice.objects.for_registration(confirmed).count() == 1
    assert not Invoice.objects.for_registration(waiting).exists()
    text = " ".join(messages_of(response))
    assert f"{waiting.reference} is wachtlijst: alleen bevestigde deelnemers" in text


def test_registration_list_shows_and_filters_what_is_still_to_invoice(
    client, invoicing, finance_user
):
    edition = make_edition()
    invoiced = make_registration(edition, last_name="Gefactureerd")
    issue_invoice(invoiced)
    to_invoice = make_registration(edition, last_name="Nogniet")
    client.force_login(finance_user)
    page = client.get(REGISTRATIONS, {"facturatie": "te_factureren"})
    names = [r.last_name for r in page.context["cl"].result_list]
    assert names == ["Nogniet"]
    assert "te factureren" in page.content.decode()
    page = client.get(REGISTRATIONS, {"facturatie": "gefactureerd"})
    assert [r.pk for r in page.context["cl"].result_list] == [invoiced.pk]
    assert to_invoice.pk not in [r.pk for r in page.context["cl"].result_list]


# 2. The price is fixed when the participant signs up.


def test_invoice_charges_the_price_agreed_at_sign_up_not_the_new_one(
    client, invoicing, open_edition, finance_user
):
    client.post(reverse("registrations:register", args=[open_edition.slug]), sign_up_data())
    registration = Registration.objects.get()
    assert registration.price_excl_vat == Decimal("1800.00")
    open_edition.price_excl_vat = Decimal("1950.00")
    open_edition.save()
    invoice = issue_invoice(registration)
    assert invoice.total_excl_vat == Decimal("1800.00")
    assert invoice.lines.get().unit_price == Decimal("1800.00")


def test_a_later_exemption_does_not_change_what_was_agreed(invoicing, open_edition):
    registration = make_registration(open_edition)
    open_edition.vat_exemption_text = "Vrijgesteld van btw (art. 11 lid 1 sub o Wet OB)"
    open_edition.save()
    invoice = issue_invoice(registration)
    assert invoice.total_vat == Decimal("378.00")
    assert invoice.vat_exemption_text == ""


def test_staff_see_both_prices_when_they_differ(client, open_edition, staff_member):
    registration = make_registration(open_edition)
    Edition.objects.filter(pk=open_edition.pk).update(price_excl_vat=Decimal("1950.00"))
    client.force_login(staff_member)
    page = client.get(reverse("admin:registrations_registration_change", args=[registration.pk]))
    text = page.content.decode()
    assert "1.800,00" in text
    assert "€ 1.950,00 (wijkt af van de afgesproken prijs" in text


# 3. The waiting list is a queue.


def test_a_new_sign_up_queues_behind_those_waiting_after_a_cancellation(client):
    edition = make_edition(capacity=1)
    first = make_registration(edition)
    waiting = make_registration(edition)
    first.cancel()
    client.post(
        reverse("registrations:register", args=[edition.slug]),
        sign_up_data(email="nieuw@example.nl"),
    )
    newcomer = Registration.objects.get(email="nieuw@example.nl")
    assert newcomer.status == Registration.Status.WAITING
    assert newcomer.position_on_waiting_list() == 2
    assert waiting.position_on_waiting_list() == 1


def test_the_freed_place_goes_to_the_first_in_line(client, staff_member, mailoutbox):
    edition = make_edition(capacity=1)
    first = make_registration(edition)
    earlier = make_registration(edition)
    later = make_registration(edition)
    first.cancel()
    client.force_login(staff_member)
    # Selecting only the later one: refused, the earlier one waits longer.
    response = act(client, REGISTRATIONS, "confirm_from_waiting_list", [later], apply="1")
    later.refresh_from_db()
    assert later.status == Registration.Status.WAITING
    assert "staat niet vooraan" in " ".join(messages_of(response))
    response = act(client, REGISTRATIONS, "confirm_from_waiting_list", [earlier, later], apply="1")
    earlier.refresh_from_db()
    later.refresh_from_db()
    assert earlier.status == Registration.Status.CONFIRMED
    assert later.status == Registration.Status.WAITING
    assert later.position_on_waiting_list() == 1
    # The one confirmed hears that a place came free, not "thank you for signing up".
    assert [m.to for m in mailoutbox] == [[earlier.email]]
    assert "plaats voor je vrijgekomen" in mailoutbox[0].body
    assert "Bedankt voor je inschrijving" not in mailoutbox[0].body
    text = " ".join(messages_of(response))
    assert "Bericht 'er is een plaats vrij': 1 verstuurd." in text


def test_admin_does_not_say_mailed_when_the_mail_failed(client, staff_member, settings):
    edition = make_edition(capacity=1)
    first = make_registration(edition)
    waiting = make_registration(edition)
    first.cancel()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    client.force_login(staff_member)
    response = act(client, REGISTRATIONS, "confirm_from_waiting_list", [waiting], apply="1")
    text = " ".join(messages_of(response))
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.CONFIRMED
    assert "1 niet verstuurd" in text
    assert "gemaild" not in text


# 4. Status changes only through named transitions.


def test_change_form_cannot_set_the_status(client, staff_member):
    edition = make_edition(capacity=1)
    make_registration(edition)
    waiting = make_registration(edition)
    client.force_login(staff_member)
    url, data = change_form_data(client, waiting, status="confirmed")
    response = client.post(url, data)
    assert response.status_code in (200, 302)
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.WAITING
    assert Registration.objects.confirmed().count() == 1


def test_the_shell_cannot_set_the_status_either():
    edition = make_edition(capacity=1)
    make_registration(edition)
    waiting = make_registration(edition)
    waiting.status = Registration.Status.CONFIRMED
    with pytest.raises(TransitionRefused):
        waiting.save()
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.WAITING


def test_confirming_from_the_waiting_list_never_overbooks():
    edition = make_edition(capacity=1)
    make_registration(edition)
    waiting = make_registration(edition)
    with pytest.raises(TransitionRefused, match="vol"):
        waiting.confirm_from_waiting_list()
    assert Registration.objects.confirmed().count() == 1


def test_reinstating_checks_the_places_and_clears_the_cancellation(client, staff_member):
    edition = make_edition(capacity=1)
    first = make_registration(edition)
    first.cancel()
    second = make_registration(edition)
    client.force_login(staff_member)
    act(client, REGISTRATIONS, "reinstate_registrations", [first], apply="1")
    first.refresh_from_db()
    # The place went to someone else in the meantime: back on the waiting list, at its end.
    assert first.status == Registration.Status.WAITING
    assert first.cancelled_at is None
    assert second.status == Registration.Status.CONFIRMED
    second.cancel()
    third = make_registration(edition, email="derde@example.nl")
    assert third.status == Registration.Status.WAITING
    assert third.position_on_waiting_list() == 2


def test_reinstating_with_a_free_place_confirms(client, staff_member):
    edition = make_edition(capacity=2)
    registration = make_registration(edition)
    registration.cancel()
    client.force_login(staff_member)
    act(client, REGISTRATIONS, "reinstate_registrations", [registration], apply="1")
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.cancelled_at is None


def test_cancelled_without_cancelled_at_is_refused_by_the_database():
    registration = make_registration(make_edition())
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=registration.pk).update(status="cancelled")
    registration.cancel()
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=registration.pk).update(status="confirmed")


def test_lowering_capacity_below_the_confirmed_count_is_refused(client, staff_member):
    edition = make_edition(capacity=3)
    for _ in range(3):
        make_registration(edition)
    client.force_login(staff_member)
    url = reverse("admin:programme_edition_change", args=[edition.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    for prefix in ("sections", "contacts", "days", "sessions"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data["contacts-TOTAL_FORMS"] = data["contacts-INITIAL_FORMS"] = "1"
    contact = edition.contacts.get()
    data.update(
        {
            "contacts-0-id": contact.pk,
            "contacts-0-edition": edition.pk,
            "contacts-0-name": contact.name,
            "contacts-0-topic": contact.topic,
            "contacts-0-phone": contact.phone,
            "contacts-0-is_practical_contact": "on",
            "capacity": "2",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Er zijn al 3 bevestigde deelnemers" in response.content.decode()
    edition.refresh_from_db()
    assert edition.capacity == 3


# 5. An invoiced registration keeps what its invoice says.


def test_invoiced_registration_cannot_move_edition_or_change_invoice_details_in_the_admin(
    client, invoicing, staff_member
):
    edition = make_edition()
    other = make_edition()
    registration = make_registration(edition)
    invoice = issue_invoice(registration)
    client.force_login(staff_member)
    url, data = change_form_data(
        client, registration, edition=str(other.pk), invoice_street="Elders 1"
    )
    client.post(url, data)
    registration.refresh_from_db()
    assert registration.edition_id == edition.pk
    assert registration.order.invoice_street == "Stadsplateau 1"
    invoice.refresh_from_db()
    assert invoice.lines.get().registration.edition_id == edition.pk


def test_finance_corrects_an_invoiced_registration_by_credit_and_reissue(
    client, invoicing, finance_user
):
    registration = make_registration(make_edition())
    invoice = issue_invoice(registration)
    client.force_login(finance_user)
    url = reverse("admin:registrations_registration_correct", args=[registration.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(invoice_street="Postbus 16200", invoice_postcode="3500 CE")
    response = client.post(url, data)
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.order.invoice_street == "Postbus 16200"
    invoice.refresh_from_db()
    assert invoice.is_credited
    current = Invoice.objects.uncredited().for_registration(registration).get()
    assert current.customer_street == "Postbus 16200"
    assert current.pk != invoice.pk


def test_a_refused_correction_changes_nothing(client, invoicing, finance_user):
    registration = make_registration(make_edition())
    invoice = issue_invoice(registration)
    client.force_login(finance_user)
    url = reverse("admin:registrations_registration_correct", args=[registration.pk])
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(price_excl_vat="-5")
    response = client.post(url, data)
    assert response.status_code == 200
    assert Invoice.objects.count() == 1
    invoice.refresh_from_db()
    assert not invoice.is_credited


# 7. Cancelling an invoiced registration reaches finance.


def test_cancelling_an_invoiced_registration_tells_finance_and_queues_the_credit(
    client, invoicing, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.FINANCE_NOTIFICATION_EMAIL = "financien@platform31.example.nl"
    registration = make_registration(make_edition())
    invoice = issue_invoice(registration)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registrations:cancel", args=[registration.token]))
    registration.refresh_from_db()
    assert registration.is_cancelled
    to_finance = [m for m in mailoutbox if m.to == ["financien@platform31.example.nl"]]
    assert len(to_finance) == 1
    assert invoice.number in to_finance[0].subject
    assert list(Invoice.objects.to_credit()) == [invoice]
    # The participant still gets their own cancellation mail.
    assert any(m.to == [registration.email] for m in mailoutbox)


def test_cancelling_in_the_admin_also_reaches_finance_and_the_participant(
    client, invoicing, staff_member, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.FINANCE_NOTIFICATION_EMAIL = "financien@platform31.example.nl"
    registration = make_registration(make_edition())
    issue_invoice(registration)
    client.force_login(staff_member)
    with django_capture_on_commit_callbacks(execute=True):
        act(client, REGISTRATIONS, "cancel_registrations", [registration], apply="1")
    recipients = [m.to for m in mailoutbox]
    assert ["financien@platform31.example.nl"] in recipients
    assert [registration.email] in recipients


def test_cancelling_an_uninvoiced_registration_does_not_bother_finance(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.FINANCE_NOTIFICATION_EMAIL = "financien@platform31.example.nl"
    with django_capture_on_commit_callbacks(execute=True):
        make_registration(make_edition()).cancel()
    assert not [m for m in mailoutbox if m.to == ["financien@platform31.example.nl"]]


def test_credit_note_of_a_paid_invoice_is_a_refund_due_until_recorded(
    client, invoicing, finance_user
):
    import datetime

    registration = make_registration(make_edition())
    invoice = issue_invoice(registration)
    record_payment(invoice, invoice.invoice_date)
    registration.cancel()
    credit = credit_invoice(invoice)
    # The credited invoice and its credit note share the one state.
    assert set(Invoice.objects.refund_due()) == {invoice, credit}
    client.force_login(finance_user)
    page = client.get(INVOICES, {"status": "refund_due"})
    assert {i.pk for i in page.context["cl"].result_list} == {invoice.pk, credit.pk}
    client.post(
        INVOICES,
        {
            "action": "mark_refunded",
            "_selected_action": [credit.pk],
            "refunded_on": credit.invoice_date.isoformat(),
            "apply": "1",
        },
    )
    credit.refresh_from_db()
    assert credit.refunded_on == credit.invoice_date
    assert credit.status() == Invoice.Status.REFUNDED
    assert credit.invoice_date <= datetime.date.today()


# 8. Exports list participants, in Dutch order, with nothing a spreadsheet would run.


def _csv(response):
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))


def test_participant_export_lists_confirmed_people_in_dutch_order(client, staff_member):
    edition = make_edition(capacity=3)
    vries = make_registration(edition, first_name="Jan", last_name="de Vries")
    bakker = make_registration(edition, first_name="Anna", last_name="Bakker")
    berg = make_registration(edition, first_name="Piet", last_name="van den Berg")
    waiting = make_registration(edition, last_name="Wachtend")
    cancelled = make_registration(make_edition(), last_name="Weg")
    cancelled.cancel()
    client.force_login(staff_member)
    response = act(
        client, REGISTRATIONS, "export_participants", [vries, bakker, berg, waiting, cancelled]
    )
    rows = _csv(response)
    header, body = rows[0], rows[1:]
    assert "Status" in header
    last_names = [row[header.index("Achternaam")] for row in body]
    assert last_names == ["Bakker", "van den Berg", "de Vries"]
    assert {row[header.index("Status")] for row in body} == {"bevestigd"}


def test_export_neutralises_formulas(client, staff_member):
    registration = make_registration(
        make_edition(),
        organisation='=HYPERLINK("http://evil.example","x")',
        first_name="+31 6 1234",
        last_name="@SUM(A1)",
        dietary_needs="-2+3",
    )
    client.force_login(staff_member)
    for action in ("export_participants", "export_venue_list"):
        rows = _csv(act(client, REGISTRATIONS, action, [registration]))
        cells = [cell for row in rows[1:] for cell in row]
        assert '\'=HYPERLINK("http://evil.example","x")' in cells
        assert not [c for c in cells if c[:1] in ("=", "+", "@") or c.startswith("-2")]


def test_venue_list_counts_per_diet(client, staff_member):
    edition = make_edition()
    people = [
        make_registration(edition, dietary_needs="vegetarisch"),
        make_registration(edition, dietary_needs="Vegetarisch "),
        make_registration(edition, dietary_needs="glutenvrij"),
        make_registration(edition, dietary_needs=""),
    ]
    client.force_login(staff_member)
    rows = _csv(act(client, REGISTRATIONS, "export_venue_list", people))
    counts = {row[0]: row[1] for row in rows if len(row) > 1 and row[1].isdigit()}
    assert counts["vegetarisch"] == "2"
    assert counts["glutenvrij"] == "1"
    assert counts["geen"] == "1"
    assert counts["Totaal"] == "4"


# 9. Smaller things.


def test_a_payment_date_before_the_invoice_date_is_refused(client, invoicing, finance_user):
    invoice = issue_invoice(make_registration(make_edition()))
    client.force_login(finance_user)
    before = invoice.invoice_date.replace(year=invoice.invoice_date.year - 1).isoformat()
    response = client.post(
        INVOICES,
        {"action": "mark_paid", "_selected_action": [invoice.pk], "paid_on": before, "apply": "1"},
        follow=True,
    )
    invoice.refresh_from_db()
    assert invoice.paid_on is None
    assert "niet voor de factuurdatum" in " ".join(messages_of(response))


def test_re_mailing_an_invoice_asks_first(client, invoicing, finance_user, mailoutbox):
    invoice = issue_invoice(make_registration(make_edition()))
    client.force_login(finance_user)
    act(client, INVOICES, "email_invoices", [invoice], apply="1")
    assert len(mailoutbox) == 1
    page = act(client, INVOICES, "email_invoices", [invoice])
    assert "al gemaild op" in page.content.decode()
    assert len(mailoutbox) == 1
    act(client, INVOICES, "email_invoices", [invoice], apply="1")
    assert len(mailoutbox) == 2


def test_resending_to_a_cancelled_registration_says_why_not(client, staff_member, mailoutbox):
    registration = make_registration(make_edition())
    registration.cancel()
    mailoutbox.clear()
    client.force_login(staff_member)
    response = act(client, REGISTRATIONS, "resend_confirmation", [registration], apply="1")
    assert "is geannuleerd; daar hoort geen bevestiging bij" in " ".join(messages_of(response))
    assert not mailoutbox


def test_admin_labels_are_dutch(client, staff_member):
    registration = make_registration(make_edition())
    client.force_login(staff_member)
    text = client.get(REGISTRATIONS).content.decode()
    assert "FULL NAME" not in text.upper().replace("NAAM", "")
    assert ">Naam<" in text or "naam" in text
    page = client.get(reverse("admin:registrations_registration_change", args=[registration.pk]))
    assert "Reference:" not in page.content.decode()
    assert "Referentie" in page.content.decode()


def test_deleting_an_invoice_is_explained_not_denied_like_a_permission(
    client, invoicing, finance_user
):
    invoice = issue_invoice(make_registration(make_edition()))
    client.force_login(finance_user)
    page = client.get(reverse("admin:invoicing_invoice_delete", args=[invoice.pk]))
    assert page.status_code == 403
    assert "wordt nooit verwijderd" in page.content.decode()
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_consent_timestamps_are_read_only(client, staff_member):
    registration = make_registration(make_edition())
    accepted = registration.order.terms_accepted_at
    client.force_login(staff_member)
    url, data = change_form_data(
        client,
        registration,
        terms_accepted_at_0="01-01-2020",
        terms_accepted_at_1="12:00:00",
    )
    client.post(url, data)
    registration.refresh_from_db()
    assert registration.order.terms_accepted_at == accepted


def test_the_database_refuses_overbooking_past_the_models(postgres):
    edition = make_edition(capacity=1)
    make_registration(edition)
    waiting = make_registration(edition)
    with pytest.raises(IntegrityError, match="vol"), transaction.atomic():
        Registration.objects.filter(pk=waiting.pk).update(status="confirmed", waiting_since=None)
    twin = Registration.objects.get(pk=waiting.pk)
    twin.pk, twin.token, twin.email = None, "twin-token", "twin@example.nl"
    twin.status, twin.waiting_since = "confirmed", None
    with pytest.raises(IntegrityError, match="vol"), transaction.atomic():
        Registration.objects.bulk_create([twin])
    assert Registration.objects.confirmed().count() == 1


def test_the_database_refuses_a_maximum_below_the_confirmed_count(postgres):
    edition = make_edition(capacity=3)
    make_registration(edition)
    make_registration(edition)
    with pytest.raises(IntegrityError, match="meer bevestigde deelnemers"), transaction.atomic():
        Edition.objects.filter(pk=edition.pk).update(capacity=1)
    Edition.objects.filter(pk=edition.pk).update(capacity=2)
    edition.refresh_from_db()
    assert edition.capacity == 2


@pytest.mark.parametrize("code", ["XX", "QQ", ""])
def test_the_shell_cannot_give_an_order_an_unknown_invoice_country(open_edition, code):
    # The model checks the code itself (registrations.countries), not only the public form.
    order = make_registration(open_edition).order
    order.invoice_country = code
    with pytest.raises(ValidationError) as refused:
        order.full_clean()
    assert list(refused.value.message_dict) == ["invoice_country"]


def test_a_known_invoice_country_passes_the_model_check(open_edition):
    order = make_registration(open_edition).order
    order.invoice_country = "BE"
    order.full_clean()
    order.save()
    order.refresh_from_db()
    assert order.invoice_country.code == "BE"
