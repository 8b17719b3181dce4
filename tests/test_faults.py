"""Faults the site meets in production: several workers and app servers, caches between the
site and the visitor, files and NUL bytes where none belong, and invoice documents that fail
to store, go missing or get damaged. None of them may end in a 5xx."""

import datetime
import hashlib
import io
from collections import Counter

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.client import MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from django.utils import timezone

from registrations.invoicing import documents
from registrations.invoicing.issuing import issue_invoice
from registrations.invoicing.models import Invoice, InvoiceCounter, InvoiceDocument
from registrations.models import RateLimit, Registration
from tests.conftest import (
    make_edition,
    make_registration,
    post_in_parallel,
    sign_up_data,
    stored_pdf,
)
from werkplaats.middleware import RequestGuardMiddleware, UploadRefused, accepts_uploads

AT = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)
INVOICES = reverse("admin:invoicing_invoice_changelist")
REGISTRATIONS = reverse("admin:registrations_registration_changelist")
PDF = InvoiceDocument.Kind.PDF


def register_url(edition):
    return reverse("registrations:register", args=[edition.slug])


# --- The sign-up rate limit holds across workers and app servers -------------------------


def test_the_sign_up_limit_counts_in_the_database_across_clients_and_workers(
    open_edition, settings
):
    settings.REGISTRATION_RATE_LIMIT = 2
    first = Client(REMOTE_ADDR="192.0.2.7")
    second = Client(REMOTE_ADDR="192.0.2.7")
    assert first.post(register_url(open_edition), sign_up_data(first_name="")).status_code == 200
    # The next request lands on another worker or server: it has none of the first's cache.
    cache.clear()
    assert second.post(register_url(open_edition), sign_up_data(first_name="")).status_code == 200
    cache.clear()

    refused = first.post(register_url(open_edition), sign_up_data())

    assert refused.status_code == 429
    assert "Er is niets opgeslagen" in refused.content.decode()
    assert Registration.objects.count() == 0
    limit = RateLimit.objects.get(key="register:192.0.2.7")
    assert limit.hits == 3
    assert limit.window_ends > timezone.now()


def test_the_refusal_says_when_to_retry(open_edition, settings):
    settings.REGISTRATION_RATE_LIMIT = 1
    settings.REGISTRATION_RATE_WINDOW = 600
    client = Client(REMOTE_ADDR="192.0.2.8")
    client.post(register_url(open_edition), sign_up_data(first_name=""))

    refused = client.post(register_url(open_edition), sign_up_data())

    assert refused.status_code == 429
    assert refused["Retry-After"].isdigit()
    assert 0 < int(refused["Retry-After"]) <= 600
    assert Registration.objects.count() == 0


def test_a_new_window_starts_counting_at_one(open_edition, settings):
    settings.REGISTRATION_RATE_LIMIT = 1
    client = Client(REMOTE_ADDR="192.0.2.9")
    client.post(register_url(open_edition), sign_up_data(first_name=""))
    assert client.post(register_url(open_edition), sign_up_data()).status_code == 429
    # The window ends.
    RateLimit.objects.update(window_ends=timezone.now() - datetime.timedelta(seconds=1))

    response = client.post(register_url(open_edition), sign_up_data())

    assert response.status_code == 302
    assert Registration.objects.count() == 1
    limit = RateLimit.objects.get(key="register:192.0.2.9")
    assert limit.hits == 1
    assert limit.window_ends > timezone.now()


def test_long_expired_limits_are_deleted_when_a_new_client_comes(open_edition, settings):
    settings.REGISTRATION_RATE_WINDOW = 600
    now = timezone.now()
    RateLimit.objects.create(
        key="register:192.0.2.10", window_ends=now - datetime.timedelta(days=1), hits=5
    )
    # Ended, but recently: its client may be back any moment and simply starts again.
    RateLimit.objects.create(
        key="register:192.0.2.11", window_ends=now - datetime.timedelta(seconds=60), hits=5
    )

    response = Client(REMOTE_ADDR="192.0.2.12").post(
        register_url(open_edition), sign_up_data(first_name="")
    )

    assert response.status_code == 200
    assert set(RateLimit.objects.values_list("key", flat=True)) == {
        "register:192.0.2.11",
        "register:192.0.2.12",
    }


