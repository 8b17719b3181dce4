"""Long admin actions leave the request: a selection larger than INLINE_LIMIT becomes a
BulkJob that the task worker runs, with its progress and each row's outcome in the admin, and
starting it twice starts it once."""

import datetime
import io
import threading
import zipfile

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from registrations.invoicing import jobs
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import BulkJob, BulkJobItem, Invoice, InvoiceDocument
from registrations.models import Registration
from tests.conftest import (
    admin_action,
    make_edition,
    make_issuer,
    make_registration,
    stored_pdf,
)
from werkplaats import formats

AT = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)
INVOICES = reverse("admin:invoicing_invoice_changelist")
REGISTRATIONS = reverse("admin:registrations_registration_changelist")
JOBS = reverse("admin:invoicing_bulkjob_changelist")
REFRESH = '<meta http-equiv="refresh"'


def job_url(job):
    return reverse("admin:invoicing_bulkjob_change", args=[job.pk])


@pytest.fixture
def inline_limit_of_two(monkeypatch):
    # Three rows make a job: the job path without rendering eleven invoices per test.
    monkeypatch.setattr(jobs, "INLINE_LIMIT", 2)


@pytest.fixture
def invoices(invoicing, open_edition):
    return [issue_invoice(make_registration(open_edition), at=AT) for _ in range(3)]


def outcomes(job):
    return [(item.object_id, item.succeeded, item.message) for item in job.items.all()]


def test_eleven_rows_become_a_job_and_ten_run_at_once(
    client, invoicing, open_edition, finance_user
):
    waiting = [
        make_registration(open_edition, status=Registration.Status.WAITING) for _ in range(11)
    ]
    client.force_login(finance_user)

    inline = admin_action(client, REGISTRATIONS, "issue_invoices", waiting[:10])
    assert inline["Location"] == REGISTRATIONS
    assert not BulkJob.objects.exists()

    response = admin_action(client, REGISTRATIONS, "issue_invoices", waiting)
    job = BulkJob.objects.get()
    assert response["Location"] == job_url(job)
    assert (job.kind, job.total, job.done) == ("issue", 11, 11)
    assert job.selection == sorted(r.pk for r in waiting)


def test_a_large_issue_runs_as_a_job_with_an_outcome_per_registration(
    client, invoicing, open_edition, finance_user, inline_limit_of_two
):
    fresh = [make_registration(open_edition) for _ in range(3)]
    waiting = make_registration(open_edition, status=Registration.Status.WAITING)
    client.force_login(finance_user)

    response = admin_action(client, REGISTRATIONS, "issue_invoices", [*fresh, waiting])

    job = BulkJob.objects.get()
    page = client.get(response["Location"])
    text = page.content.decode()
    assert "Facturen aanmaken voor 4 inschrijvingen loopt op de achtergrond" in text
    # The immediate backend (the default) ran it during the request.
    assert job.started_at and job.finished_at
    assert "4 van 4 verwerkt, waarvan 1 overgeslagen" in text
    assert REFRESH not in text
    assert outcomes(job) == [
        *[
            (
                r.pk,
                True,
                f"factuur {Invoice.objects.for_registration(r).get().number} voor {r.reference}",
            )
            for r in fresh
        ],
        (
            waiting.pk,
            False,
            f"{waiting.reference} is wachtlijst: alleen bevestigde deelnemers krijgen een factuur.",
        ),
    ]
    assert f"Overgeslagen: {waiting.reference} is wachtlijst" in text
    assert not Invoice.objects.for_registration(waiting).exists()
    assert {i.issued_by for i in Invoice.objects.all()} == {"femke"}
    # Each issued registration's history says so, as after the inline action.
    assert LogEntry.objects.filter(user=finance_user, object_id=str(fresh[0].pk)).exists()


def test_issuing_again_refuses_what_a_finished_job_already_invoiced(
    client, invoicing, open_edition, finance_user, inline_limit_of_two
):
    rows = [make_registration(open_edition) for _ in range(3)]
    client.force_login(finance_user)
    admin_action(client, REGISTRATIONS, "issue_invoices", rows)
    admin_action(client, REGISTRATIONS, "issue_invoices", rows)

    assert Invoice.objects.count() == 3
    second = BulkJob.objects.order_by("pk").last()
    assert BulkJob.objects.count() == 2
    assert [succeeded for _, succeeded, _ in outcomes(second)] == [False] * 3
    assert "heeft al factuur" in second.items.first().message


