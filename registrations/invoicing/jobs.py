"""Admin actions on many rows, run by the task worker as a BulkJob (see models.BulkJob).

Issuing or crediting renders a PDF and an e-invoice per invoice, mailing waits for the mail
server per invoice: hundreds of them outlast gunicorn's timeout, and the user would see an
error while part of the work is done. A selection larger than INLINE_LIMIT therefore becomes
a job; the worker runs it item by item, with the same steps the admin runs inline for a small
selection. The steps call issuing.py and documents.py per item, so what changes there changes
both paths.
"""

import functools
import io
import logging
import zipfile

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from registrations.models import Order, Registration, TransitionRefused
from werkplaats import formats
from werkplaats.queue import atomic_with
from werkplaats.refusals import is_write_refused, refusal_text, write_refused_text

from . import emails, exports, issuing, sending
from .documents import Kind, document_bytes, kinds, restore
from .models import BulkJob, BulkJobItem, Invoice, InvoiceRefused

logger = logging.getLogger(__name__)

# Up to this many rows an action runs in the request and answers at once, as before: issuing
# ten invoices takes a few seconds, far inside the 30 s timeout, and one invoice issued from
# the list should not wait for the worker. Larger selections become a job.
INLINE_LIMIT = 10

# What a step raises to skip its row with a reason; the other rows go on.
REFUSALS = (InvoiceRefused, ValidationError, TransitionRefused)


class MailNotSent(InvoiceRefused):
    """The mail server refused or could not be reached for this invoice."""


def issue(registration, by, selection=None, since=None):
    """The invoice for this participant and the others of their order in the job's
    `selection` who are confirmed and not invoiced yet: one invoice per order. A participant
    invoiced with an order-mate earlier in this job (since `since`) is reported on it."""
    current = Invoice.objects.uncredited().for_registration(registration).first()
    if current is not None and since is not None and current.issued_at >= since:
        return f"{registration.reference} staat op factuur {current.number} ({current.order})"
    group = [registration]
    if selection is not None:
        # The same grouping as the admin action's, among the job's selection.
        group = issuing.group_of(registration, Registration.objects.filter(pk__in=selection))
    invoice = issuing.issue_invoice(group, by=by)
    return f"factuur {invoice.number} voor {', '.join(r.reference for r in group)}"


def credit(invoice, by):
    return f"{invoice.number} gecrediteerd met {issuing.credit_invoice(invoice, by=by).number}"


def check_documents(invoice):
    """A missing or damaged document is reported before anything is sent."""
    for kind in kinds(invoice):
        document_bytes(invoice, kind)


def email(invoice, by, sent_since=None):
    """Send now, in the worker: the job records each sent invoice in the same transaction as
    its `emailed_at`, so a job that runs again does not send it twice. An invoice mailed after
    `sent_since` (the job's start: by another job with an overlapping selection) is skipped;
    one mailed before it, the user chose to mail again."""
    if sent_since is not None:
        # Locked: an overlapping job mailing the same invoice waits here, then skips it.
        emailed_at = (
            Invoice.objects.select_for_update()
            .values_list("emailed_at", flat=True)
            .get(pk=invoice.pk)
        )
        if emailed_at and emailed_at >= sent_since:
            raise InvoiceRefused(
                f"{invoice.number} is intussen al gemaild, op "
                f"{formats.moment(emailed_at)}; niet nog een keer."
            )
    check_documents(invoice)
    if not emails.send_invoice(invoice, by=by):
        raise MailNotSent(
            f"{invoice.number} is niet gemaild: de mailserver weigerde of reageerde niet. "
            "Mail deze factuur later opnieuw."
        )
    return f"{invoice.number} naar {invoice.customer_email}"


def check_and_restore(invoice, by):
    """The PDF and, when the invoice has one, the e-invoice."""
    return "; ".join(
        f"{Kind(kind).label} van {invoice.number} hersteld (controlesom klopt)"
        if restore(invoice, kind)
        else f"{Kind(kind).label} van {invoice.number} is in orde"
        for kind in kinds(invoice)
    )


def send_order(order, by):
    """The order's job (sending.issue_and_send), as a step: issue what is not invoiced, mail
    what was not mailed."""
    return sending.issue_and_send(order, by=by)


def resend_order(order, by):
    return sending.resend(order)


STEPS = {
    BulkJob.Kind.ISSUE: issue,
    BulkJob.Kind.CREDIT: credit,
    BulkJob.Kind.RESTORE: check_and_restore,
    BulkJob.Kind.SEND: send_order,
    BulkJob.Kind.RESEND: resend_order,
}

# What a refused row still records once its transaction has rolled back: an order that
# could not be invoiced keeps the reason on its page and on finance's worklist.
AFTER_REFUSAL = {
    BulkJob.Kind.SEND: sending.hold,
}


def start(kind, pks, by):
    """The job for this action and selection: (job, True) when it is new and queued, or
    (job, False) when the same one is already queued or running. A stalled one (its worker
    stopped) is queued again; it goes on where it was."""
    pks = sorted({int(pk) for pk in pks})
    key = BulkJob.key_of(kind, pks)
    BulkJob.objects.drop_old_results()
    for _attempt in range(2):
        try:
            with atomic_with(run_job) as queue:
                job = BulkJob.objects.create(
                    kind=kind, selection=pks, selection_key=key, total=len(pks), created_by=by
                )
                queue(job.pk)
        except IntegrityError:
            job = BulkJob.objects.unfinished().filter(kind=kind, selection_key=key).first()
            if job is None:
                continue  # it finished in between: start a new one
            if job.is_stalled():
                logger.warning("Bulk job %s stalled; queued again", job.pk)
                BulkJob.objects.filter(pk=job.pk).update(updated_at=timezone.now())
                run_job.enqueue(job.pk)
            return job, False
        return job, True
    raise RuntimeError(f"could not start or find the {kind} job")


