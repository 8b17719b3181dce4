"""Two app servers on one PostgreSQL, with and without Redis: what a user does on one holds on
the other. Real gunicorn processes on two loopback ports, each in a working directory of its
own, two `db_worker` processes, and a real SMTP server (aiosmtpd) that counts what arrives.

The harness bounds every wait and stops every process it started, also when a check fails.
"""

import http.cookiejar
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import _AdminForm, require, sign_up_data

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PASSWORD = "twee-servers-wachtwoord-31"
STAFF_ADDRESS = "werkplaats@platform31.example.nl"
RATE_LIMIT = 4
SIGN_UPS = 12


# Anna's recovery codes in the servers' database, each used once by log_in().
RECOVERY = []


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd handler: every message that arrives, by recipient."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.extend(envelope.rcpt_tos)
        return "250 OK"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's cookies, spoken to either server; redirects are not followed."""

    def __init__(self, forwarded_for):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect
        )
        # Every request comes from 127.0.0.1: the servers trust X-Forwarded-For here, so a
        # "person" is an address of their own for the rate limit and the lockout.
        self.forwarded_for = forwarded_for

    def request(self, base, path, data=None, referer=None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(base + path, data=body)
        request.add_header("X-Forwarded-For", self.forwarded_for)
        if referer:
            request.add_header("Referer", referer)
        try:
            with self.opener.open(request, timeout=30) as response:
                return (
                    response.status,
                    dict(response.headers),
                    response.read().decode(errors="replace"),
                )
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode(errors="replace")

    def get(self, base, path):
        return self.request(base, path)

    def post_form(self, base, path, form_id, **changes):
        """GET the page, fill in its form #form_id with `changes`, and POST it back."""
        status, _, html = self.get(base, path)
        assert status == 200, (path, status)
        parser = _AdminForm(form_id)
        parser.feed(html)
        assert parser.fields, f"no form #{form_id} on {path}"
        data = {}
        for name, value in parser.fields:
            data.setdefault(name, []).append(value)
        data.update({name: [value] for name, value in changes.items()})
        return self.request(base, path, data, referer=base + path)

    def post(self, base, path, data):
        """POST `data` with the CSRF token this person's cookie holds."""
        if not any(cookie.name == "csrftoken" for cookie in self.cookies):
            self.get(base, "/beheer/login/")
        token = next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken")
        return self.request(base, path, {**data, "csrfmiddlewaretoken": token}, base + path)


def wait_until(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


def answers(base):
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def database_url(name):
    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def run_manage(env, *args, stdin=None):
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout


SEED = f"""
import datetime, json
from decimal import Decimal
from django.contrib.auth.models import User
from django.core.management import call_command
from programme.models import Edition
from registrations.invoicing.models import InvoiceIssuer
from werkplaats.twofactor.devices import new_recovery_codes
call_command("load_seed", stdout=open("/dev/null", "w"))
source = Edition.objects.get(slug="werken-aan-wijkontwikkeling-2022")
weeks = (datetime.date.today() + datetime.timedelta(days=365) - source.start_date).days // 7
edition = source.duplicate(weeks=weeks)
edition.is_published = True
edition.capacity = 30
edition.price_excl_vat = Decimal("1800.00")
edition.save()
anna = User.objects.create_superuser("anna", "anna@platform31.example.nl", "{PASSWORD}")
# The second step of signing in: her recovery codes, one per sign-in (werkplaats/twofactor).
codes = new_recovery_codes(anna)
issuer = InvoiceIssuer.load()
for name, value in dict(name="Platform31", street="Postbus 30833", postcode="2500 GV",
        city="Den Haag", kvk_number="27169301", vat_id="NL000099998B57",
        iban="NL91ABNA0417164300", email="facturen@platform31.example.nl").items():
    setattr(issuer, name, value)
issuer.save()
print(json.dumps({{"slug": edition.slug, "edition": edition.pk, "title": edition.title,
    "codes": codes}}))
"""


@pytest.fixture(params=["database", "redis"], ids=["database-only", "with-redis"])
def servers(request, postgres, tmp_path):
    """Two gunicorn app servers and two db_workers on one fresh PostgreSQL database."""
    import psycopg

    redis_url = ""
    if request.param == "redis":
        redis_url = os.environ.get("REDIS_TEST_URL", "")
        require(redis_url, "needs Redis: set REDIS_TEST_URL (CI starts redis-server)")
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    name = f"wp_two_servers_{secrets.token_hex(4)}"
    admin_url = database_url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    inbox = Inbox()
    smtp = Controller(inbox, hostname=HOST, port=free_port())
    smtp.start()
    processes = []
    try:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_", "EMAIL_", "REDIS_", "CI_"))
        }
        env.update(
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_ALLOWED_HOSTS=HOST,
            DATABASE_URL=database_url(name),
            EMAIL_HOST=HOST,
            EMAIL_PORT=str(smtp.port),
            STAFF_NOTIFICATION_EMAIL=STAFF_ADDRESS,
            DJANGO_TASKS_BACKEND="database",
            REGISTRATION_RATE_LIMIT=str(RATE_LIMIT),
            DJANGO_USE_X_FORWARDED_FOR="1",
            DJANGO_ADMIN_LOGIN_FAILURE_LIMIT="3",
            # Plain http on loopback: cookies without the Secure flag, no HSTS.
            DJANGO_SESSION_COOKIE_SECURE="0",
            DJANGO_CSRF_COOKIE_SECURE="0",
            DJANGO_SECURE_HSTS_SECONDS="0",
            DJANGO_LOG_LEVEL="WARNING",
            REDIS_URL=redis_url,
        )
        run_manage(env, "migrate", "--noinput")
        seeded = json.loads(run_manage(env, "shell", stdin=SEED).strip().splitlines()[-1])
        RECOVERY[:] = seeded.pop("codes")
        bases = []
        for label in ("a", "b"):
            workdir = tmp_path / label
            workdir.mkdir()
            port = free_port()
            processes.append(
                subprocess.Popen(
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
            )
            processes.append(
                subprocess.Popen(
                    [sys.executable, str(BASE_DIR / "manage.py"), "db_worker", "--interval", "0.2"],
                    env=env,
                    cwd=workdir,
                    stdout=subprocess.DEVNULL,
                    stderr=open(workdir / "worker.log", "w"),
                    start_new_session=True,
                )
            )
            bases.append(f"http://{HOST}:{port}")
        for base in bases:
            wait_until(lambda base=base: answers(base), 60, f"{base} to answer")
        yield {
            "env": env,
            "a": bases[0],
            "b": bases[1],
            "inbox": inbox,
            "database": database_url(name),
            "redis": bool(redis_url),
            **seeded,
        }
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        smtp.stop()
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def query(servers, sql, params=()):
    import psycopg

    with psycopg.connect(servers["database"]) as connection:
        return connection.execute(sql, params).fetchall()


def sign_up(servers, person, base, email):
    path = f"/werkplaats/{servers['slug']}/inschrijven/"
    fields = {k: v for k, v in sign_up_data(email=email).items() if k != "submission_key"}
    return person.post_form(base, path, "inschrijfformulier", **fields)


def log_in(person, base, password=PASSWORD):
    """The password, and after it the second step with one of her recovery codes."""
    answer = person.post_form(
        base, "/beheer/login/", "login-form", username="anna", password=password
    )
    status, headers, _ = answer
    if status == 302 and headers["Location"].startswith("/beheer/tweede-factor/"):
        return person.post_form(base, headers["Location"], "code-form", code=RECOVERY.pop())
    return answer


def test_what_happens_on_one_server_holds_on_the_other(servers):
    a, b = servers["a"], servers["b"]

    # A sign-up on one server, its confirmation page on the other.
    person = Browser("192.0.2.10")
    status, headers, _ = sign_up(servers, person, a, "fatima@gemeente.example.nl")
    assert status == 302, status
    confirmation = headers["Location"]
    assert confirmation.startswith("/inschrijving/")
    status, _, html = person.get(b, confirmation)
    assert status == 200 and "Fatima" in html

    # A staff login on one works on the other; a logout on either ends it on both.
    staff = Browser("192.0.2.20")
    status, _, _ = log_in(staff, a)
    assert status == 302
    assert staff.get(b, "/beheer/")[0] == 200
    if servers["redis"]:
        # The session is in Redis (cached_db), which both servers read.
        import redis

        keys = redis.Redis.from_url(os.environ["REDIS_TEST_URL"]).keys("werkplaats:*")
        assert any(b"django.contrib.sessions.cached_db" in key for key in keys), keys
    assert staff.post(b, "/beheer/logout/", {})[0] in (200, 302)
    status, headers, _ = staff.get(a, "/beheer/")
    assert status == 302 and "/beheer/login/" in headers["Location"]

    # An invoice issued on one is downloaded from the other.
    log_in(staff, a)
    ((registration,),) = query(
        servers,
        "SELECT id FROM registrations_registration WHERE email = %s",
        ["fatima@gemeente.example.nl"],
    )
    status, _, _ = staff.post(
        a,
        "/beheer/registrations/registration/",
        {"action": "issue_invoices", "_selected_action": registration},
    )
    assert status == 302
    ((number,),) = query(servers, "SELECT number FROM registrations_invoice")
    status, headers, body = staff.request(b, f"/beheer/invoicing/invoice/{number}/pdf/")
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert body.startswith("%PDF-")

    # A page edited in the admin on one is shown fresh on the other.
    page = f"/werkplaats/{servers['slug']}/"
    assert servers["title"] in person.get(b, page)[2]
    status, _, _ = staff.post_form(
        a,
        f"/beheer/programme/edition/{servers['edition']}/change/",
        "edition_form",
        title="Werkplaats met een nieuwe titel",
    )
    assert status == 302
    assert "Werkplaats met een nieuwe titel" in person.get(b, page)[2]

    # A change in the shell (another process, a queryset update) shows at once on both, and so
    # does the edition filling up: both kept the page before.
    assert "Alle plaatsen zijn bezet" not in person.get(a, page)[2]
    run_manage(
        servers["env"],
        "shell",
        "-c",
        "from programme.models import Section, Edition\n"
        f"Section.objects.filter(edition_id={servers['edition']}).update(heading='Uit de shell')\n"
        f"Edition.objects.filter(pk={servers['edition']}).update(capacity=1)",
    )
    for base in (a, b):
        html = person.get(base, page)[2]
        assert "Uit de shell" in html and "Alle plaatsen zijn bezet" in html

    # The sign-up limit is counted across both: alternating, the client gets it once, not twice.
    hurried = Browser("192.0.2.30")
    register = f"/werkplaats/{servers['slug']}/inschrijven/"
    statuses = [
        hurried.post_form(base, register, "inschrijfformulier", email="")[0]
        for base in [a, b] * RATE_LIMIT
    ]
    assert statuses[:RATE_LIMIT] == [200] * RATE_LIMIT
    assert set(statuses[RATE_LIMIT:]) == {429}

    # Many sign-ups on both servers: every queued e-mail is sent exactly once by the two workers.
    for n in range(SIGN_UPS):
        status, _, _ = sign_up(
            servers, Browser(f"198.51.100.{n}"), [a, b][n % 2], f"p{n}@example.nl"
        )
        assert status == 302
    expected = {f"p{n}@example.nl" for n in range(SIGN_UPS)} | {"fatima@gemeente.example.nl"}
    wait_until(
        lambda: (
            expected <= set(servers["inbox"].received)
            and not query(
                servers,
                "SELECT 1 FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING')",
            )
        ),
        60,
        "the workers to send every queued e-mail",
    )
    received = servers["inbox"].received
    assert all(received.count(address) == 1 for address in expected)
    assert received.count(STAFF_ADDRESS) == len(expected)

    # The admin lockout is counted across both: the third wrong password locks the address
    # out, on whichever server it arrives, and then even the right one is refused on both.
    guesser = Browser("192.0.2.66")
    assert [log_in(guesser, base, password="fout")[0] for base in (a, b, a)] == [200, 200, 429]
    assert log_in(guesser, b)[0] == 429
    assert log_in(guesser, a)[0] == 429