PARALLEL_POSTS = 25
PARALLEL_LIMIT = 10


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_posts_through_the_limit_allow_exactly_the_limit(postgres, settings):
    settings.REGISTRATION_RATE_LIMIT = PARALLEL_LIMIT
    edition = make_edition(capacity=PARALLEL_POSTS)
    url = register_url(edition)
    results = post_in_parallel(
        url,
        lambda number: sign_up_data(email=f"deelnemer{number}@gemeente.example.nl"),
        PARALLEL_POSTS,
        REMOTE_ADDR="192.0.2.20",
    )

    assert Counter(results) == {302: PARALLEL_LIMIT, 429: PARALLEL_POSTS - PARALLEL_LIMIT}
    assert Registration.objects.filter(edition=edition).count() == PARALLEL_LIMIT
    assert RateLimit.objects.get(key="register:192.0.2.20").hits == PARALLEL_POSTS


# --- Personal pages are not kept by browsers or proxies ----------------------------------


def assert_not_cached(response):
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives, response["Cache-Control"]


def test_personal_pages_are_never_cached(client, open_edition):
    registration = make_registration(open_edition)
    detail = client.get(registration.get_absolute_url())
    cancel = client.get(reverse("registrations:cancel", args=[registration.token]))
    form = client.get(register_url(open_edition))
    # What was typed comes back in the answer to a POST with errors.
    typed = client.post(register_url(open_edition), sign_up_data(email="geen-adres"))

    for response in (detail, cancel, form, typed):
        assert response.status_code == 200
        assert_not_cached(response)
    assert "Kanaleneiland" in typed.content.decode()
    assert Registration.objects.count() == 1
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_the_answer_to_a_sign_up_and_the_refusal_are_never_cached(client, open_edition, settings):
    settings.REGISTRATION_RATE_LIMIT = 1
    stored = client.post(register_url(open_edition), sign_up_data())
    refused = client.post(register_url(open_edition), sign_up_data(email="ander@example.nl"))

    assert (stored.status_code, refused.status_code) == (302, 429)
    assert_not_cached(stored)
    assert_not_cached(refused)
    assert Registration.objects.count() == 1


# --- Files are refused where no form takes one -------------------------------------------


@pytest.fixture
def upload_reads(monkeypatch):
    """Every chunk of an upload Django's own handlers receive (none, if refused unread)."""
    chunks = []
    for handler in (MemoryFileUploadHandler, TemporaryFileUploadHandler):
        real = handler.receive_data_chunk

        def spy(self, raw_data, start, real=real):
            chunks.append(len(raw_data))
            return real(self, raw_data, start)

        monkeypatch.setattr(handler, "receive_data_chunk", spy)
    return chunks


def test_a_20_mb_file_sent_to_the_sign_up_form_is_refused_unread(
    client, open_edition, upload_reads
):
    upload = SimpleUploadedFile("cv.pdf", b"%PDF-" + b"x" * (20 * 1024 * 1024), "application/pdf")

    response = client.post(register_url(open_edition), {**sign_up_data(), "bijlage": upload})

    assert response.status_code == 413
    assert "Verzoek te groot" in response.content.decode()
    assert upload_reads == []
    assert Registration.objects.count() == 0
    # Refused before the view: it does not even count against the rate limit.
    assert RateLimit.objects.count() == 0


def test_a_small_file_sent_to_the_sign_up_form_is_refused_unread(
    client, open_edition, upload_reads
):
    upload = SimpleUploadedFile("foto.jpg", b"\xff\xd8\xff" + b"x" * 10_000, "image/jpeg")

    response = client.post(register_url(open_edition), {**sign_up_data(), "foto": upload})

    assert response.status_code == 400
    assert "Verzoek niet begrepen" in response.content.decode()
    assert upload_reads == []
    assert Registration.objects.count() == 0


def test_a_multipart_sign_up_without_files_still_works(client, open_edition):
    # Django's test client, like a form with enctype="multipart/form-data", posts multipart.
    response = client.post(
        register_url(open_edition), sign_up_data(), content_type=MULTIPART_CONTENT
    )

    assert response.status_code == 302
    registration = Registration.objects.get()
    assert response["Location"] == registration.get_absolute_url()
    assert registration.first_name == "Fatima"


def test_only_a_view_marked_accepts_uploads_receives_files(db):
    def upload_request():
        body = encode_multipart("grens", {"bestand": SimpleUploadedFile("a.txt", b"inhoud")})
        return RequestFactory().post("/", body, content_type="multipart/form-data; boundary=grens")

    def view(request):
        return HttpResponse(request.FILES["bestand"].read())

    guard = RequestGuardMiddleware(lambda request: HttpResponse())

    marked = upload_request()
    assert guard.process_view(marked, accepts_uploads(view), (), {}) is None
    assert marked.FILES["bestand"].read() == b"inhoud"

    unmarked = upload_request()
    assert guard.process_view(unmarked, lambda request: None, (), {}) is None
    with pytest.raises(UploadRefused):
        _ = unmarked.POST  # reading the body is what refuses


