"""What a machine and a newcomer need for invoicing: the system check and the demo data."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from registrations.invoicing import checks
from registrations.invoicing.issuing import issue_invoice
from registrations.invoicing.models import InvoiceIssuer
from registrations.models import Registration
from tests.conftest import make_issuer
from werkplaats import pdf


def test_check_warns_without_harfbuzz_subset(monkeypatch):
    monkeypatch.setattr(checks.ctypes.util, "find_library", lambda name: None)
    ids = [warning.id for warning in checks.invoice_pdf_dependencies()]
    assert "invoicing.W001" in ids


def test_check_warns_without_the_font(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "FONT_DIR", tmp_path)
    warnings = checks.invoice_pdf_dependencies()
    assert [w.id for w in warnings if w.id == "invoicing.W002"]
    assert "fonts-dejavu-core" in warnings[-1].hint


def test_this_machine_has_what_the_pdf_needs():
    # The system packages the README names are installed (CI installs them too).
    assert checks.invoice_pdf_dependencies() == []


def test_demo_command_fills_example_issuer_and_a_registration(db, settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    call_command("load_seed", stdout=io.StringIO())
    call_command("load_demo_edition", stdout=io.StringIO())
    out = io.StringIO()
    call_command("load_demo_invoicing", stdout=out)
    issuer = InvoiceIssuer.load()
    assert issuer.is_example
    assert issuer.kvk_number == "VOORBEELD"
    registration = Registration.objects.get(edition__is_demo=True)
    invoice = issue_invoice(registration)
    assert invoice.issuer_is_example
    # Running it again changes nothing.
    call_command("load_demo_invoicing", stdout=io.StringIO())
    assert Registration.objects.filter(edition__is_demo=True).count() == 1


def test_demo_command_keeps_real_issuer_details(db, settings):
    settings.DEBUG = True
    make_issuer()
    call_command("load_demo_invoicing", "--dry-run", stdout=io.StringIO())
    call_command("load_demo_invoicing", stdout=io.StringIO())
    assert InvoiceIssuer.load().kvk_number == "27169301"
    assert not InvoiceIssuer.load().is_example


def test_demo_command_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("load_demo_invoicing", stdout=io.StringIO())
    assert not InvoiceIssuer.objects.exists()
