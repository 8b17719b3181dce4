"""Finance in the admin: uploads the month's statement, sees the invoices paid, works the short
queue of what did not match, and reads what is outstanding."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registrations.invoicing.issuing import issue_invoice
from registrations.payments import matching
from registrations.payments.models import (
    Allocation,
    BankStatement,
    CostCentre,
    LedgerAccount,
    Payment,
)
from tests.conftest import camt053, camt_transaction, make_registration

TOTAL = Decimal("2178.00")
UPLOAD = reverse("admin:payments_bankstatement_upload")


@pytest.fixture
def invoices(open_edition, invoicing):
    return [
        issue_invoice(make_registration(open_edition, invoice_organisation=name))
        for name in ["Gemeente Zwolle", "Gemeente Ede"]
    ]


def statement(*entries):
    return SimpleUploadedFile("afschrift.xml", camt053(list(entries)), "application/xml")


def line(amount, remittance, name="Gemeente Zwolle"):
    return {
        "amount": Decimal(amount),
        "transactions": [camt_transaction(remittance=remittance, name=name)],
    }


def test_finance_uploads_a_statement_and_sees_the_invoice_paid(client, finance_user, invoices):
    zwolle, ede = invoices
    client.force_login(finance_user)
    response = client.post(
        UPLOAD,
        {"file": statement(line(TOTAL, f"factuur {zwolle.number}"), line("99.00", "?", "Ede"))},
        follow=True,
    )
    assert "2 nieuwe regel(s), waarvan 1 gekoppeld" in response.content.decode()
    zwolle.refresh_from_db()
    assert zwolle.paid_on is not None
    page = client.get(reverse("admin:invoicing_invoice_changelist"))
    html = page.content.decode()
    assert "betaald" in html and "open" in html
    change = client.get(reverse("admin:invoicing_invoice_change", args=[zwolle.pk]))
    assert "bankafschrift" in change.content.decode()  # the payment, shown on the invoice


def test_a_hostile_upload_gets_a_dutch_message_and_stores_nothing(client, finance_user, invoices):
    client.force_login(finance_user)
    evil = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&x;</Document>"""
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("evil.xml", evil)})
    assert response.status_code == 200
    assert "DTD, entiteiten of externe verwijzingen" in response.content.decode()
    assert not BankStatement.objects.exists() and not Payment.objects.exists()


def test_staff_outside_finance_cannot_upload(client, staff_member, invoices):
    client.force_login(staff_member)
    response = client.post(UPLOAD, {"file": statement(line(TOTAL, invoices[0].number))})
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_finance_finds_the_invoice_by_name_and_assigns_the_payment(client, finance_user, invoices):
    zwolle, ede = invoices
    client.force_login(finance_user)
    client.post(UPLOAD, {"file": statement(line(TOTAL, "cursus wijkontwikkeling", "Gem. Ede"))})
    payment = Payment.objects.unmatched().get()
    url = reverse("admin:payments_payment_assign", args=[payment.pk])
    page = client.get(url, {"q": "Ede"})
    assert ede.number in page.content.decode() and zwolle.number not in page.content.decode()
    by_amount = client.get(url, {"q": "2.178,00"})
    assert zwolle.number in by_amount.content.decode()
    client.post(url, {"assign": "1", "invoices": [ede.pk]})
    assert Allocation.objects.get().invoice == ede
    again = client.post(url, {"assign": "1", "invoices": [zwolle.pk]}, follow=True)
    assert "al gekoppeld" in again.content.decode()
    assert Allocation.objects.count() == 1


def test_finance_marks_a_payment_not_ours(client, finance_user, invoices):
    client.force_login(finance_user)
    client.post(UPLOAD, {"file": statement(line("12.50", "abonnement", "Krant"))})
    payment = Payment.objects.get()
    url = reverse("admin:payments_payment_assign", args=[payment.pk])
    client.post(url, {"not_ours": "1", "reason": "Abonnement, andere afdeling"})
    payment.refresh_from_db()
    assert (payment.state, payment.note) == (Payment.State.NOT_OURS, "Abonnement, andere afdeling")


