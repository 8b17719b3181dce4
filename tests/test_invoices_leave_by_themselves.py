"""Invoices that leave by themselves (issue 23, item 4): per edition by hand, at
confirmation or on a date; one job per order that issues and mails once; held orders; the
orders list's actions; "betaalt na afloop"; what participants are told."""

import datetime
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from programme.models import InvoiceMoment, amsterdam_date
from registrations.history.models import OrderLogEntry
from registrations.invoicing import jobs, sending, tasks
from registrations.invoicing.models import BulkJob, Invoice, OrderInvoicing
from registrations.models import Registration
from registrations.payments import reminders
from registrations.payments.models import ReminderSettings
from tests.conftest import make_edition, make_issuer, make_registration, sign_up_data
from werkplaats import formats

ORDERS = reverse("admin:registrations_order_changelist")
REGISTRATIONS = reverse("admin:registrations_registration_changelist")


def invoice_mails(outbox):
    return [message for message in outbox if message.subject.startswith("Factuur ")]


def today():
    return amsterdam_date(timezone.now())


def with_colleague(**overrides):
    data = sign_up_data(**overrides)
    data["collega-TOTAL_FORMS"] = "1"
    data["collega-INITIAL_FORMS"] = "0"
    data["collega-0-first_name"] = "Pieter"
    data["collega-0-last_name"] = "de Vries"
    data["collega-0-email"] = "pieter@gemeente.example.nl"
    data["collega-0-overnight_stay"] = "nee"
    return data


# The moments


def test_by_hand_edition_issues_and_mails_nothing_at_sign_up(
    client, invoicing, mailoutbox, django_capture_on_commit_callbacks
):
    edition = make_edition()
    assert edition.invoice_moment == InvoiceMoment.BY_HAND
    url = reverse("registrations:register", args=[edition.slug])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, sign_up_data()).status_code == 302
    assert Registration.objects.confirmed().count() == 1
    assert Invoice.objects.count() == 0
    assert invoice_mails(mailoutbox) == []


def test_at_confirmation_the_sign_up_issues_and_mails_the_order_invoice_once(
    client, invoicing, mailoutbox, django_capture_on_commit_callbacks
):
    edition = make_edition(invoice_moment=InvoiceMoment.AT_CONFIRMATION)
    url = reverse("registrations:register", args=[edition.slug])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, sign_up_data()).status_code == 302

    invoice = Invoice.objects.get()
    assert invoice.order == Registration.objects.get().order
    assert invoice.emailed_at is not None
    [mail] = invoice_mails(mailoutbox)
    assert mail.to == ["facturen@utrecht.example.nl"]
    assert mail.subject == f"Factuur {invoice.number} van Platform31"
    assert mail.attachments[0][0] == invoice.filename

    # The job queued again (a retried task) finds nothing to do.
    assert "niets te doen" in tasks.invoice_order.call(invoice.order_id)["done"]
    assert Invoice.objects.count() == 1
    assert len(invoice_mails(mailoutbox)) == 1