def test_a_job_run_again_skips_the_rows_it_already_did(invoices, finance_user, mailoutbox):
    """A worker stopped after mailing the first invoice: the run that resumes the job mails
    the other two, and a run of the finished job mails nothing."""
    first, second, third = invoices
    pks = [first.pk, second.pk, third.pk]
    job = BulkJob.objects.create(
        kind=BulkJob.Kind.EMAIL,
        selection=pks,
        selection_key=BulkJob.key_of("email", pks),
        total=3,
        done=1,
        created_by=finance_user,
        started_at=timezone.now(),
    )
    BulkJobItem.objects.create(
        job=job, object_id=first.pk, succeeded=True, message=f"{first.number} gemaild"
    )

    jobs.run_job.call(job.pk)
    jobs.run_job.call(job.pk)

    job.refresh_from_db()
    assert job.finished_at is not None
    assert (job.done, job.total) == (3, 3)
    assert [m.subject for m in mailoutbox] == [
        f"Factuur {second.number} van Platform31",
        f"Factuur {third.number} van Platform31",
    ]
    assert outcomes(job)[1:] == [
        (second.pk, True, f"{second.number} naar {second.customer_email}"),
        (third.pk, True, f"{third.number} naar {third.customer_email}"),
    ]
    second.refresh_from_db()
    assert second.emailed_at is not None


def test_an_email_job_mails_each_invoice_and_reports_a_missing_pdf(
    client, invoices, finance_user, mailoutbox, inline_limit_of_two
):
    first, second, third = invoices
    InvoiceDocument.objects.filter(invoice=second, kind="pdf").delete()
    client.force_login(finance_user)

    response = admin_action(client, INVOICES, "email_invoices", invoices, apply="1")

    job = BulkJob.objects.get(kind="email")
    assert response["Location"] == job_url(job)
    assert sorted(m.subject for m in mailoutbox) == [
        f"Factuur {first.number} van Platform31",
        f"Factuur {third.number} van Platform31",
    ]
    assert mailoutbox[0].attachments[0][1] == stored_pdf(first)
    assert outcomes(job)[1] == (
        second.pk,
        False,
        f"De pdf van {second.number} ontbreekt. Herstel hem met de actie 'Pdf controleren en "
        "herstellen'.",
    )
    second.refresh_from_db()
    assert second.emailed_at is None


