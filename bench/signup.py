"""A completed sign-up's server time, against the code before issue 28, in the same run.

    .venv/bin/python bench/signup.py [--baseline 0116dee] [--rounds 3] [--sign-ups 40]

Two gunicorn servers on 127.0.0.1, each with one sync worker and its own fresh PostgreSQL
database: the baseline (the tree of `--baseline`, taken with `git archive` into a temporary
directory, its own migrations, seed and static files) and this checkout. A completed sign-up
is what a visitor costs the server: the empty form (GET), the sign-up (POST, answered with a
redirect) and the confirmation page the redirect leads to, with the cookies a browser keeps
(CSRF, messages) and the form's own submission key.

The sign-ups alternate between the servers one by one, so that the machine's drifting load
falls on both alike; nothing else runs against them. Measured on the server's side:

- duration: gunicorn's own time per request (its access log's %(D)s, from reading the
  request to the response written), per step; the median per step and round;
- CPU: the worker's user + system time (/proc/<pid>/stat) over a round, per sign-up and per
  step: Python's share, without PostgreSQL's (another process).

It prints, per round and as the median of the rounds, both servers' figures and this
checkout's as a ratio of the baseline's. Issue 28 asks for a completed sign-up's server time
30 % below the baseline's (ratio <= 0.70). The edition's maximum is raised so that every
sign-up is confirmed (the path with the count of places under the edition's lock).

Baseline 0116dee: the parent of the first commit of issue 28 (8391d83, the form snapshots),
the code "today" when the issue was measured. Later features of other issues (the order's
history, the organisation register, the booker's page) are in this checkout's figure only.
Needs PostgreSQL on 127.0.0.1:5432 (BENCH_POSTGRES: a role with CREATEDB) and git.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
POSTGRES = os.environ.get(
    "BENCH_POSTGRES", "postgresql://werkplaats_ci:werkplaats_ci@127.0.0.1:5432"
)
# BENCH_DATABASE: another prefix, when more than one checkout runs this on the machine.
DATABASE = os.environ.get("BENCH_DATABASE", "wp_signup")
BASELINE = "0116dee"
TARGET = 0.70
STEPS = ("form GET", "sign-up POST", "confirmation GET")
# gunicorn's access log, one line per request: method, path, status, microseconds.
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"

FIELDS = {
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
    "kvk_number": "30280353",
    "accept_terms": "on",
    "accept_privacy": "on",
    "website": "",
}


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def admin_sql(sql):
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def database_sql(database, sql, *params):
    import psycopg

    with psycopg.connect(f"{POSTGRES}/{database}") as connection:
        return connection.execute(sql, params).rowcount


class Server:
    """One tree served by gunicorn (one worker) on its own database."""

    def __init__(self, name, tree, workroot):
        self.name = name
        self.tree = Path(tree)
        self.database = f"{DATABASE}_{name}"
        self.log = Path(workroot) / f"access-{name}.log"
        self.output = Path(workroot) / f"gunicorn-{name}.log"
        self.environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_", "EMAIL_", "REGISTRATION_", "REDIS_"))
        }
        self.environ.update(
            {
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "DJANGO_ALLOWED_HOSTS": HOST,
                "DATABASE_URL": f"{POSTGRES}/{self.database}",
                # Every sign-up comes from 127.0.0.1 here; the per-address limit would stop them.
                "REGISTRATION_RATE_LIMIT": "100000000",
                "GUNICORN_WORKERS": "1",
                "DJANGO_LOG_LEVEL": "WARNING",
                # As in production: the sign-up queues its mail (nobody sends it here).
                "DJANGO_TASKS_BACKEND": "database",
            }
        )
        self.process = None

    def manage(self, *args, **kwargs):
        return subprocess.run(
            [PYTHON, *args], cwd=self.tree, env=self.environ, check=True, **kwargs
        )

    def prepare(self):
        admin_sql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        admin_sql(f"CREATE DATABASE {self.database}")
        self.manage("manage.py", "migrate", "--noinput", "-v", "0")
        if not (self.tree / "staticfiles" / "staticfiles.json").exists():
            self.manage("manage.py", "collectstatic", "--noinput", "-v", "0")
        seeded = self.manage("bench/load.py", "--seed", capture_output=True, text=True)
        self.register = json.loads(seeded.stdout.splitlines()[-1])["register"]
        slug = self.register.strip("/").split("/")[-2]
        # Room for every sign-up of the run: each one is confirmed under the edition's lock.
        assert database_sql(
            self.database, "UPDATE programme_edition SET capacity = 1000000 WHERE slug = %s", slug
        )

    def start(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", str(self.tree / "gunicorn.conf.py"),
             "--pythonpath", str(self.tree), "-b", f"{HOST}:{self.port}",
             "--access-logfile", str(self.log), "--access-logformat", ACCESS_FORMAT,
             "werkplaats.wsgi:application"],
            cwd=self.tree, env=self.environ, stdout=open(self.output, "w"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn ({self.name}) stopped; see {self.output}")
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"gunicorn ({self.name}) did not answer; see {self.output}")
        self.worker = worker_of(self.process.pid)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def cpu_seconds(self):
        fields = Path(f"/proc/{self.worker}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_lines(self):
        return self.log.read_text().splitlines() if self.log.exists() else []


def worker_of(master):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("gunicorn started no worker")


def request(port, method, path, body=None, cookies=None):
    """(status, headers, body) of one request on a new connection, as a browser sends it."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Host": HOST}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode(errors="replace")
    finally:
        connection.close()


