"""Shared fixtures: editions, a valid sign-up, and the people who use the back office."""

import copy
import datetime
import io
import json
import os
import re
import socket
import threading
import time
import uuid
from collections import deque
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.contrib.auth.signals import user_logged_in
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import override_settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_httpserver import HTTPServer
from werkzeug import Response
from whitenoise.base import WhiteNoise, scantree

from programme.models import Edition
from programme.pages import pages
from registrations.accesslog import guards as access_log_guards
from registrations.accesslog.models import AccessLogEntry
from registrations.pages import sign_up_pages

IN_CI = bool(os.environ.get("CI"))

# The browser tests' fixtures (live server, Chromium, screenshots on failure). Registered
# here so pytest rewrites the module's asserts; Playwright is imported only when a test
# asks for the browser.
pytest_plugins = ["tests.browser_support"]


def require(condition, reason):
    """Skip locally when a real part is missing; fail in CI, where it must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI is set, so this test may not skip)")
    pytest.skip(reason)


# CI runs the suite once per database and says which with CI_DATABASE (.ci/run). On the
# SQLite pass the PostgreSQL-only tests are skipped with their reason shown; they ran, and
# had to pass, on the PostgreSQL pass. Without CI_DATABASE, CI fails them instead.
CI_DATABASE = os.environ.get("CI_DATABASE", "")


@pytest.fixture(scope="session", autouse=True)
def _database_is_the_one_ci_declared(django_db_blocker):
    with django_db_blocker.unblock():
        vendor = connection.vendor
    if CI_DATABASE and CI_DATABASE != vendor:
        pytest.exit(f"CI_DATABASE={CI_DATABASE} but the tests run on {vendor}", returncode=3)


@pytest.fixture(scope="session", autouse=True)
def _static_files_read_once_per_process():
    """WhiteNoise reads every file under STATIC_ROOT (~1,600 with the compressed copies) when
    its middleware is made: once per process on the site, but once per test Client here,
    which cost about a third of a second per test. Keep what it read while the files (name,
    size, time) and its options are unchanged, as the site's process keeps it."""
    read = {}
    read_files = WhiteNoise.update_files_dictionary

    def update_files_dictionary(self, root, prefix):
        key = (
            type(self),
            root,
            prefix,
            tuple(sorted((path, st.st_size, st.st_mtime_ns) for path, st in scantree(root))),
            (self.max_age, self.allow_all_origins, self.charset, self.index_file),
            (
                self.add_headers_function,
                getattr(self.immutable_file_test, "__func__", self.immutable_file_test),
            ),
            tuple(sorted(self.media_types.types_map.items())),
            (django_settings.STATIC_URL, repr(django_settings.STORAGES.get("staticfiles"))),
        )
        if key not in read:
            files, self.files = self.files, {}
            read_files(self, root, prefix)
            read[key], self.files = self.files, files
        self.files.update(read[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WhiteNoise, "update_files_dictionary", update_files_dictionary)
        yield


@pytest.fixture
def postgres(db):
    if connection.vendor != "postgresql" and CI_DATABASE == "sqlite":
        pytest.skip("needs PostgreSQL: runs in CI's PostgreSQL pass, not the SQLite pass")
    require(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL=postgres://…)")


@pytest.fixture(autouse=True)
def _access_log_emptied_after_transactional_tests(request):
    """After a transactional test pytest-django empties every table, but the access log's
    trigger refuses to lose a young entry (registrations/accesslog/guards.py), as it should
    in production. So its entries go first, with the trigger dropped and made again."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if not (
        "transactional_db" in names
        or "live_server" in names
        or (marker is not None and marker.kwargs.get("transaction"))
    ):
        yield
        return
    # Asked for here, so this clean-up runs before its flush.
    request.getfixturevalue("transactional_db")
    yield
    with connection.schema_editor() as editor:
        access_log_guards.drop(django_apps, editor)
    AccessLogEntry.objects.all().delete()
    with connection.schema_editor() as editor:
        access_log_guards.create(django_apps, editor)


@pytest.fixture(autouse=True)
def _fast_passwords_and_private_media(settings, tmp_path):
    # Real password hashing costs ~0.4 s per persona; tests prove permissions, not hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Invoice PDFs written by tests go to a temporary folder, never the project's media/.
    settings.MEDIA_ROOT = tmp_path / "media"


# TEST CONVENIENCE ONLY: the back office asks every account for a second factor after its
# password (werkplaats/twofactor/). Tests that are about something else sign staff in with
# `client.force_login(user)`, `client.login(...)` or the login form in Chromium (the live
# server runs in this process); for those, a staff sign-in here also gives the second factor:
# the person gets a confirmed authenticator app ("Testapparaat") and the session counts as
# verified with it, as after typing its code. Tests that prove the rule itself are marked
# `@pytest.mark.real_second_factor` and sign in as a person must.
TEST_DEVICE = "Testapparaat"


def _second_factor_given_at_sign_in(sender, request, user, **kwargs):
    if not user.is_staff or request is None or not hasattr(request, "session"):
        return
    device = TOTPDevice.objects.filter(user=user, name=TEST_DEVICE).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TEST_DEVICE, confirmed=True)
    # What django_otp.login() stores; the test client's request has no user to check it on.
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id


@pytest.fixture(autouse=True)
def _staff_sign_ins_give_their_second_factor(request):
    if request.node.get_closest_marker("real_second_factor"):
        yield
        return
    user_logged_in.connect(_second_factor_given_at_sign_in, dispatch_uid=TEST_DEVICE)
    yield
    user_logged_in.disconnect(dispatch_uid=TEST_DEVICE)


def built_once(django_db_blocker, tmp_path_factory, build):
    """For a module- or class-scoped fixture (`yield from built_once(...)`): what `build()`
    returns, written once, in a transaction on every database that is rolled back when the
    scope ends. Each test in between runs in its own savepoint inside it (pytest-django's
    `db`), so what a test changes is undone before the next one, as if the data had been built
    for each test alone; tests without `db` still cannot reach the database."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    media = tmp_path_factory.mktemp("media")
    atomics = [transaction.atomic(using=alias) for alias in connections]
    with override_settings(PASSWORD_HASHERS=fast, MEDIA_ROOT=media):
        try:
            with django_db_blocker.unblock():
                for atomic in atomics:
                    # Durable blocks in the code under test stay allowed, as in a TestCase.
                    atomic._from_testcase = True
                    atomic.__enter__()
                data = build()
            yield data
        finally:
            with django_db_blocker.unblock():
                for alias in connections:
                    if connections[alias].in_atomic_block:
                        transaction.set_rollback(True, using=alias)
                for atomic in reversed(atomics):
                    if connections[atomic.using].in_atomic_block:
                        atomic.__exit__(None, None, None)


def fresh_copy(data):
    """The built data for one test: a deep copy, so a test that changes an object in memory
    leaves the next test the object as stored (what Django's setUpTestData does too)."""
    return copy.deepcopy(data)


@pytest.fixture(autouse=True)
def _clear_cache():
    # Each worker keeps its own copy of the workshop pages and the empty sign-up form, checked
    # against the page versions (in the cache with Redis); every test starts with a clean
    # slate, as a new worker would.
    for each in caches.all():
        each.clear()
    pages.forget()
    sign_up_pages.forget()
    yield
    for each in caches.all():
        each.clear()
    pages.forget()
    sign_up_pages.forget()


@pytest.fixture
def edition_2022(db):
    call_command("load_seed", stdout=open(os.devnull, "w"))
    return Edition.objects.get(slug="werken-aan-wijkontwikkeling-2022")


def make_edition(**overrides):
    """A published, open edition a year ahead unless told otherwise."""
    today = datetime.date.today()
    start = today + datetime.timedelta(days=365)
    fields = {
        "title": "Werkplaats ‘Werken aan wijkontwikkeling’",
        "slug": f"test-{start.year}-{Edition.objects.count() + 1}",
        "is_published": True,
        "start_date": start,
        "end_date": start + datetime.timedelta(days=2),
        "daily_start_time": datetime.time(9, 30),
        "daily_end_time": datetime.time(17, 0),
        "venue_name": "Kaap Doorn Conferentiecentrum",
        "venue_city": "Doorn",
        "price_excl_vat": Decimal("1800.00"),
        "registration_deadline": start - datetime.timedelta(days=66),
        "terms": "Annuleren kan kosteloos tot en met de deadline.",
    }
    fields.update(overrides)
    edition = Edition.objects.create(**fields)
    edition.contacts.create(
        name="Romy", topic="praktische vragen", phone="+31 6 57 94 37 32", is_practical_contact=True
    )
    return edition


@pytest.fixture
def open_edition(db):
    return make_edition()


def sign_up_data(**overrides):
    """What a participant types into the form, as POST data."""
    data = {
        "first_name": "Fatima",
        "last_name": "El Amrani",
        "email": "fatima@gemeente.example.nl",
        "phone": "06 12345678",
        "organisation": "Gemeente Utrecht",
        "job_title": "Wijkregisseur",
        "sector": "gemeente",
        "role": "leider",
        "own_case": "Hoe krijgen bewoners van Kanaleneiland meer regie?",
        "dietary_needs": "vegetarisch",
        "accessibility_needs": "",
        "overnight_stay": "ja",
        "invoice_organisation": "Gemeente Utrecht",
        "invoice_attention": "Crediteurenadministratie",
        "invoice_street": "Stadsplateau 1",
        "invoice_postcode": "3521az",
        "invoice_city": "Utrecht",
        "invoice_country": "NL",
        "invoice_email": "facturen@utrecht.example.nl",
        "po_number": "PO-2022-0042",
        "vat_id": "",
        "kvk_number": "30280353",
        "oin": "",
        "peppol_id": "",
        "accept_terms": "on",
        "accept_privacy": "on",
        "website": "",
    }
    data.update(overrides)
    return data


def submission_key_from(response):
    """The hidden submission key on a form page, as a browser would send it back."""
    found = re.search(r'name="submission_key" value="([^"]+)"', response.content.decode())
    assert found, "the form page has no submission key"
    return found[1]


def make_registration(edition, at=None, **overrides):
    """A stored registration, placed the way the form places it (confirmed, or waiting when
    the edition is full or people wait), but also after the deadline, as staff may."""
    from django.utils import timezone

    from registrations.models import Registration

    now = timezone.now()
    fields = {
        "first_name": "Fatima",
        "last_name": "El Amrani",
        "email": f"deelnemer{Registration.objects.count() + 1}@example.nl",
        "phone": "06 12345678",
        "organisation": "Gemeente Utrecht",
        "job_title": "Wijkregisseur",
        "sector": "gemeente",
        "role": "leider",
        "invoice_organisation": "Gemeente Utrecht",
        "invoice_attention": "Crediteurenadministratie",
        "invoice_street": "Stadsplateau 1",
        "invoice_postcode": "3521 AZ",
        "invoice_city": "Utrecht",
        "invoice_country": "NL",
        "invoice_email": "facturen@utrecht.example.nl",
        "po_number": "PO-2022-0042",
        "kvk_number": "30280353",
        "terms_accepted_at": now,
        "privacy_accepted_at": now,
    }
    status = overrides.pop("status", None)
    fields.update(overrides)
    registration = Registration.objects.register(edition, at=at, by_staff=True, **fields)
    if status and status != registration.status:
        # A state to start a test from, set directly (the transitions have their own tests).
        now = timezone.now()
        state = {
            "status": status,
            "waiting_since": now if status == Registration.Status.WAITING else None,
            "cancelled_at": now if status == Registration.Status.CANCELLED else None,
        }
        Registration.objects.filter(pk=registration.pk).update(**state)
        registration.refresh_from_db()
        registration._stored_status = registration.status
    return registration


PASSWORD = "correct-horse-battery-staple-31"


def _user(username, group=None, **extra):
    user = User.objects.create_user(
        username, f"{username}@platform31.example.nl", PASSWORD, is_staff=True, **extra
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def staff_member(db):
    """Anna, Platform31 staff: manages editions and registrations (group Medewerkers)."""
    return _user("anna", "Medewerkers")


@pytest.fixture
def finance_user(db):
    """Femke from finance: views registrations, issues invoices (group Financiën)."""
    return _user("femke", "Financiën")


@pytest.fixture
def outsider(db):
    """Otto: can log in to admin but belongs to no group."""
    return _user("otto")


ISSUER = {
    "name": "Platform31",
    "street": "Postbus 30833",
    "postcode": "2500 GV",
    "city": "Den Haag",
    "country": "NL",
    "kvk_number": "27169301",
    "vat_id": "NL000099998B57",
    "iban": "NL91ABNA0417164300",
    "bic": "ABNANL2A",
    "email": "facturen@platform31.example.nl",
    "payment_term_days": 30,
    "footer_text": "Op onze diensten zijn de algemene voorwaarden van Platform31 van toepassing.",
}


def make_issuer(**overrides):
    """The invoice issuer, complete, with `overrides`."""
    from registrations.invoicing.models import InvoiceIssuer

    issuer = InvoiceIssuer.load()
    for field, value in {**ISSUER, **overrides}.items():
        setattr(issuer, field, value)
    issuer.full_clean()
    issuer.save()
    return issuer


@pytest.fixture
def invoicing(db):
    """A complete invoice issuer, so invoices can be issued."""
    return make_issuer()


@pytest.fixture
def einvoice_rules(settings):
    """The official e-invoice rules (SI-UBL 2.0, EN 16931) from the shared folder, configured
    as EINVOICE_RULES_DIR: every invoice issued in the test is validated."""
    rules = Path(settings.BASE_DIR).parent / "shared" / "einvoice"
    files = [rules / "si-ubl-2.0.xsl", rules / "EN16931-UBL-validation.xslt"]
    require(all(path.is_file() for path in files), f"needs the official e-invoice rules in {rules}")
    settings.EINVOICE_RULES_DIR = str(rules)
    return rules


def pdf_text(content):
    """All text of a PDF, whitespace collapsed to single spaces."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " "))


def stored_pdf(invoice):
    """The PDF stored at issue, as the admin serves it (checked against its SHA-256)."""
    from registrations.invoicing.documents import pdf_bytes

    return pdf_bytes(invoice)


def closed_port():
    """A loopback port where nothing listens: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _AdminForm(HTMLParser):
    """What a browser would submit for the admin form with the given id, unchanged."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields = []
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
                return
            self.fields.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self._select = {"name": name, "first": None, "selected": None}
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in attrs:
                self._select["selected"] = value
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = self._select["selected"]
            if chosen is None:
                chosen = self._select["first"] or ""
            self.fields.append((self._select["name"], chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            # Browsers drop the newline Django puts right after <textarea>.
            self.fields.append((name, text.removeprefix("\n")))
            self._textarea = None


def form_data(response, form_id, **changes):
    """The form as the page shows it, with `changes` typed in, ready to POST."""
    assert response.status_code == 200
    parser = _AdminForm(form_id)
    parser.feed(response.content.decode())
    assert parser.fields, f"no form #{form_id} on the page"
    data = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    for name, value in changes.items():
        data[name] = value if isinstance(value, list) else [value]
    data["_save"] = ["Opslaan"]
    return data


def post_in_parallel(url, data_of, count, at_once=None, **client_options):
    """POST `data_of(n)` to `url` (or to `url(n)` when it is a function) from `count`
    threads released together (at most `at_once` in flight); the status codes, or the
    error, of each, in order."""
    import threading

    from django.db import connection
    from django.test import Client

    start = threading.Barrier(count)
    slots = threading.BoundedSemaphore(at_once or count)
    results = [None] * count

    def post(number):
        start.wait()
        with slots:
            try:
                target = url(number) if callable(url) else url
                results[number] = Client(**client_options).post(target, data_of(number)).status_code
            except Exception as error:  # every failure is counted by the caller
                results[number] = repr(error)
            finally:
                connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def make_ended_edition(days_ago=30, **overrides):
    """A published three-day edition that ended `days_ago` days before today."""
    start = datetime.date.today() - datetime.timedelta(days=days_ago + 2)
    fields = {
        "start_date": start,
        "end_date": start + datetime.timedelta(days=2),
        "registration_deadline": start - datetime.timedelta(days=14),
    }
    return make_edition(**{**fields, **overrides})


@pytest.fixture
def ended_edition(db):
    return make_ended_edition()


def admin_action(client, url, action, rows, **extra):
    """POST an admin changelist action for `rows`, as the changelist form does."""
    data = {"action": action, "_selected_action": [row.pk for row in rows], "index": 0, **extra}
    return client.post(url, data)


def pdf_fonts(content):
    """{font name: embedded?} for every font a PDF's pages use."""
    from pypdf import PdfReader

    fonts = {}
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts[str(font["/BaseFont"])] = embedded
    return fonts


def pdf_text_pieces(content):
    """(page number, x, y, text) of every piece of text in a PDF, in points from the page's
    bottom left."""
    from pypdf import PdfReader

    pieces = []
    for number, page in enumerate(PdfReader(io.BytesIO(content)).pages, start=1):

        def visit(text, cm, tm, font, size, number=number):
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                pieces.append((number, x, y, text.strip()))

        page.extract_text(visitor_text=visit)
    return pieces


def tiny_pdf(pages=1):
    """A real PDF of blank A4 pages, as an upload of preparation material."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class SmtpInbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd): (its controller, what it received)."""
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


OUR_IBAN = "NL91ABNA0417164300"


def camt_transaction(
    amount=None,
    name="Gemeente Utrecht",
    iban="NL02RABO0123456789",
    remittance=None,
    reference=None,
    bank_reference=None,
    end_to_end="NOTPROVIDED",
):
    """One TxDtls of a CAMT.053 entry: who paid, with what description or creditor reference.
    `amount` only matters in a batch entry (each transaction carries its own)."""
    return {
        "amount": amount,
        "name": name,
        "iban": iban,
        "remittance": remittance,
        "reference": reference,
        "bank_reference": bank_reference,
        "end_to_end": end_to_end,
    }


def camt053(entries, version="02", account=OUR_IBAN, statement_id="2022-10-03-001"):
    """A CAMT.053 statement as the Dutch banks export it, as bytes.

    `entries`: dicts with amount (Decimal, negative for a debit), booking_date, optional
    bank_reference, status ("BOOK") and transactions (camt_transaction dicts; several make a
    batch entry). Version "02" writes camt.053.001.02 (ING, Rabobank, ABN AMRO); "08" writes
    camt.053.001.08 (Sts/Cd, TxDtls/Amt, the party's name under Pty)."""
    from xml.sax.saxutils import escape

    new = version != "02"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
        "<BkToCstmrStmt>",
        "<GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2022-10-03T06:00:00</CreDtTm></GrpHdr>",
        f"<Stmt><Id>{statement_id}</Id><ElctrncSeqNb>1</ElctrncSeqNb>",
        "<CreDtTm>2022-10-03T06:00:00</CreDtTm>",
        f"<Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>",
        '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2022-10-01</Dt></Dt></Bal>",
    ]
    for number, entry in enumerate(entries, start=1):
        amount = Decimal(entry["amount"])
        credit = amount > 0
        status = entry.get("status", "BOOK")
        transactions = entry.get("transactions") or [camt_transaction()]
        lines += [
            "<Ntry>",
            f'<Amt Ccy="EUR">{abs(amount):.2f}</Amt>',
            f"<CdtDbtInd>{'CRDT' if credit else 'DBIT'}</CdtDbtInd>",
            f"<Sts><Cd>{status}</Cd></Sts>" if new else f"<Sts>{status}</Sts>",
            f"<BookgDt><Dt>{entry.get('booking_date', '2022-10-03')}</Dt></BookgDt>",
            f"<ValDt><Dt>{entry.get('booking_date', '2022-10-03')}</Dt></ValDt>",
        ]
        if entry.get("bank_reference", f"REF{number:06d}"):
            lines.append(
                f"<AcctSvcrRef>{entry.get('bank_reference', f'REF{number:06d}')}</AcctSvcrRef>"
            )
        lines += [
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>"
            "</Domn></BkTxCd>",
            "<NtryDtls>",
        ]
        if len(transactions) > 1:
            lines.append(f"<Btch><NbOfTxs>{len(transactions)}</NbOfTxs></Btch>")
        party, account_tag = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
        for tx in transactions:
            lines.append("<TxDtls>")
            refs = f"<EndToEndId>{tx['end_to_end']}</EndToEndId>"
            if tx["bank_reference"]:
                refs = f"<AcctSvcrRef>{tx['bank_reference']}</AcctSvcrRef>" + refs
            lines.append(f"<Refs>{refs}</Refs>")
            if tx["amount"] is not None:
                tx_amount = f'<Amt Ccy="EUR">{abs(Decimal(tx["amount"])):.2f}</Amt>'
                lines.append(tx_amount if new else f"<AmtDtls><TxAmt>{tx_amount}</TxAmt></AmtDtls>")
            name = f"<Nm>{escape(tx['name'])}</Nm>"
            lines += [
                f"<RltdPties><{party}>{f'<Pty>{name}</Pty>' if new else name}</{party}>",
                f"<{account_tag}><Id><IBAN>{tx['iban']}</IBAN></Id></{account_tag}></RltdPties>",
            ]
            if tx["remittance"] is not None or tx["reference"] is not None:
                lines.append("<RmtInf>")
                if tx["remittance"] is not None:
                    lines.append(f"<Ustrd>{escape(tx['remittance'])}</Ustrd>")
                if tx["reference"] is not None:
                    lines.append(
                        "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry>"
                        "<Issr>ISO</Issr></Tp>"
                        f"<Ref>{tx['reference']}</Ref></CdtrRefInf></Strd>"
                    )
                lines.append("</RmtInf>")
            lines.append("</TxDtls>")
        lines += ["</NtryDtls>", "</Ntry>"]
    lines += ["</Stmt>", "</BkToCstmrStmt>", "</Document>"]
    return "\n".join(lines).encode()


class LocalAccessPoint:
    """A Peppol access point on 127.0.0.1 that answers as Storecove's REST API v2 documents it
    (registrations/transmission/accesspoint.py): POST /document_submissions (Bearer key,
    idempotencyGuid: a repeat returns the first submission's guid and delivers nothing new),
    POST /discovery/receives, and the event queue GET /webhook_instances/ (200 or 204) with
    DELETE /webhook_instances/<guid>.

    `script` holds what the next submissions meet, in order: "429:<seconds>" (Retry-After),
    "500", "slow" (answers after the client's timeout, takes nothing), "lost" (takes the
    document, then answers after the client's timeout), "422" (refused with two rules);
    when empty a submission is taken. `delivered` lists each document taken, once."""

    KEY = "sk-test-geheim-7f3a9c0e51"
    LEGAL_ENTITY = "4242"

    def __init__(self, server, timeout=1):
        self.server = server
        self.timeout = timeout
        self.lock = threading.Lock()
        self.guids = {}
        self.delivered = []
        self.requests = []
        self.script = deque()
        self.events = []
        self.registered = True
        # What the next receiver lookups meet, in order: "500"; when empty, the answer.
        self.discovery_script = deque()
        api = "/api/v2"
        server.expect_request(f"{api}/document_submissions", method="POST").respond_with_handler(
            self._submit
        )
        server.expect_request(f"{api}/discovery/receives", method="POST").respond_with_handler(
            self._discover
        )
        server.expect_request(f"{api}/webhook_instances/", method="GET").respond_with_handler(
            self._next_event
        )
        server.expect_request(
            re.compile(rf"^{api}/webhook_instances/[^/]+$"), method="DELETE"
        ).respond_with_handler(self._delete_event)

    @property
    def url(self):
        return self.server.url_for("/api/v2")

    def _json(self, body, status=200, headers=None):
        return Response(json.dumps(body), status, headers, content_type="application/json")

    def _authorised(self, request):
        return request.headers.get("Authorization") == f"Bearer {self.KEY}"

    def _submit(self, request):
        if not self._authorised(request):
            return Response("", 401)
        body = json.loads(request.get_data())
        with self.lock:
            self.requests.append(body)
            step = self.script.popleft() if self.script else "take"
        if step.startswith("429"):
            return Response("", 429, {"Retry-After": step.partition(":")[2] or "1"})
        if step == "500":
            return Response("fout", 500)
        if step == "slow":
            time.sleep(self.timeout + 1)
            return Response("", 503)
        if step == "422":
            return self._json(
                [
                    {"source": "BR-NL-2", "details": "BuyerReference of OrderReference ontbreekt"},
                    {"source": "PEPPOL-EN16931-R010", "details": "Buyer electronic address"},
                ],
                422,
            )
        with self.lock:
            key = body["idempotencyGuid"]
            if key not in self.guids:
                self.guids[key] = str(uuid.uuid4())
                self.delivered.append((key, body))
            guid = self.guids[key]
        if step == "lost":
            time.sleep(self.timeout + 1)
        return self._json({"guid": guid})

    def _discover(self, request):
        if not self._authorised(request):
            return Response("", 401)
        with self.lock:
            step = self.discovery_script.popleft() if self.discovery_script else "answer"
        if step == "500":
            return Response("fout", 500)
        return self._json({"code": "OK" if self.registered else "NOK"})

    def _next_event(self, request):
        if not self._authorised(request):
            return Response("", 401)
        with self.lock:
            if not self.events:
                return Response("", 204)
            return self._json(self.events[0])

    def _delete_event(self, request):
        if not self._authorised(request):
            return Response("", 401)
        guid = request.path.rsplit("/", 1)[1]
        with self.lock:
            self.events = [e for e in self.events if e["guid"] != guid]
        return Response("", 204)

    def report(self, body, guid=None):
        """Queue an event (a webhook instance) with `body`; returns the instance."""
        instance = {"guid": guid or str(uuid.uuid4()), "body": json.dumps(body)}
        with self.lock:
            self.events.append(instance)
        return instance

    def report_delivered(self, message_id):
        return self.report(
            {"event_type": "document_submission", "event": "succeeded", "guid": message_id}
        )

    def report_buyer(self, message_id, status, reasons=()):
        return self.report(
            {
                "event_type": "invoice_response",
                "document_submission_guid": message_id,
                "status": status,
                "reasons": list(reasons),
            }
        )


@pytest.fixture
def access_point(settings):
    """The local access point, configured as ours (PEPPOL_* settings)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    local = LocalAccessPoint(server)
    settings.PEPPOL_API_URL = local.url
    settings.PEPPOL_API_KEY = LocalAccessPoint.KEY
    settings.PEPPOL_LEGAL_ENTITY_ID = LocalAccessPoint.LEGAL_ENTITY
    settings.PEPPOL_TIMEOUT = local.timeout
    yield local
    server.clear()
    server.stop()