def test_at_confirmation_staff_confirming_from_the_waiting_list_invoices_that_participant(
    client, staff_member, invoicing, mailoutbox, django_capture_on_commit_callbacks
):
    edition = make_edition(
        capacity=2, invoice_moment=InvoiceMoment.AT_CONFIRMATION, waiting_list_offers=False
    )
    waiting = make_registration(edition, status="waiting")
    client.force_login(staff_member)
    data = {"action": "confirm_from_waiting_list", "_selected_action": [waiting.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(REGISTRATIONS, {**data, "apply": "1"})

    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.CONFIRMED
    invoice = Invoice.objects.get()
    assert [line.registration_id for line in invoice.lines.all()] == [waiting.pk]
    assert [mail.to for mail in invoice_mails(mailoutbox)] == [["facturen@utrecht.example.nl"]]


def test_at_confirmation_a_reinstated_participant_is_invoiced_once(
    client, staff_member, invoicing, mailoutbox, django_capture_on_commit_callbacks
):
    edition = make_edition(invoice_moment=InvoiceMoment.AT_CONFIRMATION)
    cancelled = make_registration(edition, status="cancelled")
    client.force_login(staff_member)
    data = {"action": "reinstate_registrations", "_selected_action": [cancelled.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(REGISTRATIONS, {**data, "apply": "1"})
    cancelled.refresh_from_db()
    assert cancelled.status == Registration.Status.CONFIRMED
    assert Invoice.objects.get().order == cancelled.order
    assert len(invoice_mails(mailoutbox)) == 1


def test_at_confirmation_an_accepted_offer_invoices_the_participant(
    client, invoicing, mailoutbox, django_capture_on_commit_callbacks
):
    edition = make_edition(capacity=1, invoice_moment=InvoiceMoment.AT_CONFIRMATION)
    first = make_registration(edition)
    waiting = make_registration(edition)
    with django_capture_on_commit_callbacks(execute=True):
        first.cancel()
    offer = waiting.offers.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registrations:accept_offer", args=[offer.token]))
    assert response.status_code == 302
    invoice = Invoice.objects.get()
    assert invoice.order == waiting.order
    assert len(invoice_mails(mailoutbox)) == 1


def test_on_date_the_command_issues_each_due_order_once(
    invoicing, mailoutbox, django_capture_on_commit_callbacks
):
    edition = make_edition(invoice_moment=InvoiceMoment.ON_DATE, invoice_on=today())
    later = make_edition(
        invoice_moment=InvoiceMoment.ON_DATE, invoice_on=today() + datetime.timedelta(days=1)
    )
    due = [make_registration(edition), make_registration(edition)]
    not_yet = make_registration(later)
    by_hand = make_registration(make_edition())

    for _run in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("invoice_due_orders", stdout=open("/dev/null", "w"))

    invoiced = set(Invoice.objects.values_list("order_id", flat=True))
    assert invoiced == {registration.order_id for registration in due}
    assert not_yet.order_id not in invoiced and by_hand.order_id not in invoiced
    assert len(invoice_mails(mailoutbox)) == 2
    assert list(sending.due_orders()) == []


def test_on_date_the_dry_run_lists_and_queues_nothing(
    invoicing, mailoutbox, django_capture_on_commit_callbacks, capsys
):
    edition = make_edition(invoice_moment=InvoiceMoment.ON_DATE, invoice_on=today())
    registration = make_registration(edition)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("invoice_due_orders", "--dry-run")
    assert f"zou in de wachtrij zetten: {registration.order.reference}" in capsys.readouterr().out
    assert Invoice.objects.count() == 0


def test_an_edition_on_a_date_needs_the_date(db):
    edition = make_edition()
    edition.invoice_moment = InvoiceMoment.ON_DATE
    with pytest.raises(Exception, match="Kies de datum"):
        edition.full_clean()


def test_a_duplicated_edition_sends_its_invoices_as_many_weeks_later(db):
    edition = make_edition(invoice_moment=InvoiceMoment.ON_DATE, invoice_on=today())
    copy = edition.duplicate(weeks=52)
    assert copy.invoice_moment == InvoiceMoment.ON_DATE
    assert copy.invoice_on == today() + datetime.timedelta(weeks=52)


def test_the_offer_page_says_when_the_invoice_follows(client, db):
    edition = make_edition(capacity=1, invoice_moment=InvoiceMoment.AT_CONFIRMATION)
    first = make_registration(edition)
    waiting = make_registration(edition)
    first.cancel()
    offer = waiting.offers.get()
    html = client.get(reverse("registrations:offer", args=[offer.token])).content.decode()
    assert "de factuur volgt direct na de bevestiging per e-mail aan" in html


# The job


def test_the_job_run_twice_issues_one_invoice_and_sends_one_mail(invoicing, mailoutbox):
    edition = make_edition()
    registration = make_registration(edition)
    first = tasks.invoice_order.call(registration.order_id)
    second = tasks.invoice_order.call(registration.order_id)
    invoice = Invoice.objects.get()
    assert first == {
        "done": f"{registration.order.reference}: factuur {invoice.number}; gemaild naar "
        f"facturen@utrecht.example.nl: {invoice.number}"
    }
    assert "niets te doen" in second["done"]
    assert len(invoice_mails(mailoutbox)) == 1


def test_a_colleague_confirmed_after_the_invoice_gets_an_invoice_of_their_own(
    invoicing, mailoutbox
):
    edition = make_edition()
    registration = make_registration(edition)
    tasks.invoice_order.call(registration.order_id)
    colleague = Registration(
        first_name="Pieter",
        last_name="de Vries",
        email="pieter@gemeente.example.nl",
        organisation="Gemeente Utrecht",
    )
    Registration.objects.place(registration.order, [colleague], by_staff=True)
    tasks.invoice_order.call(registration.order_id)
    invoices = list(Invoice.objects.order_by("number"))
    assert [[line.registration_id for line in i.lines.all()] for i in invoices] == [
        [registration.pk],
        [colleague.pk],
    ]
    assert len(invoice_mails(mailoutbox)) == 2


def test_an_invoice_the_mail_server_refused_is_mailed_by_the_next_run(
    invoicing, mailoutbox, monkeypatch
):
    registration = make_registration(make_edition())
    monkeypatch.setattr(sending.emails, "send_invoice", lambda invoice: False)
    with pytest.raises(sending.MailNotSent):
        tasks.invoice_order.call(registration.order_id)
    invoice = Invoice.objects.get()
    assert invoice.emailed_at is None
    monkeypatch.undo()
    tasks.invoice_order.call(registration.order_id)
    invoice.refresh_from_db()
    assert invoice.emailed_at is not None
    assert Invoice.objects.count() == 1
    assert len(invoice_mails(mailoutbox)) == 1


def test_a_refused_order_is_held_with_the_reason_and_nothing_is_sent(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    # No invoice issuer yet: issuing refuses, as it does for an order finance must complete.
    registration = make_registration(make_edition())
    outcome = tasks.invoice_order.call(registration.order_id)
    assert outcome["held"].startswith("Factureren kan nog niet")
    held = OrderInvoicing.objects.get(order=registration.order)
    assert held.held_reason == outcome["held"]
    assert held.held_at is not None
    assert Invoice.objects.count() == 0
    assert mailoutbox == []

    # Finance fixes what held it and queues the order again.
    make_issuer()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.queue_order_invoicing(registration.order)
    held.refresh_from_db()
    assert held.held_reason == "" and held.held_at is None
    assert Invoice.objects.get().emailed_at is not None
    assert len(invoice_mails(mailoutbox)) == 1


def test_the_date_command_picks_up_a_held_order_once_it_can_be_invoiced(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    edition = make_edition(invoice_moment=InvoiceMoment.ON_DATE, invoice_on=today())
    registration = make_registration(edition)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("invoice_due_orders", stdout=open("/dev/null", "w"))
    assert OrderInvoicing.objects.get(order=registration.order).held_reason
    make_issuer()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("invoice_due_orders", stdout=open("/dev/null", "w"))
    assert Invoice.objects.filter(order=registration.order).count() == 1
    assert len(invoice_mails(mailoutbox)) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_running_the_same_job_issue_and_mail_once(postgres, settings, mailoutbox):
    make_issuer()
    registration = make_registration(make_edition())
    start = threading.Barrier(2)
    errors = []

    def worker():
        start.wait()
        try:
            tasks.invoice_order.call(registration.order_id)
        except Exception as error:  # noqa: BLE001 - reported by the assert below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert Invoice.objects.filter(order=registration.order).count() == 1
    assert len(invoice_mails(mailoutbox)) == 1


# The orders list


@pytest.fixture
def femke(client, finance_user):
    client.force_login(finance_user)
    return client


def test_orders_list_action_issues_and_sends_after_its_confirmation_page(
    femke, invoicing, mailoutbox
):
    registration = make_registration(make_edition())
    order = registration.order
    data = {"action": "issue_and_send_orders", "_selected_action": [order.pk]}
    page = femke.post(ORDERS, data)
    assert page.status_code == 200
    assert f"nieuwe factuur voor {registration.reference}" in page.content.decode()
    assert Invoice.objects.count() == 0

    femke.post(ORDERS, {**data, "apply": "1"})
    invoice = Invoice.objects.get()
    assert invoice.order == order and invoice.emailed_at is not None
    assert len(invoice_mails(mailoutbox)) == 1
    messages = [str(m) for m in femke.get(ORDERS).context["messages"]]
    assert (
        f"Gefactureerd (1): {order.reference}: factuur {invoice.number}, naar "
        "facturen@utrecht.example.nl" in messages
    )

    # Again: nothing issued or mailed twice, and the row says why.
    femke.post(ORDERS, {**data, "apply": "1"})
    assert Invoice.objects.count() == 1
    assert len(invoice_mails(mailoutbox)) == 1
    messages = [str(m) for m in femke.get(ORDERS).context["messages"]]
    assert any("iedereen is al gefactureerd en gemaild" in message for message in messages)


def test_orders_list_resend_mails_the_invoice_again_when_asked(femke, invoicing, mailoutbox):
    registration = make_registration(make_edition())
    tasks.invoice_order.call(registration.order_id)
    data = {"action": "resend_order_invoices", "_selected_action": [registration.order_id]}
    page = femke.post(ORDERS, data)
    assert "Factuur opnieuw versturen?" in page.content.decode()
    assert len(invoice_mails(mailoutbox)) == 1
    femke.post(ORDERS, {**data, "apply": "1"})
    assert len(invoice_mails(mailoutbox)) == 2
    assert Invoice.objects.count() == 1


def test_orders_list_action_on_many_orders_runs_as_one_job_with_an_outcome_per_order(
    femke, invoicing, mailoutbox
):
    edition = make_edition()
    orders = [make_registration(edition).order for _ in range(jobs.INLINE_LIMIT + 1)]
    data = {"action": "issue_and_send_orders", "_selected_action": [o.pk for o in orders]}
    response = femke.post(ORDERS, {**data, "apply": "1"})
    job = BulkJob.objects.get()
    assert response.url == reverse("admin:invoicing_bulkjob_change", args=[job.pk])
    assert job.kind == BulkJob.Kind.SEND and job.finished_at is not None
    assert job.items.filter(succeeded=True).count() == len(orders)
    assert Invoice.objects.filter(emailed_at__isnull=False).count() == len(orders)
    assert len(invoice_mails(mailoutbox)) == len(orders)


def test_an_order_held_in_a_job_of_many_keeps_its_reason(femke, invoicing, mailoutbox):
    edition = make_edition()
    orders = [make_registration(edition).order for _ in range(jobs.INLINE_LIMIT)]
    held = make_registration(edition, kvk_number="").order
    data = {"action": "issue_and_send_orders", "_selected_action": [o.pk for o in [*orders, held]]}
    femke.post(ORDERS, {**data, "apply": "1"})
    job = BulkJob.objects.get()
    assert job.items.filter(succeeded=True).count() == len(orders)
    [refused] = job.items.filter(succeeded=False)
    assert refused.object_id == held.pk and "wacht op factuurgegevens" in refused.message
    # The reason stays on the order, although the row's transaction rolled back.
    assert "wacht op factuurgegevens" in OrderInvoicing.objects.get(order=held).held_reason
    assert not Invoice.objects.filter(order=held).exists()
    assert len(invoice_mails(mailoutbox)) == len(orders)


def test_staff_without_invoicing_rights_have_no_order_invoicing_actions(
    client, staff_member, invoicing, mailoutbox
):
    registration = make_registration(make_edition())
    client.force_login(staff_member)
    data = {"action": "issue_and_send_orders", "_selected_action": [registration.order_id]}
    client.post(ORDERS, {**data, "apply": "1"})
    assert Invoice.objects.count() == 0
    assert mailoutbox == []


def test_the_order_page_shows_why_it_is_held(femke, db):
    registration = make_registration(make_edition())
    tasks.invoice_order.call(registration.order_id)
    url = reverse("admin:registrations_order_change", args=[registration.order_id])
    html = femke.get(url).content.decode()
    assert "Niet gefactureerd op" in html
    assert "Factureren kan nog niet" in html


def test_finance_chooses_the_moment_on_the_edition_and_staff_see_it(
    client, finance_user, staff_member, db
):
    edition = make_edition()
    url = reverse("admin:programme_edition_change", args=[edition.pk])
    client.force_login(finance_user)
    form = client.get(url).context["adminform"].form
    assert "invoice_moment" in form.fields and "invoice_on" in form.fields
    client.force_login(staff_member)
    form = client.get(url).context["adminform"].form
    assert "invoice_moment" not in form.fields


# Betaalt na afloop


def test_an_order_paying_after_a_date_gets_no_reminders_until_that_date(femke, invoicing):
    ReminderSettings.load()
    registration = make_registration(make_edition())
    tasks.invoice_order.call(registration.order_id)
    invoice = Invoice.objects.get()
    until = invoice.due_date + datetime.timedelta(days=40)
    data = {"action": "set_pays_after", "_selected_action": [registration.order_id]}
    femke.post(ORDERS, {**data, "apply": "1", "pays_after": until.isoformat()})
    assert OrderInvoicing.objects.get(order=registration.order).pays_after == until

    late = invoice.due_date + datetime.timedelta(days=30)
    assert reminders.due(today=late) == []
    fresh = Invoice.objects.get(pk=invoice.pk)
    level, reason = reminders.level_or_reason(fresh, ReminderSettings.load(), late)
    assert level is None
    assert reason == f"herinneringen aangehouden: betaalt na {formats.day(until)}"
    page = femke.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    assert f"betaalt na {formats.day(until)}" in page.content.decode()
    page = femke.get(reverse("admin:registrations_order_change", args=[invoice.order_id]))
    assert f"Betaalt na {formats.day(until)}: tot dan geen herinneringen" in page.content.decode()
    # A step of the order's history, with who set it.
    assert registration.order.log.filter(
        kind=OrderLogEntry.Kind.HOLD_SET, text__contains=formats.day(until), by="femke"
    ).exists()

    after = until + datetime.timedelta(days=1)
    assert [i.pk for i, _level in reminders.due(today=after)] == [invoice.pk]


# What participants are told


def test_confirmation_tells_where_and_when_the_invoice_goes_per_moment(
    client, invoicing, mailoutbox, django_capture_on_commit_callbacks
):
    on = today() + datetime.timedelta(days=100)
    cases = [
        (make_edition(), "De factuur komt per e-mail naar facturen@utrecht.example.nl"),
        (
            make_edition(invoice_moment=InvoiceMoment.AT_CONFIRMATION),
            "De factuur komt direct na de bevestiging per e-mail naar facturen@utrecht.example.nl",
        ),
        (
            make_edition(invoice_moment=InvoiceMoment.ON_DATE, invoice_on=on),
            f"De factuur komt op {formats.day(on)} per e-mail naar facturen@utrecht.example.nl",
        ),
    ]
    for edition, sentence in cases:
        mailoutbox.clear()
        url = reverse("registrations:register", args=[edition.slug])
        response = client.post(url, sign_up_data(), follow=True)
        assert sentence in response.content.decode()
        [confirmation] = [m for m in mailoutbox if "Bevestiging" in m.subject]
        assert sentence in confirmation.body
        assert sentence in confirmation.alternatives[0][0]


def test_a_colleague_signed_up_by_someone_else_is_told_the_invoice_is_not_theirs(
    client, open_edition, mailoutbox
):
    url = reverse("registrations:register", args=[open_edition.slug])
    client.post(url, with_colleague())
    to_colleague = [m for m in mailoutbox if m.to == ["pieter@gemeente.example.nl"]]
    assert to_colleague, [m.to for m in mailoutbox]
    body = to_colleague[0].body
    assert "De factuur gaat per e-mail naar facturen@utrecht.example.nl, niet naar jou" in body
    own = [m for m in mailoutbox if m.to == ["fatima@gemeente.example.nl"]]
    assert "De factuur komt per e-mail naar facturen@utrecht.example.nl" in own[0].body