def keep_cookies(cookies, headers):
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key.strip()] = rest.split(";", 1)[0]


def hidden(html, name):
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    return found.group(1) if found else ""


def sign_up(server, email, cpu):
    """One visitor: the form, the sign-up, the confirmation page; each step's worker CPU
    added to `cpu` (clock ticks of 10 ms: unbiased over many sign-ups, not one)."""
    cookies = {}
    before = server.cpu_seconds()

    def step(name):
        nonlocal before
        now = server.cpu_seconds()
        cpu[name] = cpu.get(name, 0) + now - before
        before = now

    status, headers, html = request(server.port, "GET", server.register)
    step("form GET")
    assert status == 200, (server.name, status)
    keep_cookies(cookies, headers)
    fields = {
        **FIELDS,
        "email": email,
        "csrfmiddlewaretoken": hidden(html, "csrfmiddlewaretoken"),
        "submission_key": hidden(html, "submission_key"),
    }
    status, headers, html = request(
        server.port, "POST", server.register, urllib.parse.urlencode(fields), cookies
    )
    step("sign-up POST")
    location = dict((k.lower(), v) for k, v in headers).get("location", "")
    if status != 302 or "/inschrijving/" not in location:
        errors = " | ".join(re.findall(r'<li><a href="#[^"]*">([^<]+)</a></li>', html))
        raise SystemExit(f"{server.name}: the sign-up got {status} {location!r} {errors}")
    keep_cookies(cookies, headers)
    status, _, _ = request(server.port, "GET", urllib.parse.urlsplit(location).path, None, cookies)
    step("confirmation GET")
    assert status == 200, (server.name, "confirmation", status)


def durations(lines, register):
    """{step: [ms, ...]} from access log lines of whole sign-ups."""
    found = {step: [] for step in STEPS}
    for line in lines:
        method, path, _status, micros = line.split()
        if path == "/healthz":
            continue
        step = "sign-up POST" if method == "POST" else (
            "form GET" if path == register else "confirmation GET"
        )  # fmt: skip
        found[step].append(int(micros) / 1000)
    return found


