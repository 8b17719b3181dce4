"""Load benchmark: gunicorn (2 workers) on PostgreSQL, driven by wrk, all on 127.0.0.1.

    .venv/bin/python bench/load.py [--duration 10] [--connections 16]

Makes a fresh database (wp_bench), migrates it, seeds an open edition (30 places) and, when
the invoice code is there, an issued invoice; starts an SMTP sink (aiosmtpd) and gunicorn with
the production settings (DEBUG off, gunicorn.conf.py, persistent database connections), then
runs the scenarios in rounds (each round with its own baseline, so that the machine's drifting
load moves both figures of a ratio alike) and prints requests per second, p50/p99 latency,
error counts and the median ratio to the baseline. Not a test: the figures depend on the
machine. Sign-ups queue their e-mail (DJANGO_TASKS_BACKEND=database, as in production); after
the runs one `manage.py db_worker --batch` sends it, and its rate is printed too. Needs
PostgreSQL on 127.0.0.1:5432 (role werkplaats with CREATEDB; BENCH_POSTGRES
overrides) and wrk (`apt install wrk`).

The baseline is /healthz: the whole middleware stack and one `SELECT 1` on the database, the
least any page of the site can do, so each ratio shows what a page's own work costs.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
PYTHON = sys.executable
HOST = "127.0.0.1"
# A PostgreSQL role that may create databases, on this machine (BENCH_POSTGRES overrides).
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql://werkplaats:werkplaats@127.0.0.1:5432")
DATABASE = "wp_bench"

# What the issue asks of each scenario, as a share of the baseline's requests per second.
TARGETS = {"workshop page": 0.60, "registration POST": 0.25, "invoice download": 0.50}
WORKSHOP_P99_MS = 50


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def recreate_database():
    import psycopg

    url = f"{POSTGRES}/postgres"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")


def drop_database():
    import psycopg

    url = f"{POSTGRES}/postgres"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def server_environment(port, smtp_port, conn_max_age):
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "EMAIL_", "REGISTRATION_"))
    }
    environ.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DATABASE_URL": f"{POSTGRES}/{DATABASE}",
            "DATABASE_CONN_MAX_AGE": str(conn_max_age),
            "EMAIL_HOST": HOST,
            "EMAIL_PORT": str(smtp_port),
            # Every sign-up comes from 127.0.0.1 here; the per-address limit would stop them.
            "REGISTRATION_RATE_LIMIT": "100000000",
            "PORT": str(port),
            "GUNICORN_WORKERS": "2",
            "DJANGO_LOG_LEVEL": "WARNING",
            # As in production: sign-ups queue their e-mail; db_worker sends it afterwards.
            "DJANGO_TASKS_BACKEND": "database",
        }
    )
    return environ


def seed():
    """Runs inside Django (bench/load.py --seed): print what the scenarios need as JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "werkplaats.settings")
    sys.path.insert(0, str(BASE_DIR))
    django.setup()

    import datetime
    from decimal import Decimal

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.urls import reverse
    from django.utils import timezone

    from programme.models import Edition
    from registrations.models import Registration

    call_command("load_seed", stdout=open(os.devnull, "w"))
    source = Edition.objects.get(slug="werken-aan-wijkontwikkeling-2022")
    start = datetime.date.today() + datetime.timedelta(days=365)
    weeks = (start - source.start_date).days // 7
    edition = source.duplicate(weeks=weeks)
    edition.is_published = True
    edition.capacity = 30
    edition.price_excl_vat = Decimal("1800.00")
    edition.save()
    assert edition.registration_is_open(), "the seeded edition must take sign-ups"

    result = {
        "edition_page": edition.get_absolute_url(),
        "register": reverse("registrations:register", args=[edition.slug]),
        "invoice": None,
        "invoice_note": None,
        "session": None,
    }
    try:
        from registrations.invoicing import issuing as invoices
        from registrations.invoicing.models import InvoiceIssuer
    except ImportError:
        result["invoice_note"] = "no invoice code (registrations.invoices) in this tree"
        return result

    issuer = InvoiceIssuer.load()
    details = {
        "name": "Platform31",
        "street": "Koninginnegracht 60",
        "postcode": "2514 AE",
        "city": "Den Haag",
        "country": "NL",
        "kvk_number": "12345678",
        "vat_id": "NL004495445B01",
        "iban": "NL91ABNA0417164300",
        "email": "facturen@platform31.example.nl",
        "is_example": False,
    }
    for name, value in details.items():
        if hasattr(issuer, name):
            setattr(issuer, name, value)
    issuer.save()
    registration = Registration.objects.place(
        Registration(
            edition=edition,
            first_name="Fatima",
            last_name="El Amrani",
            email="fatima@gemeente.example.nl",
            phone="06 12345678",
            organisation="Gemeente Utrecht",
            job_title="Wijkregisseur",
            sector="gemeente",
            role="leider",
            invoice_organisation="Gemeente Utrecht",
            invoice_street="Stadsplateau 1",
            invoice_postcode="3521 AZ",
            invoice_city="Utrecht",
            invoice_email="facturen@utrecht.example.nl",
            terms_accepted_at=timezone.now(),
            privacy_accepted_at=timezone.now(),
        ),
        by_staff=True,
    )
    invoice = invoices.issue_invoice(registration)
    user = User.objects.create_superuser("bench", "bench@platform31.example.nl", None)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    result["invoice"] = reverse("admin:invoicing_invoice_pdf", args=[invoice.number])
    result["session"] = session.session_key
    return result


