"""Invoice numbers: consecutive per series, no gaps after a failure, no duplicates under
parallel issue (proved on PostgreSQL with many threads)."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from registrations.invoicing import documents
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import (
    Invoice,
    InvoiceCounter,
    InvoiceDocument,
    InvoiceIssuer,
    InvoiceRefused,
)
from tests.conftest import make_edition, make_issuer, make_registration


def at(year, month=6, day=1):
    return datetime.datetime(year, month, day, 12, 0, tzinfo=datetime.UTC)


def test_numbers_are_consecutive_within_the_year(invoicing, open_edition):
    numbers = [issue_invoice(make_registration(open_edition), at=at(2022)).number for _ in range(3)]
    assert numbers == ["2022-0001", "2022-0002", "2022-0003"]


def test_a_new_year_starts_a_new_series(invoicing, open_edition):
    first = issue_invoice(make_registration(open_edition), at=at(2022, 12, 31)).number
    second = issue_invoice(make_registration(open_edition), at=at(2023, 1, 2)).number
    assert (first, second) == ("2022-0001", "2023-0001")


def test_the_year_is_the_amsterdam_date_of_issue(invoicing, open_edition):
    # 23:30 UTC on 31 December is already 1 January in Amsterdam.
    late = datetime.datetime(2022, 12, 31, 23, 30, tzinfo=datetime.UTC)
    invoice = issue_invoice(make_registration(open_edition), at=late)
    assert invoice.number == "2023-0001"
    assert invoice.invoice_date == datetime.date(2023, 1, 1)


def test_prefix_is_configurable(invoicing, open_edition):
    make_issuer(number_prefix="WP{year}-")
    assert issue_invoice(make_registration(open_edition), at=at(2022)).number == "WP2022-0001"


def test_credit_notes_share_the_series_by_default(invoicing, open_edition):
    invoice = issue_invoice(make_registration(open_edition), at=at(2022))
    credit = credit_invoice(invoice, at=at(2022, 6, 2))
    following = issue_invoice(make_registration(open_edition), at=at(2022, 6, 3))
    assert [invoice.number, credit.number, following.number] == [
        "2022-0001",
        "2022-0002",
        "2022-0003",
    ]


def test_credit_notes_can_have_their_own_series(invoicing, open_edition):
    make_issuer(credit_notes_own_series=True, credit_note_prefix="{year}-C")
    invoice = issue_invoice(make_registration(open_edition), at=at(2022))
    credit = credit_invoice(invoice, at=at(2022, 6, 2))
    following = issue_invoice(make_registration(open_edition), at=at(2022, 6, 3))
    assert [invoice.number, credit.number, following.number] == [
        "2022-0001",
        "2022-C0001",
        "2022-0002",
    ]


def test_a_failed_render_leaves_no_gap_and_no_document(invoicing, open_edition, monkeypatch):
    first = issue_invoice(make_registration(open_edition), at=at(2022))
    registration = make_registration(open_edition)

    real_render = documents.render_invoice

    def broken(invoice, **options):
        real_render(invoice, **options)
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(documents, "render_invoice", broken)
    with pytest.raises(RuntimeError):
        issue_invoice(registration, at=at(2022))
    monkeypatch.setattr(documents, "render_invoice", real_render)

    assert InvoiceCounter.objects.get(series="2022-").last_number == 1
    assert not Invoice.objects.for_registration(registration).exists()
    # The first invoice's PDF and e-invoice; nothing of the failed one.
    assert list(InvoiceDocument.objects.values_list("invoice", flat=True)) == [first.pk] * 2
    assert issue_invoice(registration, at=at(2022)).number == "2022-0002"


def test_a_failure_after_the_document_is_stored_removes_it(invoicing, open_edition, monkeypatch):
    registration = make_registration(open_edition)
    real_save = Invoice.save

    def failing_save(self, *args, **kwargs):
        # The checksum is saved after the document row is inserted: fail right there.
        real_save(self, *args, **kwargs)
        if kwargs.get("update_fields") == ["pdf_sha256"]:
            raise RuntimeError("disk full")

    monkeypatch.setattr(Invoice, "save", failing_save)
    with pytest.raises(RuntimeError):
        issue_invoice(registration, at=at(2022))
    assert not InvoiceDocument.objects.exists()
    assert not Invoice.objects.exists()
    assert InvoiceCounter.objects.filter(series="2022-", last_number__gt=0).count() == 0


def test_refusals_take_no_number(invoicing, open_edition):
    registration = make_registration(open_edition)
    issue_invoice(registration, at=at(2022))
    with pytest.raises(InvoiceRefused, match="heeft al factuur 2022-0001"):
        issue_invoice(registration, at=at(2022))
    cancelled = make_registration(open_edition)
    cancelled.cancel()
    with pytest.raises(InvoiceRefused, match="geannuleerd"):
        issue_invoice(cancelled, at=at(2022))
    assert InvoiceCounter.objects.get(series="2022-").last_number == 1


def test_missing_issuer_details_refuse_issuing_with_a_clear_message(db, open_edition):
    InvoiceIssuer.objects.all().delete()
    InvoiceIssuer(kvk_number="27169301").save()
    with pytest.raises(InvoiceRefused) as refusal:
        issue_invoice(make_registration(open_edition), at=at(2022))
    message = str(refusal.value)
    assert message.startswith("Factureren kan nog niet")
    for label in ["straat en huisnummer", "postcode", "plaats", "btw-id", "IBAN"]:
        assert label in message
    assert "KvK-nummer" not in message
    assert not Invoice.objects.exists()


def test_example_issuer_is_refused_outside_debug(invoicing, open_edition, settings):
    settings.DEBUG = False
    make_issuer(is_example=True)
    with pytest.raises(InvoiceRefused, match="voorbeeldgegevens"):
        issue_invoice(make_registration(open_edition), at=at(2022))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_issues_on_postgresql_get_distinct_consecutive_numbers(
    postgres, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_issuer()
    edition = make_edition()
    registrations = [make_registration(edition, email=f"p{n}@example.nl") for n in range(50)]
    # 50 registrations, each issued twice at the same moment from two different threads
    # (50 is not a multiple of the 8 threads): exactly one of the two wins.
    work = registrations + registrations
    barrier = threading.Barrier(8)
    results, refusals, errors = [], [], []
    lock = threading.Lock()

    def worker(chunk):
        try:
            barrier.wait()
            for registration in chunk:
                try:
                    invoice = issue_invoice(registration, at=at(2022))
                except InvoiceRefused:
                    with lock:
                        refusals.append(registration.pk)
                else:
                    with lock:
                        results.append(invoice.number)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(work[n::8],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(refusals) == 50
    assert sorted(results) == [f"2022-{n:04d}" for n in range(1, 51)]
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, 51))
    assert InvoiceCounter.objects.get(series="2022-").last_number == 50
    assert {i.lines.get().registration_id for i in Invoice.objects.all()} == {
        r.pk for r in registrations
    }
    assert all(i.total_incl_vat == Decimal("2178.00") for i in Invoice.objects.all())
