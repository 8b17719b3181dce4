"""E-invoices over Peppol through an access point (issue 27): the transmission's states as the
access point reports them, retries that send once, refusals with their rules on finance's
worklist, the channel per organisation, the copy by e-mail, and every step in the order's
history. The access point is a real HTTP server on 127.0.0.1 (tests/conftest.py,
LocalAccessPoint) answering as Storecove's API documents."""

import base64
import datetime
import hashlib
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from registrations.history.models import OrderLogEntry
from registrations.invoicing import sending
from registrations.invoicing.documents import Kind, ubl_bytes
from registrations.invoicing.einvoice import Finding
from registrations.invoicing.models import Invoice, InvoiceDocument
from registrations.transmission import tasks, transmitting
from registrations.transmission.models import (
    Attempt,
    Channel,
    ProviderEvent,
    Status,
    TransitionRefused,
    Transmission,
)
from tests.conftest import make_edition, make_issuer, make_registration, pdf_text

OIN = "00000001001234567000"
TRANSMISSIONS = reverse("admin:transmission_transmission_changelist")


@pytest.fixture
def peppol(invoicing, einvoice_rules, access_point):
    """A complete issuer, the official rules and our access point on 127.0.0.1."""
    return access_point


def gemeente_order(edition=None, **overrides):
    """An order of a gemeente known by its OIN only (no Peppol ID given)."""
    fields = {"kvk_number": "", "oin": OIN, "po_number": "4500012345", **overrides}
    return make_registration(edition or make_edition(), **fields).order


def send_order(order, capture):
    """The order's invoice job, as the worker runs it, with what it queues run at commit."""
    with capture(execute=True):
        sending.issue_and_send(order)
    return Invoice.objects.get(order=order)


def history(order):
    return list(
        OrderLogEntry.objects.filter(order=order, kind=OrderLogEntry.Kind.TRANSMISSION)
        .order_by("at", "pk")
        .values_list("text", flat=True)
    )


def later(seconds):
    return timezone.now() + datetime.timedelta(seconds=seconds)


# Done when: a gemeente with an OIN, end to end