# --- A NUL byte in the address is a 400 before any query ----------------------------------


def test_a_nul_byte_in_the_address_is_a_400_before_any_query(
    client, invoicing, open_edition, finance_user, staff_member, django_assert_num_queries
):
    invoice = issue_invoice(make_registration(open_edition), at=AT)
    finance = Client()
    finance.force_login(finance_user)
    staff = Client()
    staff.force_login(staff_member)
    pdf = reverse("admin:invoicing_invoice_pdf", args=[invoice.number])
    requests = [
        (finance, f"{INVOICES}?q=%00"),
        (finance, f"{REGISTRATIONS}?q=%00"),
        (staff, f"{REGISTRATIONS}?q=Fatima%00"),
        (finance, pdf.replace("/pdf/", "%00/pdf/")),
        (client, "/?q=%00"),
        (client, register_url(open_edition) + "?%00=1"),
    ]

    for browser, url in requests:
        with django_assert_num_queries(0):
            response = browser.get(url)
        assert response.status_code == 400, url
        assert "Verzoek niet begrepen" in response.content.decode()
    assert finance.get(pdf).status_code == 200
    assert Invoice.objects.get().number == invoice.number
    assert Registration.objects.count() == 1


# --- Invoice documents -------------------------------------------------------------------


@pytest.fixture
def invoice(invoicing, open_edition):
    return issue_invoice(make_registration(open_edition), at=AT)


def act(client, action, invoices, **extra):
    data = {"action": action, "_selected_action": [i.pk for i in invoices], "index": 0, **extra}
    return client.post(INVOICES, data, follow=True)


def nothing_issued():
    return (
        not Invoice.objects.exists()
        and not InvoiceDocument.objects.exists()
        and not InvoiceCounter.objects.filter(last_number__gt=0).exists()
    )


def test_a_failed_render_while_issuing_rolls_everything_back(invoicing, open_edition, monkeypatch):
    registration = make_registration(open_edition)

    def broken(invoice, **options):
        raise RuntimeError("renderer crashed")

    with monkeypatch.context() as patch:
        patch.setattr(documents, "render_invoice", broken)
        with pytest.raises(RuntimeError):
            issue_invoice(registration, at=AT)

    assert nothing_issued()
    assert issue_invoice(registration, at=AT).number == "2022-0001"
    assert InvoiceDocument.objects.count() == 2  # the PDF and the e-invoice