def test_overlapping_email_jobs_mail_each_invoice_once(
    invoices, open_edition, finance_user, settings, mailoutbox
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    fourth = issue_invoice(make_registration(open_edition), at=AT)
    earlier, _ = jobs.start(BulkJob.Kind.EMAIL, [i.pk for i in invoices], by=finance_user)
    later, _ = jobs.start(BulkJob.Kind.EMAIL, [i.pk for i in [*invoices, fourth]], by=finance_user)

    jobs.run_job.call(earlier.pk)
    jobs.run_job.call(later.pk)

    assert len(mailoutbox) == 4
    assert sorted(m.subject for m in mailoutbox) == sorted(
        f"Factuur {i.number} van Platform31" for i in [*invoices, fourth]
    )
    skipped = [message for _, succeeded, message in outcomes(later) if not succeeded]
    assert len(skipped) == 3
    assert skipped[0].startswith(f"{invoices[0].number} is intussen al gemaild, op ")


def test_an_email_job_reports_a_refusing_mail_server_and_records_nothing(
    invoices, finance_user, monkeypatch
):
    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("geen mailserver")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    job, _ = jobs.start(BulkJob.Kind.EMAIL, [i.pk for i in invoices], by=finance_user)

    job.refresh_from_db()
    assert job.done == 3
    assert [message for _, _, message in outcomes(job)] == [
        f"{i.number} is niet gemaild: de mailserver weigerde of reageerde niet. Mail deze "
        "factuur later opnieuw."
        for i in invoices
    ]
    assert not Invoice.objects.filter(emailed_at__isnull=False).exists()


def test_a_zip_job_stores_the_archive_for_download_without_the_broken_invoice(
    client, invoices, staff_member, inline_limit_of_two
):
    first, second, third = invoices
    InvoiceDocument.objects.filter(invoice=third, kind="ubl").update(content=b"kapot")
    client.force_login(staff_member)

    response = admin_action(client, INVOICES, "download_zip", invoices)

    job = BulkJob.objects.get(kind="zip")
    assert response["Location"] == job_url(job)
    page = client.get(job_url(job)).content.decode()
    download = reverse("admin:invoicing_bulkjob_download", args=[job.pk])
    assert f'<a href="{download}">facturen.zip</a>' in page
    assert "klopt niet met de controlesom" in page
    answer = client.get(download)
    assert answer["Content-Type"] == "application/zip"
    assert 'filename="facturen.zip"' in answer["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content)))
    assert archive.namelist() == [
        f"factuur-{first.number}.pdf",
        f"factuur-{first.number}.xml",
        f"factuur-{second.number}.pdf",
        f"factuur-{second.number}.xml",
    ]
    assert archive.read(f"factuur-{second.number}.pdf") == stored_pdf(second)


def test_a_zip_is_kept_a_week_and_then_only_the_record_remains(client, invoices, finance_user):
    old, _ = jobs.start(BulkJob.Kind.ZIP, [i.pk for i in invoices], by=finance_user)
    BulkJob.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - datetime.timedelta(days=8)
    )
    jobs.start(BulkJob.Kind.ZIP, [invoices[0].pk], by=finance_user)
    client.force_login(finance_user)

    response = client.get(reverse("admin:invoicing_bulkjob_download", args=[old.pk]))

    assert response["Location"] == job_url(old)
    page = client.get(response["Location"]).content.decode()
    assert "een ZIP wordt een week bewaard" in page
    assert "3 van 3 verwerkt" in page
    assert BulkJob.objects.filter(result__isnull=False).count() == 1


def test_a_credit_job_credits_each_invoice_once(
    client, invoices, finance_user, inline_limit_of_two
):
    first, second, third = invoices
    earlier = credit_invoice(third)
    client.force_login(finance_user)

    admin_action(client, INVOICES, "create_credit_notes", invoices, apply="1")

    job = BulkJob.objects.get(kind="credit")
    assert Invoice.objects.credit_notes().count() == 3
    assert [succeeded for _, succeeded, _ in outcomes(job)] == [True, True, False]
    assert outcomes(job)[2][2] == (
        f"Factuur {third.number} is al gecrediteerd met {earlier.number} op "
        f"{formats.day(earlier.invoice_date)}."
    )


def test_a_restore_job_puts_back_a_missing_pdf(client, invoices, finance_user, inline_limit_of_two):
    InvoiceDocument.objects.filter(invoice=invoices[1], kind="pdf").delete()
    client.force_login(finance_user)

    admin_action(client, INVOICES, "restore_documents", invoices)

    job = BulkJob.objects.get(kind="restore")
    assert outcomes(job)[1][2].startswith(f"pdf van {invoices[1].number} hersteld")
    assert InvoiceDocument.objects.filter(invoice=invoices[1], kind="pdf").exists()


def test_starting_the_same_selection_while_it_is_queued_finds_that_job(
    client, invoices, finance_user, settings, inline_limit_of_two
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    client.force_login(finance_user)

    first = admin_action(client, INVOICES, "restore_documents", invoices)
    page = client.get(first["Location"]).content.decode()
    again = admin_action(client, INVOICES, "restore_documents", list(reversed(invoices)))
    other = admin_action(client, INVOICES, "restore_documents", invoices[:2] + invoices[:1])

    job = BulkJob.objects.get()
    assert again["Location"] == first["Location"] == job_url(job)
    assert "in de wachtrij" in page and REFRESH in page
    assert "0 van 3 verwerkt" in page
    followed = client.get(again["Location"]).content.decode()
    assert "Deze actie loopt al voor precies deze selectie" in followed
    # Two rows are a small selection: they run at once, beside the queued job.
    assert other["Location"] == INVOICES


def test_the_database_refuses_a_second_unfinished_job_for_one_selection(invoices):
    pks = [i.pk for i in invoices]
    fields = {"kind": "zip", "selection": pks, "selection_key": BulkJob.key_of("zip", pks)}
    BulkJob.objects.create(**fields, total=3, finished_at=timezone.now())
    BulkJob.objects.create(**fields, total=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        BulkJob.objects.create(**fields, total=3)
    assert BulkJob.objects.count() == 2


def test_a_stalled_job_is_queued_again_when_started_again(invoices, finance_user, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    pks = [i.pk for i in invoices]
    job, new = jobs.start(BulkJob.Kind.ZIP, pks, by=finance_user)
    assert new
    again, new = jobs.start(BulkJob.Kind.ZIP, pks, by=finance_user)
    assert (again, new) == (job, False)
    queued = jobs.run_job.get_backend().results
    assert len(queued) == 1

    BulkJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - datetime.timedelta(minutes=11)
    )
    resumed, new = jobs.start(BulkJob.Kind.ZIP, pks, by=finance_user)

    assert (resumed, new) == (job, False)
    assert [r.args for r in queued] == [[job.pk], [job.pk]]


def test_only_those_who_may_do_the_action_see_its_job(
    client, invoicing, open_edition, finance_user, staff_member, inline_limit_of_two
):
    rows = [make_registration(open_edition, status=Registration.Status.WAITING) for _ in range(3)]
    job, _ = jobs.start(BulkJob.Kind.ISSUE, [r.pk for r in rows], by=finance_user)

    client.force_login(staff_member)
    assert str(job) not in client.get(JOBS).content.decode()
    assert client.get(job_url(job)).status_code == 302  # "does not exist" for Medewerkers
    assert client.get(job_url(job), follow=True).redirect_chain[-1][0] == "/beheer/"
    admin_action(client, REGISTRATIONS, "issue_invoices", rows)  # not offered to them
    assert BulkJob.objects.count() == 1

    client.force_login(finance_user)
    assert client.get(job_url(job)).status_code == 200
    assert str(job) in client.get(JOBS).content.decode()


def run_worker():
    call_command("db_worker", batch=True, startup_delay=False, reload=False, stdout=io.StringIO())


# The worker opens and closes its own transactions, as in production (see test_mail_queue.py).
# On PostgreSQL: the test database is emptied with TRUNCATE afterwards; SQLite's DELETE would
# meet the trigger that refuses to delete an issued invoice.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_runs_a_queued_job_and_its_page_shows_the_progress(
    postgres, client, finance_user, settings, monkeypatch, inline_limit_of_two
):
    make_issuer()
    open_edition = make_edition()
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    rows = [make_registration(open_edition) for _ in range(3)]
    client.force_login(finance_user)

    first = admin_action(client, REGISTRATIONS, "issue_invoices", rows)
    again = admin_action(client, REGISTRATIONS, "issue_invoices", rows)

    job = BulkJob.objects.get()
    assert first["Location"] == again["Location"] == job_url(job)
    queued = DBTaskResult.objects.get()
    assert (queued.task_path, queued.status) == ("registrations.invoicing.jobs.run_job", "READY")
    assert not Invoice.objects.exists()  # nothing was done in the request
    waiting = client.get(job_url(job)).content.decode()
    assert "in de wachtrij" in waiting and "0 van 3 verwerkt" in waiting and REFRESH in waiting

    seen = []
    issue = jobs.STEPS[BulkJob.Kind.ISSUE]

    def observed(registration, by, **job):
        seen.append(BulkJob.objects.values_list("done", flat=True).get())
        return issue(registration, by, **job)

    monkeypatch.setitem(jobs.STEPS, BulkJob.Kind.ISSUE, observed)
    run_worker()

    assert seen == [0, 1, 2]  # the progress moves with each registration
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
    assert queued.return_value == {"done": 3}
    assert Invoice.objects.count() == 3
    finished = client.get(job_url(job)).content.decode()
    assert "klaar" in finished and "3 van 3 verwerkt, waarvan 0 overgeslagen" in finished
    assert REFRESH not in finished
    for registration in rows:
        assert (
            f"factuur {Invoice.objects.for_registration(registration).get().number} voor"
            in finished
        )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_starts_of_one_selection_make_one_job_on_postgresql(
    postgres, finance_user, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    edition = make_edition()
    rows = [make_registration(edition, status=Registration.Status.WAITING) for _ in range(3)]
    pks = [r.pk for r in rows]
    barrier = threading.Barrier(6)
    answers, errors = [], []

    def start():
        try:
            barrier.wait()
            answers.append(jobs.start(BulkJob.Kind.ISSUE, pks, by=finance_user))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    job = BulkJob.objects.get()
    assert sorted(new for _, new in answers) == [False] * 5 + [True]
    assert {found.pk for found, _ in answers} == {job.pk}
    assert DBTaskResult.objects.count() == 1


def test_the_job_list_costs_the_same_queries_for_one_or_twenty_jobs(client, finance_user):
    def add_job(n):
        job = BulkJob.objects.create(
            kind="zip", selection=[n], selection_key=BulkJob.key_of("zip", [n]), total=1
        )
        BulkJobItem.objects.create(job=job, object_id=n, succeeded=False, message="ontbreekt")

    client.force_login(finance_user)
    add_job(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(JOBS).status_code == 200
    for n in range(2, 21):
        add_job(n)
    with CaptureQueriesContext(connection) as twenty:
        page = client.get(JOBS).content.decode()
    assert page.count("0 van 1 verwerkt, waarvan 1 overgeslagen") == 20
    assert len(twenty) == len(one)


def test_an_issue_job_makes_one_invoice_per_order(
    client, invoicing, open_edition, finance_user, inline_limit_of_two
):
    colleagues = make_registration(open_edition)
    order = colleagues.order
    more = [
        Registration(first_name=name, last_name="Collega", email=f"{name}@example.nl")
        for name in ("pieter", "sanne")
    ]
    for person in more:
        person.organisation = order.organisation
    Registration.objects.place(order, more, by_staff=True)
    alone = make_registration(open_edition)
    client.force_login(finance_user)

    admin_action(client, REGISTRATIONS, "issue_invoices", [colleagues, *more, alone])

    job = BulkJob.objects.get()
    assert job.done == 4
    assert Invoice.objects.count() == 2
    together = Invoice.objects.get(order=order)
    assert together.lines.count() == 3
    texts = [item.message for item in job.items.order_by("object_id")]
    assert texts[1] == f"{more[0].reference} staat op factuur {together.number} ({order})"