def test_an_invoice_to_a_gemeente_goes_over_peppol_and_is_afgeleverd_only_when_delivered(
    peppol, mailoutbox, django_capture_on_commit_callbacks
):
    order = gemeente_order()
    invoice = send_order(order, django_capture_on_commit_callbacks)
    transmission = Transmission.objects.get(invoice=invoice)

    # Handed over: the stored e-invoice, byte for byte, to the buyer's OIN, with our key.
    assert transmission.status == Status.HANDED_OVER
    assert transmission.get_status_display() == "aangeboden aan accesspoint"
    [(key, sent)] = peppol.delivered
    assert key == str(transmission.idempotency_key)
    document = base64.b64decode(sent["document"]["rawDocumentData"]["document"])
    assert hashlib.sha256(document).hexdigest() == invoice.ubl_sha256 == transmission.ubl_sha256
    assert document == ubl_bytes(invoice)
    assert sent["routing"]["eIdentifiers"] == [{"scheme": "NL:OINO", "id": OIN}]
    assert sent["legalEntityId"] == 4242
    assert sent["document"]["documentType"] == "invoice"
    assert transmission.validated_at is not None

    # The e-mail alongside is a copy, and says so; its PDF is marked, the stored one is not.
    [mail] = mailoutbox
    assert mail.subject == f"Kopie: Factuur {invoice.number} van Platform31"
    assert "Dit is een kopie" in mail.body
    [(name, content, mimetype)] = mail.attachments
    assert name == invoice.filename.removesuffix(".pdf") + "-kopie.pdf"
    assert "KOPIE" in pdf_text(content)
    assert not PdfReader(io.BytesIO(content)).attachments
    stored = bytes(InvoiceDocument.objects.get(invoice=invoice, kind=Kind.PDF).content)
    assert hashlib.sha256(stored).hexdigest() == invoice.pdf_sha256
    assert "KOPIE" not in pdf_text(stored)

    # Not "afgeleverd" before the access point says so; then it is.
    call_command("transmit_invoices", stdout=io.StringIO())
    transmission.refresh_from_db()
    assert transmission.status == Status.HANDED_OVER
    peppol.report_delivered(transmission.provider_message_id)
    call_command("transmit_invoices", stdout=io.StringIO())
    transmission.refresh_from_db()
    assert transmission.status == Status.DELIVERED
    assert transmission.get_status_display() == "afgeleverd"
    assert transmission.delivered_at is not None
    assert not Transmission.objects.worklist().exists()
    assert peppol.events == []

    # A late rejection by the buyer shows the rules and puts it back on the worklist.
    peppol.report_buyer(
        transmission.provider_message_id, "RE", ["BR-NL-2 verplichtingnummer ontbreekt"]
    )
    call_command("transmit_invoices", stdout=io.StringIO())
    transmission.refresh_from_db()
    assert transmission.status == Status.REJECTED
    assert transmission.get_status_display() == "afgewezen door klant"
    assert transmission.rules == ["BR-NL-2 verplichtingnummer ontbreekt"]
    assert list(Transmission.objects.worklist()) == [transmission]

    # Every step in the order's history, with the copy mail among them.
    assert history(order) == [
        f"Factuur {invoice.number}: in de wachtrij voor Peppol naar 0190:{OIN}",
        f"Factuur {invoice.number}: aangeboden aan het accesspoint (poging 1, bericht "
        f"{transmission.provider_message_id})",
        f"Factuur {invoice.number}: afgeleverd bij het accesspoint van de klant",
        f"Factuur {invoice.number}: afgewezen door de klant: BR-NL-2 verplichtingnummer ontbreekt",
    ]
    assert OrderLogEntry.objects.filter(
        order=order, text=f"Factuur {invoice.number} per e-mail verstuurd (kopie)"
    ).exists()
    assert len(peppol.delivered) == 1


def test_finance_sees_the_rejection_with_its_rules_on_the_worklist_and_the_overview(
    peppol, client, finance_user, django_capture_on_commit_callbacks
):
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    transmission = invoice.transmission
    peppol.report_buyer(transmission.provider_message_id, "RE", ["Verplichtingnummer onbekend"])
    call_command("transmit_invoices", stdout=io.StringIO())
    client.force_login(finance_user)

    page = client.get(TRANSMISSIONS, {"werklijst": "aandacht"}).content.decode()
    assert invoice.number in page
    assert "Verplichtingnummer onbekend" in page
    assert "afgewezen door klant" in page
    overview = client.get(reverse("admin:index")).content.decode()
    assert (
        "E-facturen via Peppol die aandacht vragen (geweigerd of langer dan 24 uur onderweg)"
        in overview
    )
    assert f"{TRANSMISSIONS}?werklijst=aandacht" in overview


def test_each_state_has_its_own_word():
    labels = [status.label for status in Status]
    assert len(set(labels)) == len(labels)
    assert Status.DELIVERED.label == "afgeleverd"
    assert Status.HANDED_OVER.label != Status.DELIVERED.label


# Retries


