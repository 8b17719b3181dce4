"""Organisations known once (issue 23, items 1 and 2): finance's register of organisations
(debtors), orders linked to it (matched on KvK number or OIN, suggested on name, confirmed or
made by finance), invoices that take the customer from it, and the participant who is no
longer asked for what only finance needs: an order without it waits, with the reason."""

import csv
import datetime
import io
import re
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from programme.models import InvoiceMoment
from registrations.invoicing import einvoice
from registrations.invoicing import overview as invoicing_overview
from registrations.invoicing.documents import ubl_bytes
from registrations.invoicing.issuing import issue_invoice
from registrations.invoicing.models import Invoice, InvoiceRefused, OrderInvoicing
from registrations.models import NO_IDENTIFIER, Order, Registration
from registrations.organisations.models import Organisation
from registrations.payments import matching
from tests.conftest import admin_action, make_registration, sign_up_data

KVK = "30280353"
OIN = "00000001001234567000"
PHONE = {"HTTP_USER_AGENT": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"}
ORDERS = reverse("admin:registrations_order_changelist")


def sign_up(client, edition, **overrides):
    """A sign-up as a participant sends it from a phone; the stored order."""
    response = client.post(
        reverse("registrations:register", args=[edition.slug]),
        sign_up_data(**overrides),
        **PHONE,
    )
    assert response.status_code == 302, response.context and response.context.get("form")
    return Order.objects.get(email=overrides.get("email", sign_up_data()["email"]))


def wijkagent(client, edition):
    """A police officer on a phone who does not know the KvK number of the police."""
    return sign_up(
        client,
        edition,
        email="wijkagent@politie.example.nl",
        organisation="Politie Midden-Nederland",
        invoice_organisation="Politie Midden-Nederland",
        invoice_street="Kroonstraat 25",
        invoice_postcode="3511 RC",
        invoice_city="Utrecht",
        invoice_email="facturen@politie.example.nl",
        po_number="",
        kvk_number="",
        oin="",
    )


def test_a_phone_sign_up_with_a_dutch_address_and_no_kvk_number_succeeds(client, open_edition):
    order = wijkagent(client, open_edition)
    assert (order.invoice_country.code, order.kvk_number, order.oin) == ("NL", "", "")
    assert order.positions.get().status == Registration.Status.CONFIRMED
    assert order.debtor is None


def test_the_form_says_the_kvk_number_may_stay_empty(client, open_edition):
    page = client.get(reverse("registrations:register", args=[open_edition.slug])).content
    assert "Weet je het niet, laat het leeg." in page.decode()


def test_an_order_without_kvk_number_for_a_dutch_buyer_is_held_with_the_reason(
    client, open_edition, invoicing, finance_user
):
    order = wijkagent(client, open_edition)
    assert order.invoicing_blocker() == NO_IDENTIFIER
    assert not order.invoicing_unblocked()
    assert list(Order.objects.held_for_invoicing()) == [order]
    assert list(invoicing_overview.held_orders()) == [order]
    # Finance's worklist: on the overview with the reason, and as a filter of the orders list.
    client.force_login(finance_user)
    overview = client.get(reverse("admin:index")).content.decode()
    assert "Wacht op factuurgegevens" in overview
    assert f"{order.reference}" in overview and "zonder KvK-nummer of OIN" in overview
    held = client.get(f"{ORDERS}?factuurgegevens=wacht")
    assert held.context["cl"].result_count == 1
    assert "zonder KvK-nummer of OIN" in held.content.decode()


def test_a_foreign_buyer_without_kvk_number_is_not_held(client, open_edition):
    order = sign_up(
        client,
        open_edition,
        kvk_number="",
        invoice_country="BE",
        invoice_postcode="2000",
        vat_id="BE0207500123",
    )
    assert order.invoicing_blocker() == ""
    assert not Order.objects.held_for_invoicing().exists()


def test_issuing_a_held_order_is_refused_with_its_reason(client, open_edition, invoicing):
    order = wijkagent(client, open_edition)
    with pytest.raises(InvoiceRefused) as refusal:
        issue_invoice(order.positions.get())
    assert str(refusal.value) == f"{order.reference} wacht op factuurgegevens: {NO_IDENTIFIER}"
    assert not Invoice.objects.exists()


def test_finance_links_an_organisation_with_kvk_number_and_the_invoice_goes_out(
    client, open_edition, invoicing, finance_user, einvoice_rules
):
    order = wijkagent(client, open_edition)
    client.force_login(finance_user)
    added = client.post(
        reverse("admin:organisations_organisation_add"),
        {
            "name": "Politie Midden-Nederland",
            "kvk_number": "27370237",
            "invoice_street": "Postbus 3017",
            "invoice_postcode": "3502 GA",
            "invoice_city": "Utrecht",
            "invoice_country": "NL",
            "invoice_email": "crediteuren@politie.example.nl",
            "payment_term_days": "45",
            "orders-TOTAL_FORMS": "0",
            "orders-INITIAL_FORMS": "0",
        },
    )
    assert added.status_code == 302
    police = Organisation.objects.get()
    # The control on the order's page offers it by name; finance confirms it.
    page = client.get(reverse("admin:registrations_order_change", args=[order.pk])).content
    assert f'name="organisation" value="{police.pk}"' in page.decode()
    linked = client.post(
        reverse("admin:registrations_order_debtor", args=[order.pk]),
        {"organisation": police.pk},
        follow=True,
    )
    assert "klaar om te factureren" in linked.content.decode()
    order.refresh_from_db()
    assert order.debtor == police
    assert order.invoicing_unblocked() and not Order.objects.held_for_invoicing().exists()

    invoice = issue_invoice(order.positions.get())

    assert (invoice.customer_kvk_number, invoice.customer_peppol_id) == (
        "27370237",
        "0106:27370237",
    )
    assert (invoice.customer_street, invoice.customer_email) == (
        "Postbus 3017",
        "crediteuren@politie.example.nl",
    )
    assert invoice.due_date == invoice.invoice_date + datetime.timedelta(days=45)
    xml = ubl_bytes(invoice).decode()
    assert '<cbc:EndpointID schemeID="0106">27370237</cbc:EndpointID>' in xml
    assert '<cbc:CompanyID schemeID="0106">27370237</cbc:CompanyID>' in xml
    found = einvoice.findings(ubl_bytes(invoice))
    assert found == []
    assert einvoice.counts(found) == {
        "si-ubl-2.0": {"fatal": 0, "warning": 0},
        "en16931": {"fatal": 0, "warning": 0},
    }


def test_a_public_body_linked_by_oin_is_reached_at_scheme_0190(
    open_edition, invoicing, einvoice_rules
):
    gemeente = Organisation.objects.create(name="Gemeente Zeist", oin=OIN)
    registration = make_registration(open_edition, kvk_number="", invoice_organisation="Zeist")
    registration.order.link_debtor(gemeente)
    invoice = issue_invoice(registration)
    xml = ubl_bytes(invoice).decode()
    assert invoice.customer_organisation == "Gemeente Zeist"
    assert f'<cbc:EndpointID schemeID="0190">{OIN}</cbc:EndpointID>' in xml
    assert [f for f in einvoice.findings(ubl_bytes(invoice)) if f.flag == "fatal"] == []


def test_a_sign_up_with_a_known_kvk_number_is_linked_on_every_path(
    client, open_edition, staff_member
):
    utrecht = Organisation.objects.create(name="Gemeente Utrecht", kvk_number=KVK)
    # The form.
    assert sign_up(client, open_edition, kvk_number="3028 0353").debtor == utrecht
    # The shell (and commands).
    by_hand = make_registration(open_edition, kvk_number=KVK)
    assert by_hand.order.debtor == utrecht
    # The OIN, and a Peppol ID that names the KvK number, match too.
    zeist = Organisation.objects.create(name="Gemeente Zeist", oin=OIN)
    assert make_registration(open_edition, kvk_number="", oin=OIN).order.debtor == zeist
    peppol = make_registration(open_edition, kvk_number="", peppol_id=f"0106:{KVK}")
    assert peppol.order.debtor == utrecht
    # An order whose KvK number finance adds later, in the admin.
    later = make_registration(open_edition, kvk_number="")
    assert later.order.debtor is None
    later.order.kvk_number = KVK
    later.order.save()
    later.order.refresh_from_db()
    assert later.order.debtor == utrecht


def test_an_unknown_kvk_number_links_nothing_and_creates_nothing(client, open_edition):
    order = sign_up(client, open_edition)
    assert order.debtor is None
    assert not Organisation.objects.exists()


def test_an_organisation_is_suggested_on_its_name_but_not_linked(
    client, open_edition, finance_user
):
    amersfoort = Organisation.objects.create(name="Gemeente Amersfoort")
    Organisation.objects.create(name="Gemeente Amstelveen")
    order = make_registration(
        open_edition, kvk_number="", invoice_organisation="  gemeente   AMERSFOORT "
    ).order
    assert order.debtor is None
    assert order.suggested_debtors() == [amersfoort]
    client.force_login(finance_user)
    page = client.get(reverse("admin:registrations_order_change", args=[order.pk])).content
    assert "Koppelen aan Gemeente Amersfoort" in page.decode()
    assert "Koppelen aan Gemeente Amstelveen" not in page.decode()


def test_the_orders_list_links_the_suggestion_or_creates_the_organisation(
    client, open_edition, finance_user, staff_member
):
    amersfoort = Organisation.objects.create(name="Gemeente Amersfoort")
    suggested = make_registration(
        open_edition, kvk_number="", invoice_organisation="Gemeente Amersfoort"
    ).order
    unknown = make_registration(
        open_edition, kvk_number="12345678", invoice_organisation="Woonstichting De Kern"
    ).order
    # Medewerkers do not link organisations: finance's work.
    client.force_login(staff_member)
    admin_action(client, ORDERS, "link_debtors", [suggested, unknown])
    assert Order.objects.filter(debtor__isnull=False).count() == 0

    client.force_login(finance_user)
    response = admin_action(client, ORDERS, "link_debtors", [suggested, unknown])
    assert response.status_code == 302
    suggested.refresh_from_db()
    unknown.refresh_from_db()
    assert suggested.debtor == amersfoort
    made = unknown.debtor
    assert (made.name, made.kvk_number, made.invoice_street, made.invoice_email) == (
        "Woonstichting De Kern",
        "12345678",
        unknown.invoice_street,
        unknown.invoice_email,
    )
    # Again: both are linked already; nothing new is made.
    admin_action(client, ORDERS, "link_debtors", [suggested, unknown])
    assert Organisation.objects.count() == 2


def test_an_address_corrected_once_goes_on_every_later_invoice_of_its_orders(
    client, open_edition, invoicing, finance_user
):
    utrecht = Organisation.objects.create(
        name="Gemeente Utrecht", kvk_number=KVK, invoice_street="Stadsplateau 1"
    )
    first, second = (make_registration(open_edition, kvk_number=KVK) for _ in range(2))
    client.force_login(finance_user)
    response = client.post(
        reverse("admin:organisations_organisation_change", args=[utrecht.pk]),
        {
            "name": "Gemeente Utrecht",
            "kvk_number": KVK,
            "invoice_attention": "Team Crediteuren",
            "invoice_street": "Postbus 16200",
            "invoice_postcode": "3500 CE",
            "invoice_city": "Utrecht",
            "invoice_country": "NL",
            "invoice_email": "crediteuren@utrecht.example.nl",
            "orders-TOTAL_FORMS": "0",
            "orders-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context and response.context["errors"]
    invoices = [issue_invoice(first), issue_invoice(second)]
    assert [
        (i.customer_attention, i.customer_street, i.customer_postcode, i.customer_email)
        for i in invoices
    ] == [("Team Crediteuren", "Postbus 16200", "3500 CE", "crediteuren@utrecht.example.nl")] * 2
    # Issued invoices keep their snapshot when the organisation changes again.
    Organisation.objects.filter(pk=utrecht.pk).update(invoice_street="Elders 1")
    assert Invoice.objects.get(pk=invoices[0].pk).customer_street == "Postbus 16200"


def test_an_organisation_that_requires_a_po_holds_an_order_without_one(open_edition, invoicing):
    corporatie = Organisation.objects.create(
        name="Woonstichting De Kern", kvk_number="12345678", requires_po=True
    )
    without = make_registration(open_edition, kvk_number="12345678", po_number="")
    assert without.order.debtor == corporatie
    assert "inkoopordernummer of verplichtingnummer" in without.order.invoicing_blocker()
    with pytest.raises(InvoiceRefused, match="Woonstichting De Kern wil een inkoopordernummer"):
        issue_invoice(without)
    assert list(Order.objects.held_for_invoicing()) == [without.order]
    with_po = make_registration(open_edition, kvk_number="12345678", po_number="4500012345")
    assert issue_invoice(with_po).po_number == "4500012345"


def test_the_held_rule_in_sql_agrees_with_the_rule_on_the_model(open_edition):
    utrecht = Organisation.objects.create(name="Gemeente Utrecht", kvk_number=KVK)
    gent = Organisation.objects.create(
        name="Stad Gent", invoice_street="Botermarkt 1", invoice_city="Gent", invoice_country="BE"
    )
    po = Organisation.objects.create(name="Corporatie", oin=OIN, requires_po=True)
    cases = [
        make_registration(open_edition, kvk_number=""),
        make_registration(open_edition, kvk_number=KVK),
        make_registration(open_edition, kvk_number="", peppol_id=f"0190:{OIN}"),
        make_registration(open_edition, kvk_number="", peppol_id="9944:NL000099998B57"),
        make_registration(open_edition, kvk_number="", invoice_country="BE"),
    ]
    for organisation in (utrecht, gent, po):
        registration = make_registration(open_edition, kvk_number="", po_number="")
        registration.order.link_debtor(organisation)
        cases.append(registration)
    held = set(Order.objects.held_for_invoicing().values_list("pk", flat=True))
    by_model = {r.order.pk for r in cases if Order.objects.get(pk=r.order.pk).invoicing_blocker()}
    assert held == by_model
    assert len(held) == 3  # no number; a Peppol ID of another scheme; the PO missing


def test_the_outstanding_overview_shows_each_organisation(
    client, open_edition, invoicing, finance_user
):
    utrecht = Organisation.objects.create(name="Gemeente Utrecht", kvk_number=KVK)
    now = timezone.now()
    old = issue_invoice(make_registration(open_edition), at=now - datetime.timedelta(days=50))
    new = issue_invoice(make_registration(open_edition), at=now - datetime.timedelta(days=1))
    paid = issue_invoice(make_registration(open_edition))
    matching.record_payment(paid, paid.invoice_date)
    for invoice in (old, new, paid):
        invoice.order.link_debtor(utrecht)
    unlinked = issue_invoice(make_registration(open_edition, kvk_number="99999999"))
    client.force_login(finance_user)
    page = client.get(reverse("admin:payments_payment_overview"))
    rows = page.context["organisations"]
    assert [(r["organisation"], r["total"], r["count"], r["oldest_due"]) for r in rows] == [
        (utrecht, old.total_incl_vat + new.total_incl_vat, 2, old.due_date),
        (None, unlinked.total_incl_vat, 1, unlinked.due_date),
    ]
    html = page.content.decode()
    link = f"{reverse('admin:invoicing_invoice_changelist')}?organisatie={utrecht.pk}"
    assert f'href="{link}"' in html and "€ 4.356,00" in html
    # The link lists the organisation's invoices (paid ones too).
    listed = client.get(link)
    assert {i.pk for i in listed.context["cl"].result_list} == {old.pk, new.pk, paid.pk}


def test_the_organisation_page_shows_its_orders_and_invoices(
    client, open_edition, invoicing, finance_user
):
    utrecht = Organisation.objects.create(name="Gemeente Utrecht", kvk_number=KVK)
    invoice = issue_invoice(make_registration(open_edition, kvk_number=KVK))
    client.force_login(finance_user)
    html = client.get(
        reverse("admin:organisations_organisation_change", args=[utrecht.pk])
    ).content.decode()
    assert invoice.order.reference in html
    assert invoice.number in html


def test_the_debtor_number_has_one_home_the_organisation_register(
    client, open_edition, invoicing, finance_user
):
    with pytest.raises(LookupError):
        apps.get_model("payments", "Debtor")
    utrecht = Organisation.objects.create(
        name="Gemeente Utrecht", kvk_number=KVK, debtor_number=20001
    )
    linked = issue_invoice(make_registration(open_edition))
    foreign = issue_invoice(
        make_registration(
            open_edition,
            kvk_number="",
            invoice_organisation="Stad Gent",
            invoice_country="BE",
            invoice_postcode="9000",
        )
    )
    client.force_login(finance_user)
    response = admin_action(
        client,
        reverse("admin:invoicing_invoice_changelist"),
        "export_bookkeeping",
        [linked, foreign],
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    column = rows[0].index("Debiteurnummer")
    numbers = {row[0]: row[column] for row in rows[1:]}
    gent = Organisation.objects.get(name="Stad Gent")
    # Finance's number for Utrecht; Gent joins the register with the next free one.
    assert numbers == {linked.number: "20001", foreign.number: "20002"}
    assert (utrecht.orders.get(), gent.debtor_number) == (linked.order, 20002)
    # Finance renumbers in the register: the next export says so.
    Organisation.objects.filter(pk=utrecht.pk).update(debtor_number=30001)
    again = admin_action(
        client, reverse("admin:invoicing_invoice_changelist"), "export_bookkeeping", [linked]
    )
    assert re.search(r";30001;", again.content.decode("utf-8-sig"))


def test_an_organisation_is_known_once_by_kvk_number_and_oin(db):
    Organisation.objects.create(name="Gemeente Utrecht", kvk_number=KVK, oin=OIN)
    Organisation.objects.create(name="Zonder nummers")
    Organisation.objects.create(name="Ook zonder nummers")
    for numbers in ({"kvk_number": KVK}, {"oin": OIN}):
        twice = Organisation(name="Nog eens", **numbers)
        with pytest.raises(ValidationError, match="Er is al een organisatie met dit"):
            twice.full_clean()
    assert Organisation.objects.count() == 3


def test_only_finance_links_an_order_to_an_organisation(client, open_edition, staff_member):
    amersfoort = Organisation.objects.create(name="Gemeente Amersfoort")
    order = make_registration(
        open_edition, kvk_number="", invoice_organisation="Gemeente Amersfoort"
    ).order
    client.force_login(staff_member)
    page = client.get(reverse("admin:registrations_order_change", args=[order.pk])).content
    assert "Wacht op factuurgegevens" in page.decode()
    assert "Koppelen aan" not in page.decode()
    url = reverse("admin:registrations_order_debtor", args=[order.pk])
    assert client.post(url, {"organisation": amersfoort.pk}).status_code == 403
    order.refresh_from_db()
    assert order.debtor is None


class _Debtors:
    """The rows of the former payments.Debtor, as the data migration reads them."""

    def __init__(self, rows):
        self.rows = rows

    def order_by(self, *fields):
        return sorted(self.rows, key=lambda row: row.number)


def test_the_numbered_debtors_join_the_register_with_their_numbers(db):
    migration = import_module(
        "registrations.payments.migrations.0006_debtors_join_the_organisation_register"
    )
    Organisation.objects.create(name="Gemeente Utrecht (register)", kvk_number=KVK)
    debtors = [
        SimpleNamespace(key=f"kvk:{KVK}", organisation="Gemeente Utrecht", number=10001),
        SimpleNamespace(key="naam:gemeente zwolle", organisation="Gemeente  Zwolle", number=10002),
        SimpleNamespace(key="kvk:12345678", organisation="De Kern", number=10007),
    ]
    models = {
        ("payments", "Debtor"): SimpleNamespace(objects=_Debtors(debtors)),
        ("organisations", "Organisation"): Organisation,
    }
    migration.to_organisations(SimpleNamespace(get_model=lambda *key: models[key]), None)
    assert sorted(
        Organisation.objects.values_list("name", "name_key", "kvk_number", "debtor_number")
    ) == [
        ("De Kern", "de kern", "12345678", 10007),
        ("Gemeente  Zwolle", "gemeente zwolle", "", 10002),
        ("Gemeente Utrecht (register)", "gemeente utrecht (register)", KVK, 10001),
    ]


def test_a_correction_of_the_organisation_lets_its_held_orders_go(
    client, open_edition, invoicing, finance_user
):
    kern = Organisation.objects.create(name="Woonstichting De Kern", requires_po=True)
    order = make_registration(open_edition, po_number="").order
    order.link_debtor(kern)
    assert list(Order.objects.held_for_invoicing()) == [order]
    client.force_login(finance_user)
    response = client.post(
        reverse("admin:organisations_organisation_change", args=[kern.pk]),
        {
            "name": "Woonstichting De Kern",
            "kvk_number": "12345678",
            "invoice_country": "NL",
            "orders-TOTAL_FORMS": "1",
            "orders-INITIAL_FORMS": "1",
            "orders-0-id": order.pk,
            "orders-0-debtor": kern.pk,
        },
        follow=True,
    )
    assert f"Klaar om te factureren: {order.reference}" in response.content.decode()
    assert not Order.objects.held_for_invoicing().exists()
    assert issue_invoice(order.positions.get()).customer_kvk_number == "12345678"


def test_a_held_phone_sign_up_goes_out_by_itself_once_finance_links_the_organisation(
    client,
    open_edition,
    invoicing,
    finance_user,
    einvoice_rules,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    # The issue's "done when": an edition whose invoices leave at confirmation, a wijkagent
    # on a phone without the KvK number, and finance who links the organisation later.
    open_edition.invoice_moment = InvoiceMoment.AT_CONFIRMATION
    open_edition.save()
    with django_capture_on_commit_callbacks(execute=True):
        order = wijkagent(client, open_edition)
    assert not Invoice.objects.exists()
    held = OrderInvoicing.objects.get(order=order).held_reason
    assert held == f"{order.reference} wacht op factuurgegevens: {NO_IDENTIFIER}"
    assert [m for m in mailoutbox if m.subject.startswith("Factuur ")] == []

    police = Organisation.objects.create(
        name="Politie Midden-Nederland", kvk_number="27370237", invoice_country="NL"
    )
    client.force_login(finance_user)
    with django_capture_on_commit_callbacks(execute=True):
        linked = client.post(
            reverse("admin:registrations_order_debtor", args=[order.pk]),
            {"organisation": police.pk},
            follow=True,
        )
    assert "klaar om te factureren" in linked.content.decode()

    invoice = Invoice.objects.get()
    assert invoice.order == order and invoice.emailed_at is not None
    [mail] = [m for m in mailoutbox if m.subject.startswith("Factuur ")]
    assert mail.to == ["facturen@politie.example.nl"]
    assert einvoice.counts(einvoice.findings(ubl_bytes(invoice))) == {
        "si-ubl-2.0": {"fatal": 0, "warning": 0},
        "en16931": {"fatal": 0, "warning": 0},
    }
    assert (
        '<cbc:EndpointID schemeID="0106">27370237</cbc:EndpointID>' in ubl_bytes(invoice).decode()
    )


def test_a_held_order_of_an_edition_invoiced_by_hand_waits_for_finance_after_linking(
    client, open_edition, invoicing, finance_user, mailoutbox, django_capture_on_commit_callbacks
):
    assert open_edition.invoice_moment == InvoiceMoment.BY_HAND
    order = wijkagent(client, open_edition)
    police = Organisation.objects.create(name="Politie Midden-Nederland", kvk_number="27370237")
    client.force_login(finance_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:registrations_order_debtor", args=[order.pk]),
            {"organisation": police.pk},
        )
    assert not Invoice.objects.exists()
    assert not Order.objects.held_for_invoicing().exists()