def test_the_overview_shows_what_is_outstanding_per_edition_by_lateness(
    client, finance_user, open_edition, invoicing
):
    now = datetime.datetime.now(datetime.UTC)
    issue_invoice(make_registration(open_edition), at=now - datetime.timedelta(days=75))  # 45 late
    issue_invoice(make_registration(open_edition), at=now - datetime.timedelta(days=1))  # not due
    client.force_login(finance_user)
    page = client.get(reverse("admin:payments_payment_overview"))
    report = page.context["report"]
    assert report["count"] == 2
    assert report["totals"] == [TOTAL, 0, TOTAL, 0]
    assert report["total"] == 2 * TOTAL
    assert "€ 4.356,00" in page.content.decode()


def test_the_bookkeeping_export_carries_debtor_accounts_cost_centre_and_payments(
    client, finance_user, open_edition, invoicing
):
    LedgerAccount.objects.create(vat_rate=Decimal("21"), revenue_account="8000", vat_code="V21")
    LedgerAccount.objects.create(vat_rate=Decimal("9"), revenue_account="8010", vat_code="V9")
    CostCentre.objects.create(edition=open_edition, code="WP-2022")
    utrecht = issue_invoice(make_registration(open_edition))
    zwolle = issue_invoice(
        # Without KvK number (a Dutch buyer without one waits for finance): known by its name.
        make_registration(
            open_edition,
            invoice_organisation="Gemeente Zwolle",
            kvk_number="",
            invoice_country="BE",
            invoice_postcode="2000",
        ),
        lines=[("Werkplaats", 1, "1500", "21"), ("Maaltijden", 1, "300", "9")],
    )
    again = issue_invoice(make_registration(open_edition))  # Utrecht again: same debtor
    matching.record_payment(utrecht, utrecht.invoice_date, amount="1000.00")
    client.force_login(finance_user)
    url = reverse("admin:invoicing_invoice_changelist")
    data = {"action": "export_bookkeeping", "index": 0}
    data["_selected_action"] = [utrecht.pk, zwolle.pk, again.pk]
    response = client.post(url, data)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header[-6:] == [
        "Debiteurnummer",
        "Omzetrekening",
        "Btw-code",
        "Kostenplaats",
        "Betaald",
        "Openstaand",
    ]
    status = header.index("Status")
    body = [(r[0], r[7], r[status], *r[-6:]) for r in rows[1:]]
    assert body == [
        (
            utrecht.number,
            "21",
            "deels betaald",
            "10001",
            "8000",
            "V21",
            "WP-2022",
            "1000,00",
            "1178,00",
        ),
        (zwolle.number, "21", "open", "10002", "8000", "V21", "WP-2022", "0,00", "2142,00"),
        (zwolle.number, "9", "open", "10002", "8010", "V9", "WP-2022", "0,00", "2142,00"),
        (again.number, "21", "open", "10001", "8000", "V21", "WP-2022", "0,00", "2178,00"),
    ]
    payments = client.post(
        reverse("admin:payments_payment_changelist"),
        {
            "action": "export_payments",
            "index": 0,
            "_selected_action": list(Payment.objects.values_list("pk", flat=True)),
        },
    )
    lines = list(csv.reader(io.StringIO(payments.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[1][1] == "1000,00" and lines[1][-3:] == [utrecht.number, "10001", "1000,00"]


def test_an_oversized_upload_is_refused_before_it_is_read(client, finance_user, invoices):
    client.force_login(finance_user)
    response = client.post(
        UPLOAD,
        {"file": statement(line(TOTAL, invoices[0].number))},
        CONTENT_LENGTH=str(30 * 1024 * 1024),
    )
    assert response.status_code == 200
    assert "groter dan 25 MB" in response.content.decode()
    assert not Payment.objects.exists()


def test_the_invoice_list_filters_by_what_the_payments_say(client, finance_user, invoices):
    partly, untouched = invoices
    matching.record_payment(partly, partly.invoice_date, amount="100.00")
    client.force_login(finance_user)
    url = reverse("admin:invoicing_invoice_changelist")
    found = client.get(url, {"status": "partial"}).context["cl"].result_list
    assert [i.pk for i in found] == [partly.pk]
    assert not client.get(url, {"status": "overpaid"}).context["cl"].result_list


def test_the_payment_list_finds_an_amount_typed_the_dutch_way(client, finance_user, invoices):
    client.force_login(finance_user)
    client.post(UPLOAD, {"file": statement(line(TOTAL, "x"), line("12.50", "y", "Krant"))})
    url = reverse("admin:payments_payment_changelist")
    found = client.get(url, {"q": "2.178,00"}).context["cl"].result_list
    assert [p.amount for p in found] == [TOTAL]