def _rows(job):
    if job.kind in BulkJob.ORDER_KINDS:
        return Order.objects.filter(pk__in=job.selection).select_related("edition").order_by("pk")
    if job.kind == BulkJob.Kind.ISSUE:
        return (
            Registration.objects.filter(pk__in=job.selection)
            .select_related("edition")
            .order_by("created_at", "pk")
        )
    return (
        Invoice.objects.filter(pk__in=job.selection)
        .select_related("credited_invoice")
        .order_by("number")
    )


def _claim(job, object_id):
    """Inside a transaction: lock the job's row (a second run of the same job waits here) and
    say whether this item still has to be done."""
    BulkJob.objects.filter(pk=job.pk).update(updated_at=timezone.now())
    return not BulkJobItem.objects.filter(job=job, object_id=object_id).exists()


def _record(job, object_id, succeeded, message):
    BulkJobItem.objects.create(job=job, object_id=object_id, succeeded=succeeded, message=message)
    BulkJob.objects.filter(pk=job.pk).update(done=F("done") + 1, updated_at=timezone.now())


def _skip(job, object_id, message):
    with transaction.atomic():
        if _claim(job, object_id):
            _record(job, object_id, False, message)


# What a row that the database refused to write was to become, for the job's outcome.
FAILED = {
    BulkJob.Kind.ISSUE: "Factuur voor {} is niet gemaakt",
    BulkJob.Kind.CREDIT: "Creditfactuur voor {} is niet gemaakt",
    BulkJob.Kind.SEND: "Factuur voor {} is niet gemaakt of verstuurd",
}


class JobStopped(Exception):
    """The database refused to write a row's step: the job stops at that row."""


def _name(row):
    return getattr(row, "reference", None) or getattr(row, "number", None) or str(row.pk)


def _do(job, row, step):
    """Do one row in its own transaction, recording its outcome. Raises JobStopped, after
    recording the refusal when the database still takes that, when it refused to write."""
    try:
        with transaction.atomic():
            if not _claim(job, row.pk):
                return
            text = step(row, job.created_by)
            _record(job, row.pk, True, text)
            if job.created_by_id and job.kind != BulkJob.Kind.ZIP:
                LogEntry.objects.log_actions(
                    job.created_by_id, [row], CHANGE, change_message=text, single_object=True
                )
    except REFUSALS as refusal:
        _skip(job, row.pk, refusal_text(refusal))
        if job.kind in AFTER_REFUSAL and isinstance(refusal, InvoiceRefused):
            AFTER_REFUSAL[job.kind](row, refusal)
    except Exception as error:
        if isinstance(error, DatabaseError) and is_write_refused(error):
            logger.error("Bulk job %s: the database refused to write row %s", job.pk, row.pk)
            what = FAILED.get(job.kind, "{} is niet bijgewerkt").format(_name(row))
            _skip(job, row.pk, write_refused_text(what))
            raise JobStopped from error
        # One broken row must not stop the rest; its traceback goes to the worker's log.
        logger.exception("Bulk job %s failed on row %s", job.pk, row.pk)
        _skip(job, row.pk, f"{row}: onverwachte fout, niets gedaan. Meld dit aan de beheerder.")


@task()
def run_job(job_id):
    """Do each selected row not yet done, recording its outcome with its work; then finish.

    Safe to run twice (a retried or re-queued task): rows with an outcome are skipped, and a
    finished job is left alone.
    """
    job = BulkJob.objects.select_related("created_by").get(pk=job_id)
    if job.finished_at:
        return {"done": job.done}
    now = timezone.now()
    archive = buffer = None
    step = STEPS.get(job.kind)
    if job.kind == BulkJob.Kind.EMAIL:
        step = functools.partial(email, sent_since=job.created_at)
    if job.kind == BulkJob.Kind.ISSUE:
        step = functools.partial(step, selection=job.selection, since=job.created_at)
    if job.kind == BulkJob.Kind.ZIP:
        # The archive lives in this run's memory: a run that starts again makes all of it.
        job.items.all().delete()
        BulkJob.objects.filter(pk=job.pk).update(done=0)
        buffer = io.BytesIO()
        archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)

        def step(invoice, by):
            return f"{invoice.number}: {', '.join(exports.add_to_zip(archive, invoice))}"

    BulkJob.objects.filter(pk=job.pk, started_at__isnull=True).update(started_at=now)
    try:
        found = set()
        for row in _rows(job):
            found.add(row.pk)
            _do(job, row, step)
        for missing in sorted(set(job.selection) - found):
            _skip(job, missing, f"Nummer {missing} bestaat niet meer.")
    except (JobStopped, DatabaseError) as error:
        if isinstance(error, DatabaseError) and not is_write_refused(error):
            raise
        # The rows after it would meet the same refusal. Left unfinished, the job goes on
        # where it stopped when it is started again (the action, or a stalled job's check).
        logger.error("Bulk job %s stopped: the database refuses to write", job.pk)
        job.refresh_from_db(fields=["done"])
        return {"done": job.done, "stopped": True}
    finished = {"finished_at": timezone.now(), "updated_at": timezone.now()}
    if archive is not None:
        archive.close()
        finished.update(result=buffer.getvalue(), result_name="facturen.zip")
    BulkJob.objects.filter(pk=job.pk, finished_at__isnull=True).update(**finished)
    job.refresh_from_db(fields=["done"])
    return {"done": job.done}