def test_a_429_is_retried_after_its_retry_after_and_the_invoice_is_sent_once(
    peppol, django_capture_on_commit_callbacks
):
    peppol.script.append("429:120")
    order = gemeente_order()
    invoice = send_order(order, django_capture_on_commit_callbacks)
    transmission = invoice.transmission
    assert transmission.status == Status.RETRYING
    assert transmission.get_status_display() == "mislukt, wordt opnieuw geprobeerd"
    assert "HTTP 429" in transmission.last_error
    wait = transmission.next_attempt_at - timezone.now()
    assert datetime.timedelta(seconds=110) < wait <= datetime.timedelta(seconds=120)

    # Not before the wait: nothing is due, nothing is sent.
    assert transmitting.attempt(transmission.pk) is None
    assert tasks.queue_due() == 0
    assert transmitting.attempt(transmission.pk, now=later(121)).status == Status.HANDED_OVER
    # Once handed over, later rounds send nothing.
    assert transmitting.attempt(transmission.pk, now=later(3600)) is None

    assert len(peppol.requests) == 2
    assert len(peppol.delivered) == 1
    attempts = list(Attempt.objects.filter(transmission=transmission))
    assert [a.outcome for a in attempts] == [Attempt.Outcome.RETRY, Attempt.Outcome.HANDED_OVER]
    assert [a.http_status for a in attempts] == [429, 200]
    assert len({a.key for a in attempts}) == 2
    assert {r["idempotencyGuid"] for r in peppol.requests} == {str(transmission.idempotency_key)}
    assert "poging 1 mislukt (accesspoint antwoordde HTTP 429)" in " ".join(history(order))


def test_a_500_is_retried_with_backoff(peppol, django_capture_on_commit_callbacks):
    peppol.script.extend(["500", "500"])
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    transmission = invoice.transmission
    first_wait = transmission.next_attempt_at - timezone.now()
    transmission = transmitting.attempt(transmission.pk, now=later(61))
    assert transmission.status == Status.RETRYING
    assert transmission.next_attempt_at - timezone.now() > first_wait
    assert transmitting.attempt(transmission.pk, now=later(400)).status == Status.HANDED_OVER
    assert len(peppol.delivered) == 1
    assert transmission.attempts.count() == 3


def test_a_timeout_is_retried(peppol, django_capture_on_commit_callbacks):
    peppol.script.append("slow")
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    transmission = invoice.transmission
    assert transmission.status == Status.RETRYING
    assert transmission.last_error == "accesspoint antwoordde niet op tijd"
    assert peppol.delivered == []
    assert transmitting.attempt(transmission.pk, now=later(61)).status == Status.HANDED_OVER
    assert len(peppol.delivered) == 1


def test_the_same_submission_twice_is_delivered_once(peppol, django_capture_on_commit_callbacks):
    # The access point took the document but its answer was lost: the next attempt sends
    # the same idempotency key and gets the first submission back.
    peppol.script.append("lost")
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    transmission = invoice.transmission
    assert transmission.status == Status.RETRYING
    transmission = transmitting.attempt(transmission.pk, now=later(61))
    assert transmission.status == Status.HANDED_OVER
    assert len(peppol.requests) == 2
    [(key, _sent)] = peppol.delivered
    assert transmission.provider_message_id == peppol.guids[key]


# Verdicts


def test_the_access_points_refusal_is_final_with_its_rules(
    peppol, django_capture_on_commit_callbacks
):
    peppol.script.append("422")
    order = gemeente_order()
    invoice = send_order(order, django_capture_on_commit_callbacks)
    transmission = invoice.transmission
    assert transmission.status == Status.REFUSED
    assert transmission.get_status_display() == "geweigerd door accesspoint"
    assert transmission.rules == [
        "BR-NL-2 BuyerReference of OrderReference ontbreekt",
        "PEPPOL-EN16931-R010 Buyer electronic address",
    ]
    assert transmission.next_attempt_at is None
    assert list(Transmission.objects.worklist()) == [transmission]
    # Not retried by itself.
    assert transmitting.attempt(transmission.pk, now=later(86400)) is None
    assert tasks.queue_due() == 0
    assert "BR-NL-2" in history(order)[-1]


def test_a_delivery_that_failed_later_is_refused_with_the_reason(
    peppol, django_capture_on_commit_callbacks
):
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    peppol.report(
        {
            "event_type": "document_submission",
            "event": "failed",
            "guid": invoice.transmission.provider_message_id,
            "details": "Receiver access point unreachable",
        }
    )
    call_command("transmit_invoices", stdout=io.StringIO())
    transmission = Transmission.objects.get(invoice=invoice)
    assert transmission.status == Status.REFUSED
    assert transmission.rules == ["Receiver access point unreachable"]
    assert transmission in Transmission.objects.worklist()


