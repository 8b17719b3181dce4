"""A backup restores into a working site, on PostgreSQL and on SQLite, the way the README says:
a database with invoices, credit notes, a bank statement's payments and registrations is
dumped, restored into an empty database, and the site started on it (a real gunicorn on
loopback). Every stored document matches its recorded SHA-256, the next invoice number follows
the last without a gap, and a sign-up through the site works.

Each test builds and drops databases of its own and stops every process it started.
"""

import hashlib
import http.cookiejar
import io
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import Invoice, InvoiceCounter, InvoiceDocument
from tests.conftest import _AdminForm, make_registration, require, sign_up_data

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# The binaries of the newest PostgreSQL on the machine (CI installs Debian's, 15), as .ci/run
# picks its cluster: pg_dump must not be older than the server it dumps.
PG_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda path: int(path.parent.name),
    default=Path("/usr/lib/postgresql/15/bin"),
)

BUILD = """
import json
from bench.scenery import camt_statement
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.payments.matching import import_statement
from registrations.invoicing.models import Invoice, InvoiceDocument
from tests.conftest import make_edition, make_issuer, make_registration
make_issuer()
edition = make_edition()
registrations = [make_registration(edition) for _ in range(4)]
invoices = [issue_invoice(registration) for registration in registrations[:3]]
credit = credit_invoice(invoices[2])
paid = invoices[0]
import_statement(
    camt_statement("HERSTEL-1", [(paid.total_incl_vat, paid.customer_organisation, paid.number)]),
    "afschrift.xml",
)
print(json.dumps({"slug": edition.slug, "waiting": registrations[3].pk,
                  "numbers": [i.number for i in invoices] + [credit.number]}))
"""

ISSUE_NEXT = """
import json
from registrations.invoicing.issuing import issue_invoice
from registrations.models import Registration
invoice = issue_invoice([Registration.objects.get(pk={pk})])
print(json.dumps({{"number": invoice.number, "series": invoice.series,
                   "sequence": invoice.sequence}}))
"""

STATE = """
import json
from registrations.invoicing.models import Invoice, InvoiceCounter, InvoiceDocument
from registrations.models import Registration
from registrations.payments.models import Payment
print(json.dumps({
    "invoices": sorted(Invoice.objects.values_list("number", flat=True)),
    "credit_notes": Invoice.objects.filter(credited_invoice__isnull=False).count(),
    "paid": sorted(Invoice.objects.filter(amount_paid__gt=0).values_list("number", flat=True)),
    "payments": Payment.objects.count(),
    "registrations": Registration.objects.count(),
    "counters": dict(InvoiceCounter.objects.values_list("series", "last_number")),
    "documents": sorted(
        [number, kind, checksum]
        for number, kind, checksum in (
            (d.invoice.number, d.kind, getattr(d.invoice, d.kind + "_sha256"))
            for d in InvoiceDocument.objects.select_related("invoice")
        )
    ),
}))
"""


def environment(database_url):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "EMAIL_", "REDIS_", "CI_"))
    }
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        DATABASE_URL=database_url,
        DJANGO_TASKS_BACKEND="immediate",
        DJANGO_SESSION_COOKIE_SECURE="0",
        DJANGO_CSRF_COOKIE_SECURE="0",
        DJANGO_SECURE_HSTS_SECONDS="0",
        DJANGO_LOG_LEVEL="WARNING",
    )
    return env


def manage(env, *args, stdin=None, check=True):
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=check,
    )


def shell(env, code):
    return json.loads(manage(env, "shell", stdin=code).stdout.strip().splitlines()[-1])


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def answers(base):
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def sign_up_through_the_site(base, slug):
    """GET the form, POST it back with its CSRF token and cookie, as a browser does."""
    cookies = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies), NoRedirect)
    path = f"{base}/werkplaats/{slug}/inschrijven/"
    with opener.open(path, timeout=30) as response:
        assert response.status == 200
        parser = _AdminForm("inschrijfformulier")
        parser.feed(response.read().decode())
    data = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    fields = sign_up_data(email="herstel@gemeente.example.nl")
    data.update({k: [v] for k, v in fields.items() if k != "submission_key"})
    assert "csrfmiddlewaretoken" in data
    request = urllib.request.Request(
        path, data=urllib.parse.urlencode(data, doseq=True).encode(), headers={"Referer": path}
    )
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def start_site(env, workdir):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "werkplaats.wsgi:application",
            "--config",
            str(BASE_DIR / "gunicorn.conf.py"),
            "--pythonpath",
            str(BASE_DIR),
            "--bind",
            f"{HOST}:{port}",
        ],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "gunicorn.log", "w"),
        start_new_session=True,
    )
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while not answers(base):
        assert process.poll() is None, (workdir / "gunicorn.log").read_text()
        assert time.monotonic() < deadline, "the restored site did not answer in 60 s"
        time.sleep(0.2)
    return process, base


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def stored_documents(rows):
    """(number, kind, recorded SHA-256, SHA-256 of the stored bytes) per document."""
    return sorted(
        (number, kind, recorded, hashlib.sha256(bytes(content)).hexdigest())
        for number, kind, recorded, content in rows
    )


DOCUMENTS_SQL = (
    "SELECT i.number, d.kind, CASE d.kind WHEN 'pdf' THEN i.pdf_sha256 ELSE i.ubl_sha256 END, "
    f"d.content FROM {InvoiceDocument._meta.db_table} d "
    f"JOIN {Invoice._meta.db_table} i ON i.id = d.invoice_id"
)