def run(command, environ, **kwargs):
    return subprocess.run(command, cwd=BASE_DIR, env=environ, check=True, **kwargs)


def wait_until_up(url, process, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start-up; see {RESULTS_DIR / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {url} within {seconds} s")


def sign_up_body():
    fields = {
        "first_name": "Fatima",
        "last_name": "El Amrani",
        "phone": "06 12345678",
        "organisation": "Gemeente Utrecht",
        "job_title": "Wijkregisseur",
        "sector": "gemeente",
        "role": "leider",
        "own_case": "Hoe krijgen bewoners van Kanaleneiland meer regie?",
        "dietary_needs": "vegetarisch",
        "overnight_stay": "ja",
        "invoice_organisation": "Gemeente Utrecht",
        "invoice_street": "Stadsplateau 1",
        "invoice_postcode": "3521 AZ",
        "invoice_city": "Utrecht",
        "invoice_country": "NL",
        "po_number": "PO-2026-0042",
        "accept_terms": "on",
        "accept_privacy": "on",
        "website": "",
    }
    return urllib.parse.urlencode(fields)


def check_sign_up(base, path):
    """One POST the way register.lua sends it must be a redirect to the confirmation page."""
    secret = secrets.token_hex(16)
    body = f"{sign_up_body()}&email=controle%40bench.example.nl&csrfmiddlewaretoken={secret}"
    request = urllib.request.Request(
        base + path,
        data=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={secret}",
        },
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    except urllib.error.HTTPError as error:
        if error.code == 302 and "/inschrijving/" in error.headers["Location"]:
            return
        raise SystemExit(f"the check sign-up got {error.code}, not a redirect") from None
    raise SystemExit("the check sign-up was not redirected to its confirmation page")


def wrk(url, duration, connections, script, *args, headers=()):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    command += ["-s", script, url]
    if args:
        command += ["--", *args]
    output = subprocess.run(
        command, cwd=BASE_DIR, capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_RESULT "))
    result = json.loads(line.removeprefix("BENCH_RESULT "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(
        result[key]
        for key in (
            "status_errors",
            "unexpected",
            "connect_errors",
            "read_errors",
            "write_errors",
            "timeouts",
        )
    )
    return result


def drain_mail_queue(environ):
    """Send the mail the sign-ups queued, the way `manage.py db_worker` does in production."""
    import psycopg

    def statuses():
        with psycopg.connect(f"{POSTGRES}/{DATABASE}") as connection:
            rows = connection.execute(
                "SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY status"
            ).fetchall()
        return dict(rows)

    queued = statuses().get("READY", 0)
    started = time.monotonic()
    run(
        [PYTHON, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - started
    after = statuses()
    print(
        f"Mail queue after the sign-ups: {queued} tasks (2 e-mails each) sent by one db_worker "
        f"in {seconds:.1f} s ({queued / seconds:.0f} tasks/s); "
        f"succeeded {after.get('SUCCESSFUL', 0)}, failed {after.get('FAILED', 0)}, "
        f"left {after.get('READY', 0)}"
    )


def combine(rounds):
    """One row per scenario from its rounds: medians, the worst p99, the summed errors.

    Each ratio is taken against the baseline of the same round, then the median of those is
    reported: the machine's load drifts over a run, and a neighbour's burst then moves one
    round's pair of figures, not the verdict.
    """
    combined = {}
    for name in rounds[0]:
        runs = [round_[name] for round_ in rounds]
        ratios = [
            run["rps"] / round_["baseline (/healthz)"]["rps"]
            for run, round_ in zip(runs, rounds, strict=True)
        ]
        combined[name] = {
            "rps": statistics.median(run["rps"] for run in runs),
            "p50_us": statistics.median(run["p50_us"] for run in runs),
            "p99_us": max(run["p99_us"] for run in runs),
            **{
                key: sum(run[key] for run in runs)
                for key in ("requests", "errors", "status_errors", "unexpected")
            },
            "ratio": statistics.median(ratios),
            "round_ratios": ratios,
        }
    return combined


def print_results(results, connections, duration, rounds):
    print()
    print(
        f"wrk, 2 threads, {connections} connections; {rounds} rounds of {duration} s per "
        "scenario, each round with its own baseline (medians; p99 is the worst round's)"
    )
    header = f"{'scenario':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx/3xx':>13}"
    header += f"{'unexpected':>12}"
    header += f"{'errors':>8}{'x baseline':>12}  {'rounds':<18}target"
    print(header)
    print("-" * len(header))
    verdicts = []
    for name, result in results.items():
        ratio = result["ratio"]
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            ok = ratio >= target and result["errors"] == 0
            if name == "workshop page":
                ok = ok and result["p99_us"] / 1000 < WORKSHOP_P99_MS
                verdict = f">= {target:.0%}, p99 < {WORKSHOP_P99_MS} ms"
            else:
                verdict = f">= {target:.0%}"
            verdict += "  " + ("ok" if ok else "MISSED")
            verdicts.append(ok)
        per_round = " ".join(f"{r:.0%}" for r in result["round_ratios"])
        print(
            f"{name:<22}{result['rps']:>9.1f}{result['p50_us'] / 1000:>9.2f}"
            f"{result['p99_us'] / 1000:>9.2f}{result['status_errors']:>13}"
            f"{result['unexpected']:>12}"
            f"{result['errors'] - result['status_errors'] - result['unexpected']:>8}"
            f"{ratio:>11.0%}  {per_round:<18}{verdict}"
        )
    return all(verdicts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=int, default=6, help="seconds per scenario in each round"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of all scenarios, each with its baseline"
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--conn-max-age", type=int, default=60, help="DATABASE_CONN_MAX_AGE for gunicorn"
    )
    parser.add_argument("--keep-db", action="store_true", help="leave wp_bench for inspection")
    parser.add_argument(
        "--only", help="run the baseline and the scenarios whose name contains this text"
    )
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.seed:
        print(json.dumps(seed()))
        return 0
    if urllib.parse.urlsplit(POSTGRES).hostname not in (HOST, "localhost"):
        raise SystemExit("The benchmark only runs against PostgreSQL on this machine.")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    port, smtp_port = free_port(), free_port()
    environ = server_environment(port, smtp_port, options.conn_max_age)
    base = f"http://{HOST}:{port}"
    processes = []
    try:
        print(f"Fresh database {DATABASE}, migrations, seed …", flush=True)
        recreate_database()
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], environ)
        if not (BASE_DIR / "staticfiles" / "staticfiles.json").exists():
            run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], environ)
        seeded = json.loads(
            run(
                [PYTHON, "bench/load.py", "--seed"], environ, capture_output=True, text=True
            ).stdout.splitlines()[-1]
        )

        log = open(RESULTS_DIR / "gunicorn.log", "w")
        processes.append(
            subprocess.Popen(
                [PYTHON, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l",
                 f"{HOST}:{smtp_port}"],
                cwd=BASE_DIR, env=environ, stdout=subprocess.DEVNULL, stderr=log,
            )
        )  # fmt: skip
        gunicorn = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"{HOST}:{port}",
             "werkplaats.wsgi"],
            cwd=BASE_DIR, env=environ, stdout=log, stderr=log,
        )  # fmt: skip
        processes.append(gunicorn)
        wait_until_up(f"{base}/healthz", gunicorn)
        check_sign_up(base, seeded["register"])

        scenarios = [
            ("baseline (/healthz)", "/healthz", "bench/report.lua", (), ()),
            ("workshop page", seeded["edition_page"], "bench/report.lua", (), ()),
            (
                "registration POST",
                seeded["register"],
                "bench/register.lua",
                (seeded["register"], sign_up_body()),
                (),
            ),
        ]
        if seeded["invoice"]:
            scenarios.append(
                (
                    "invoice download",
                    seeded["invoice"],
                    "bench/report.lua",
                    (),
                    (f"Cookie: sessionid={seeded['session']}",),
                )
            )
        else:
            print(f"Invoice download skipped: {seeded['invoice_note']}.")

        if options.only:
            scenarios = [s for s in scenarios if s is scenarios[0] or options.only in s[0]]
        for _name, path, script, args, headers in scenarios:
            # A short warm-up, so that first-request costs are not counted.
            wrk(base + path, 2, 2, script, *args, headers=headers)
        rounds = []
        for number in range(1, options.rounds + 1):
            print(f"Round {number} of {options.rounds} …", flush=True)
            rounds.append(
                {
                    name: wrk(
                        base + path,
                        options.duration,
                        options.connections,
                        script,
                        *args,
                        headers=headers,
                    )
                    for name, path, script, args, headers in scenarios
                }
            )
        results = combine(rounds)
        all_met = print_results(results, options.connections, options.duration, options.rounds)
        drain_mail_queue(environ)
        print()
        print("All targets met." if all_met else "Some targets missed (see MISSED above).")
        (RESULTS_DIR / "load.json").write_text(json.dumps({"rounds": rounds, **results}, indent=2))
        return 0
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if not options.keep_db:
            try:
                drop_database()
            except Exception as error:  # the figures matter more than the clean-up
                print(f"Could not drop {DATABASE}: {error}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