def run_round(servers, sign_ups, tag):
    before = {s.name: (s.cpu_seconds(), len(s.log_lines())) for s in servers}
    step_cpu = {s.name: {} for s in servers}
    for number in range(sign_ups):
        # Alternating, and each round the other one first.
        for server in servers if number % 2 == 0 else servers[::-1]:
            sign_up(server, f"bench-{tag}-{number}@signup.example.nl", step_cpu[server.name])
    result = {}
    for server in servers:
        cpu, lines = before[server.name]
        # gunicorn writes a request's line after its answer: wait for the last ones.
        deadline = time.monotonic() + 10
        while len(server.log_lines()) < lines + 3 * sign_ups and time.monotonic() < deadline:
            time.sleep(0.05)
        steps = durations(server.log_lines()[lines:], server.register)
        assert all(len(values) == sign_ups for values in steps.values()), steps
        medians = {step: statistics.median(values) for step, values in steps.items()}
        result[server.name] = {
            **medians,
            "sign-up (sum of medians)": sum(medians.values()),
            "CPU per sign-up": (server.cpu_seconds() - cpu) / sign_ups * 1000,
            **{
                f"CPU {step}": seconds / sign_ups * 1000
                for step, seconds in step_cpu[server.name].items()
            },
        }
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help=f"git ref (default {BASELINE})")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sign-ups", type=int, default=40, help="per server and round")
    parser.add_argument("--warm-up", type=int, default=15, help="sign-ups not counted")
    options = parser.parse_args()
    if urllib.parse.urlsplit(POSTGRES).hostname not in (HOST, "localhost"):
        raise SystemExit("The benchmark only runs against PostgreSQL on this machine.")

    with tempfile.TemporaryDirectory(prefix="werkplaats-signup-") as workroot:
        tree = Path(workroot) / "baseline"
        tree.mkdir()
        archive = subprocess.run(
            ["git", "archive", options.baseline], cwd=BASE_DIR, check=True, capture_output=True
        )
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        servers = [Server("baseline", tree, workroot), Server("current", BASE_DIR, workroot)]
        try:
            for server in servers:
                print(f"[{server.name}] database, migrations, seed …", flush=True)
                server.prepare()
                server.start()
            tag = secrets.token_hex(3)
            run_round(servers, options.warm_up, f"{tag}-w")
            rounds = []
            for number in range(1, options.rounds + 1):
                rounds.append(run_round(servers, options.sign_ups, f"{tag}-{number}"))
                print_round(f"round {number}", rounds[-1])
        finally:
            for server in servers:
                server.stop()
            for server in servers:
                try:
                    admin_sql(f"DROP DATABASE IF EXISTS {server.database} WITH (FORCE)")
                except Exception as error:  # the figures matter more than the clean-up
                    print(f"Could not drop {server.database}: {error}", file=sys.stderr)

    print()
    print(
        f"Baseline {options.baseline} against this checkout: {options.rounds} rounds of "
        f"{options.sign_ups} sign-ups per server, alternating; server-side ms; ratio = "
        "current / baseline per round, median of the rounds"
    )
    verdict = None
    for measure in (
        *STEPS,
        "sign-up (sum of medians)",
        *(f"CPU {step}" for step in STEPS),
        "CPU per sign-up",
    ):
        ratios = [r["current"][measure] / r["baseline"][measure] for r in rounds]
        ratio = statistics.median(ratios)
        base = statistics.median(r["baseline"][measure] for r in rounds)
        current = statistics.median(r["current"][measure] for r in rounds)
        line = (
            f"{measure:<26}{base:>9.2f}{current:>9.2f}   x{ratio:.2f}  "
            f"(rounds {' '.join(f'{x:.2f}' for x in ratios)})"
        )
        if measure == "sign-up (sum of medians)":
            verdict = ratio <= TARGET
            line += f"  target <= {TARGET:.2f}: {'ok' if verdict else 'MISSED'}"
        print(line)
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    return 0


def print_round(title, result):
    print(title)
    for name, figures in result.items():
        print(f"  {name:<9}" + "  ".join(f"{k} {v:.2f}" for k, v in figures.items()))


if __name__ == "__main__":
    sys.exit(main())