def prove_the_restored_site_works(env, built, before, documents, tmp_path):
    """What every restore must show, whatever the database."""
    # The schema is the code's: nothing for migrate to do.
    assert manage(env, "migrate", "--check", check=False).returncode == 0
    check = manage(env, "verify_restore", check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "kloppen met hun controlesom" in check.stdout

    # Every stored document is the one issued: its bytes have the SHA-256 recorded at issue.
    assert len(documents) == 8  # three invoices and a credit note, a PDF and an e-invoice each
    assert all(recorded == actual for _, _, recorded, actual in documents)
    assert shell(env, STATE) == before

    process, base = start_site(env, tmp_path)
    try:
        status, location = sign_up_through_the_site(base, built["slug"])
        assert status == 302, status
        assert location.startswith("/inschrijving/")
        with urllib.request.urlopen(base + location, timeout=30) as page:
            assert page.status == 200
    finally:
        stop(process)

    # The next invoice number follows the last one of its series: no gap, none used twice.
    issued = shell(env, ISSUE_NEXT.format(pk=built["waiting"]))
    last = before["counters"][issued["series"]]
    assert issued["sequence"] == last + 1
    assert issued["number"] not in before["invoices"]
    after = shell(env, STATE)
    assert after["registrations"] == before["registrations"] + 1
    assert after["counters"][issued["series"]] == last + 1


def build(env):
    manage(env, "migrate", "--noinput")
    built = shell(env, BUILD)
    before = shell(env, STATE)
    assert before["credit_notes"] == 1
    assert before["paid"] == [built["numbers"][0]]
    assert before["payments"] == 1
    assert before["registrations"] == 4
    return built, before


def database_url(name):
    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def test_a_postgresql_dump_restores_into_an_empty_database_and_a_working_site(postgres, tmp_path):
    import psycopg

    require((PG_BIN / "pg_restore").exists(), f"needs PostgreSQL 15's binaries in {PG_BIN}")
    names = [f"wp_restore_{label}_{secrets.token_hex(4)}" for label in ("source", "target")]
    source, target = (database_url(name) for name in names)
    server = database_url("postgres")
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {names[0]}")
    try:
        built, before = build(environment(source))
        dump = tmp_path / "werkplaats.dump"
        # As the README says: the custom format, then into a database that is empty.
        subprocess.run(
            [PG_BIN / "pg_dump", "-Fc", "--no-owner", "-f", dump, source],
            check=True,
            timeout=120,
        )
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {names[1]}")
        with psycopg.connect(target) as connection:
            tables = connection.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone()[0]
        assert tables == 0
        subprocess.run(
            [PG_BIN / "pg_restore", "--no-owner", "--exit-on-error", "-d", target, dump],
            check=True,
            timeout=120,
        )
        with psycopg.connect(target) as connection:
            documents = stored_documents(connection.execute(DOCUMENTS_SQL).fetchall())

        prove_the_restored_site_works(environment(target), built, before, documents, tmp_path)
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            for name in names:
                connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_an_sqlite_backup_copy_restores_into_a_working_site(tmp_path):
    live, backup, restored = (tmp_path / name for name in ("live", "backup", "restored"))
    for folder in (live, backup, restored):
        folder.mkdir()
    source = live / "db.sqlite3"
    built, before = build(environment(f"sqlite:///{source}"))

    # As the README says: SQLite's online backup (what the sqlite3 shell's `.backup` does),
    # consistent while the site writes, not a copy of a live file.
    with closing(sqlite3.connect(source)) as live_db:
        with closing(sqlite3.connect(backup / "db.sqlite3")) as copy:
            live_db.backup(copy)
    # Restoring it is putting the file in place, with the site stopped.
    shutil.copyfile(backup / "db.sqlite3", restored / "db.sqlite3")
    target = restored / "db.sqlite3"
    with closing(sqlite3.connect(target)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        documents = stored_documents(connection.execute(DOCUMENTS_SQL).fetchall())

    prove_the_restored_site_works(
        environment(f"sqlite:///{target}"), built, before, documents, tmp_path
    )


@pytest.fixture
def issued(open_edition, invoicing):
    invoices = [issue_invoice(make_registration(open_edition)) for _ in range(2)]
    credit_invoice(invoices[1])
    return invoices


def verify():
    out = io.StringIO()
    call_command("verify_restore", stdout=out)
    return out.getvalue()


def test_verify_restore_passes_a_sound_database(issued):
    assert verify().startswith("6 documenten kloppen met hun controlesom")


def test_verify_restore_fails_on_a_damaged_document(issued):
    InvoiceDocument.objects.filter(invoice=issued[0], kind="pdf").update(content=b"%PDF kapot")

    with pytest.raises(CommandError, match="De back-up klopt niet: 1 problemen"):
        verify()


def test_verify_restore_fails_when_a_counter_does_not_follow_the_last_number(issued):
    counter = InvoiceCounter.objects.get(series=issued[0].series)
    InvoiceCounter.objects.filter(pk=counter.pk).update(last_number=counter.last_number - 1)
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("verify_restore", stdout=out)

    last = counter.last_number
    assert (
        f"reeks {counter.series}: de teller staat op {last - 1}, de laatste factuur heeft "
        f"volgnummer {last}"
    ) in out.getvalue()