def test_a_full_disk_while_storing_the_document_rolls_everything_back(
    invoicing, open_edition, monkeypatch
):
    registration = make_registration(open_edition)

    def disk_full(**fields):
        raise OSError("No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(InvoiceDocument.objects, "create", disk_full)
        with pytest.raises(OSError):
            issue_invoice(registration, at=AT)

    assert nothing_issued()
    assert issue_invoice(registration, at=AT).number == "2022-0001"
    assert InvoiceDocument.objects.count() == 2  # the PDF and the e-invoice


def lose(invoice):
    InvoiceDocument.objects.filter(invoice=invoice, kind=PDF).delete()


def damage(invoice):
    InvoiceDocument.objects.filter(invoice=invoice, kind=PDF).update(
        content=b"%PDF-1.7 overschreven"
    )


@pytest.mark.parametrize(
    ("fault", "message"),
    [(lose, "ontbreekt"), (damage, "klopt niet met de controlesom")],
    ids=["missing", "damaged"],
)
def test_a_missing_or_damaged_document_is_reported_in_dutch_everywhere(
    client, invoice, finance_user, fault, message
):
    fault(invoice)
    client.force_login(finance_user)

    download = client.get(
        reverse("admin:invoicing_invoice_pdf", args=[invoice.number]), follow=True
    )
    archive = act(client, "download_zip", [invoice])
    emailed = act(client, "email_invoices", [invoice], apply="1")

    for response in (download, archive, emailed):
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == INVOICES
        assert response["Content-Type"].startswith("text/html")
        assert f"De {'opgeslagen ' if fault is damage else ''}pdf van 2022-0001" in (
            response.content.decode()
        )
        assert message in response.content.decode()
    assert mail.outbox == []
    invoice.refresh_from_db()
    assert invoice.emailed_at is None


@pytest.mark.parametrize("fault", [lose, damage], ids=["missing", "damaged"])
def test_the_restore_action_puts_back_exactly_the_original(client, invoice, finance_user, fault):
    original = stored_pdf(invoice)
    fault(invoice)
    client.force_login(finance_user)

    response = act(client, "restore_documents", [invoice])

    assert response.status_code == 200
    assert "pdf van 2022-0001 hersteld" in response.content.decode()
    restored = bytes(InvoiceDocument.objects.get(invoice=invoice, kind=PDF).content)
    assert restored == original
    assert hashlib.sha256(restored).hexdigest() == invoice.pdf_sha256
    assert (
        client.get(reverse("admin:invoicing_invoice_pdf", args=[invoice.number])).status_code == 200
    )


def test_the_restore_action_leaves_a_sound_document_alone(client, invoice, finance_user):
    before = InvoiceDocument.objects.get(invoice=invoice, kind=PDF)
    client.force_login(finance_user)

    response = act(client, "restore_documents", [invoice])

    assert "pdf van 2022-0001 is in orde" in response.content.decode()
    after = InvoiceDocument.objects.get(invoice=invoice, kind=PDF)
    assert (after.pk, after.stored_at, bytes(after.content)) == (
        before.pk,
        before.stored_at,
        bytes(before.content),
    )


@pytest.mark.parametrize("fault", [lose, damage], ids=["missing", "damaged"])
def test_the_restore_action_stores_nothing_when_a_new_render_differs(
    client, invoice, finance_user, fault, monkeypatch
):
    fault(invoice)
    left = list(InvoiceDocument.objects.filter(invoice=invoice).values_list("content", flat=True))
    monkeypatch.setattr(
        documents, "render_invoice", lambda invoice, **options: b"%PDF-1.7 een andere pdf"
    )
    client.force_login(finance_user)

    response = act(client, "restore_documents", [invoice])

    assert response.status_code == 200
    assert "kan niet worden hersteld" in response.content.decode()
    now = list(InvoiceDocument.objects.filter(invoice=invoice).values_list("content", flat=True))
    assert [bytes(c) for c in now] == [bytes(c) for c in left]


def run_check(*options):
    out = io.StringIO()
    try:
        call_command("check_invoice_documents", *options, stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def test_the_check_command_reports_without_changing_anything(invoicing, open_edition):
    sound, missing, damaged = (
        issue_invoice(make_registration(open_edition), at=AT) for _ in range(3)
    )
    lose(missing)
    damage(damaged)

    out, error = run_check()

    lines = out.splitlines()
    assert len(lines) == 2
    assert "2022-0002" in lines[0] and "ontbreekt" in lines[0]
    assert "2022-0003" in lines[1] and "controlesom" in lines[1]
    assert sound.number not in out
    assert error and "2 van 3" in error and "--restore" in error
    assert not InvoiceDocument.objects.filter(invoice=missing, kind=PDF).exists()
    assert (
        bytes(InvoiceDocument.objects.get(invoice=damaged, kind=PDF).content)
        == b"%PDF-1.7 overschreven"
    )


def test_the_check_command_restores_what_it_can(invoicing, open_edition):
    first, second = (issue_invoice(make_registration(open_edition), at=AT) for _ in range(2))
    originals = {first.pk: stored_pdf(first), second.pk: stored_pdf(second)}
    lose(first)
    damage(second)

    out, error = run_check("--restore")

    assert error is None
    assert "De pdf van 2022-0001 is hersteld" in out
    assert "De pdf van 2022-0002 is hersteld" in out
    for document in InvoiceDocument.objects.filter(kind=PDF):
        assert bytes(document.content) == originals[document.invoice_id]
    assert InvoiceDocument.objects.filter(kind=PDF).count() == 2
    assert run_check() == (
        "2 facturen gecontroleerd (pdf en e-factuur), 0 hersteld; alles klopt.\n",
        None,
    )


def test_the_check_command_fails_when_a_document_cannot_be_restored(invoice, monkeypatch):
    lose(invoice)
    monkeypatch.setattr(
        documents, "render_invoice", lambda invoice, **options: b"%PDF-1.7 een andere pdf"
    )

    out, error = run_check("--restore")

    assert "2022-0001" in out and "kan niet worden hersteld" in out
    assert error and "2022-0001" in error and "back-up" in error
    assert not InvoiceDocument.objects.filter(kind=PDF).exists()