def test_a_receiver_not_on_peppol_is_refused_before_anything_is_sent(
    peppol, django_capture_on_commit_callbacks
):
    peppol.registered = False
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    assert invoice.transmission.status == Status.REFUSED
    assert invoice.transmission.rules == [f"0190:{OIN} is niet geregistreerd voor e-facturen"]
    assert peppol.requests == []


def test_a_receiver_lookup_that_failed_is_made_again_at_the_next_attempt(
    peppol, django_capture_on_commit_callbacks
):
    peppol.discovery_script.append("500")
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    assert invoice.transmission.status == Status.RETRYING
    assert peppol.requests == []
    # Meanwhile the receiver turns out not to be on Peppol: the next attempt asks again.
    peppol.registered = False
    transmission = transmitting.attempt(invoice.transmission.pk, now=later(61))
    assert transmission.status == Status.REFUSED
    assert transmission.rules == [f"0190:{OIN} is niet geregistreerd voor e-facturen"]
    assert peppol.requests == []


def test_an_e_invoice_that_fails_the_rules_is_not_sent(
    peppol, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(
        transmitting,
        "findings",
        lambda content: [Finding("si-ubl-2.0", "BR-NL-2", "fatal", "BuyerReference")],
    )
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    assert invoice.transmission.status == Status.REFUSED
    assert invoice.transmission.rules == ["BR-NL-2"]
    assert peppol.requests == []


def test_a_damaged_stored_e_invoice_is_not_sent(peppol):
    invoice = sending.issue(gemeente_order())
    transmission, _ = transmitting.queue(invoice)
    InvoiceDocument.objects.filter(invoice=invoice, kind=Kind.UBL).update(content=b"<Invoice/>")
    transmission = transmitting.attempt(transmission.pk)
    assert transmission.status == Status.RETRYING
    assert "klopt niet met de controlesom" in transmission.last_error
    assert peppol.requests == []


# Reports


def test_a_replayed_report_changes_nothing(peppol, django_capture_on_commit_callbacks):
    order = gemeente_order()
    invoice = send_order(order, django_capture_on_commit_callbacks)
    instance = peppol.report_delivered(invoice.transmission.provider_message_id)
    call_command("transmit_invoices", stdout=io.StringIO())
    steps = history(order)
    peppol.report(json.loads(instance["body"]), guid=instance["guid"])
    out = io.StringIO()
    call_command("transmit_invoices", stdout=out)
    assert "Meldingen van het accesspoint: 1, verwerkt: 0." in out.getvalue()
    assert history(order) == steps
    assert ProviderEvent.objects.filter(event_id=instance["guid"]).count() == 1
    assert Transmission.objects.get(invoice=invoice).status == Status.DELIVERED


def test_a_report_about_no_transmission_of_ours_changes_nothing(
    peppol, django_capture_on_commit_callbacks
):
    # Reports are fetched from the access point over our own authenticated connection, so
    # there is no public URL on which a forged status could arrive; a report that names a
    # message we never sent is stored and changes nothing.
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    peppol.report_delivered("a0000000-0000-0000-0000-000000000000")
    call_command("transmit_invoices", stdout=io.StringIO())
    assert Transmission.objects.get(invoice=invoice).status == Status.HANDED_OVER
    assert peppol.events == []


def test_reports_are_fetched_with_our_key_only(peppol, settings):
    settings.PEPPOL_API_KEY = "een-verkeerde-sleutel"
    err = io.StringIO()
    call_command("transmit_invoices", stdout=io.StringIO(), stderr=err)
    assert (
        "Meldingen niet opgehaald: accesspoint weigert de API-sleutel (HTTP 401)" in err.getvalue()
    )


# Channel


def test_a_company_known_by_its_kvk_number_gets_the_original_by_e_mail(
    peppol, mailoutbox, django_capture_on_commit_callbacks
):
    order = make_registration(make_edition()).order
    invoice = send_order(order, django_capture_on_commit_callbacks)
    assert invoice.customer_peppol_id == f"0106:{invoice.customer_kvk_number}"
    assert not Transmission.objects.exists()
    [mail] = mailoutbox
    assert mail.subject == f"Factuur {invoice.number} van Platform31"
    assert [name for name, *_ in mail.attachments] == [invoice.filename, invoice.ubl_filename]
    assert peppol.requests == []


def test_an_organisation_with_its_own_peppol_id_gets_it_over_peppol(
    peppol, django_capture_on_commit_callbacks
):
    order = make_registration(make_edition(), peppol_id="9944:NL123456789B01").order
    invoice = send_order(order, django_capture_on_commit_callbacks)
    assert invoice.transmission.channel == Channel.PEPPOL
    assert peppol.delivered[0][1]["routing"]["eIdentifiers"] == [
        {"scheme": "NL:VAT", "id": "NL123456789B01"}
    ]


def test_without_an_access_point_every_invoice_leaves_by_e_mail(
    invoicing, mailoutbox, django_capture_on_commit_callbacks
):
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    assert not Transmission.objects.exists()
    assert mailoutbox[0].subject.startswith("Factuur ")
    assert invoice.emailed_at is not None


def test_finance_sends_a_rejected_invoice_by_e_mail_as_the_original(
    peppol, client, finance_user, mailoutbox, django_capture_on_commit_callbacks
):
    peppol.script.append("422")
    order = gemeente_order()
    invoice = send_order(order, django_capture_on_commit_callbacks)
    client.force_login(finance_user)
    response = client.post(
        TRANSMISSIONS,
        {"action": "send_by_email", "_selected_action": [invoice.transmission.pk]},
    )
    assert response.status_code == 302
    transmission = Transmission.objects.get(invoice=invoice)
    assert (transmission.channel, transmission.status) == (Channel.EMAIL, Status.EMAILED)
    assert transmission.channel_set_by == finance_user.username
    assert not Transmission.objects.worklist().exists()
    original = mailoutbox[-1]
    assert original.subject == f"Factuur {invoice.number} van Platform31"
    assert "kopie" not in original.body.lower()
    assert [name for name, *_ in original.attachments] == [invoice.filename, invoice.ubl_filename]
    assert history(order)[-1].endswith(
        "per e-mail verstuurd als origineel (gekozen door financiën)"
    )

    # And back to Peppol once the cause is fixed: a new round, the same invoice.
    client.post(TRANSMISSIONS, {"action": "send_by_peppol", "_selected_action": [transmission.pk]})
    transmission.refresh_from_db()
    assert transmission.channel == Channel.PEPPOL
    assert transmission.status in {Status.QUEUED, Status.HANDED_OVER}


def test_finance_sends_a_companys_invoice_over_peppol_from_the_invoices_list(
    peppol, client, finance_user, django_capture_on_commit_callbacks
):
    order = make_registration(make_edition()).order
    invoice = send_order(order, django_capture_on_commit_callbacks)
    assert not Transmission.objects.exists()
    client.force_login(finance_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:invoicing_invoice_changelist"),
            {"action": "send_over_peppol", "_selected_action": [invoice.pk]},
        )
    assert response.status_code == 302
    transmission = Transmission.objects.get(invoice=invoice)
    assert transmission.channel_set_by == finance_user.username
    assert transmission.status == Status.HANDED_OVER
    assert peppol.delivered[0][1]["routing"]["eIdentifiers"] == [
        {"scheme": "NL:KVK", "id": invoice.customer_kvk_number}
    ]
    assert (
        f"in de wachtrij voor Peppol naar 0106:{invoice.customer_kvk_number}" in history(order)[0]
    )


def test_an_invoice_the_buyer_accepted_is_not_mailed_again_as_original(
    peppol, mailoutbox, finance_user, django_capture_on_commit_callbacks
):
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    peppol.report_buyer(invoice.transmission.provider_message_id, "AP")
    call_command("transmit_invoices", stdout=io.StringIO())
    transmission = Transmission.objects.get(invoice=invoice)
    assert transmission.get_status_display() == "geaccepteerd door klant"
    mails = len(mailoutbox)
    with pytest.raises(TransitionRefused):
        transmitting.choose_email(transmission, finance_user)
    assert len(mailoutbox) == mails
    transmission.refresh_from_db()
    assert (transmission.channel, transmission.status) == (Channel.PEPPOL, Status.ACCEPTED)


def test_staff_without_finance_rights_do_not_see_transmissions(client, staff_member):
    client.force_login(staff_member)
    assert client.get(TRANSMISSIONS).status_code == 403


def test_in_flight_for_a_day_lands_on_the_worklist(peppol, django_capture_on_commit_callbacks):
    invoice = send_order(gemeente_order(), django_capture_on_commit_callbacks)
    transmission = invoice.transmission
    assert not Transmission.objects.worklist().exists()
    assert list(Transmission.objects.worklist(later(25 * 3600))) == [transmission]
    out = io.StringIO()
    call_command("transmit_invoices", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "Aan de beurt: 0; vraagt aandacht: 0."


# The secret


def test_the_api_key_is_never_logged_nor_written_down(
    peppol, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    peppol.script.extend(["429:1", "500", "422"])
    order = gemeente_order()
    invoice = send_order(order, django_capture_on_commit_callbacks)
    transmitting.attempt(invoice.transmission.pk, now=later(5))
    transmitting.attempt(invoice.transmission.pk, now=later(3600))
    transmission = Transmission.objects.get(invoice=invoice)
    assert transmission.status == Status.REFUSED
    key = peppol.KEY
    assert key not in caplog.text
    assert not OrderLogEntry.objects.filter(text__contains=key).exists()
    assert key not in transmission.last_error
    assert not Attempt.objects.filter(error__contains=key).exists()


# Two workers


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_db_workers_never_send_the_same_invoice_twice(postgres, access_point, einvoice_rules):
    make_issuer()
    edition = make_edition()
    invoices = [sending.issue(gemeente_order(edition)) for _ in range(8)]
    pks = []
    for invoice in invoices:
        transmission, _ = transmitting.queue(invoice)
        pks.append(transmission.pk)
    # Each transmission queued twice, as a retried job and the cron round would.
    database = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        ),
        "DJANGO_TASKS_BACKEND": "database",
        "PEPPOL_API_URL": access_point.url,
        "PEPPOL_API_KEY": access_point.KEY,
        "PEPPOL_LEGAL_ENTITY_ID": access_point.LEGAL_ENTITY,
        "EINVOICE_RULES_DIR": str(einvoice_rules),
    }
    enqueue = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", ENQUEUE.format(pks=pks * 2)],
        env=env,
        cwd=Path(django_settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert enqueue.returncode == 0, enqueue.stderr
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"],
            env=env,
            cwd=Path(django_settings.BASE_DIR),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        _out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    connection.close()

    assert len(access_point.delivered) == len(pks)
    assert len({key for key, _ in access_point.delivered}) == len(pks)
    assert len(access_point.requests) == len(pks)
    for transmission in Transmission.objects.filter(pk__in=pks):
        assert transmission.status == Status.HANDED_OVER
        assert transmission.attempts.count() == 1


ENQUEUE = """
from registrations.transmission.tasks import transmit
for pk in {pks}:
    transmit.enqueue(pk)
"""
