"""Messages benchmark: a message to 300 participants, queued and sent by one db_worker,
against the existing confirmation mail to the same 300 in the same run. A measurement, not a
test.

    DATABASE_URL=postgres://... .venv/bin/python bench/messages.py [--people 300] [--rounds 3]

It makes a throwaway database beside DATABASE_URL's (its name with "_messages_bench"; the
role must be allowed to create databases), migrates it, adds one edition with `--people`
confirmed participants and drops it again. Mail goes to a real SMTP server (aiosmtpd, in this
process) through the database queue, as in production.

Each round, in turn (the order alternates): the confirmation mail (registrations.tasks
.send_confirmation_email, with its .ics) queued for everyone, then a group message
(participant_messages) sent to everyone from the admin's send action; each is then sent by one
db_worker (`--batch`, in this process). It reports, per kind, the time to queue (for the
message: choosing the group, one Recipient row each and the tasks, in one transaction), the
time to render every mail in this process (no sending), and the worker's mails per second
(first to last arrival at the SMTP server), with the message's rate as a share of the
confirmation's in the same round; the median over the rounds.
"""

import argparse
import datetime
import io
import logging
import os
import socket
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import scenery


class Inbox:
    """aiosmtpd handler: when each message arrived."""

    def __init__(self):
        self.arrivals = []

    async def handle_DATA(self, server, session, envelope):
        self.arrivals.append(time.monotonic())
        return "250 OK"


def setup_database(workdir, smtp_port):
    sys.path.insert(0, str(scenery.ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "werkplaats.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-not-a-secret")
    os.environ["DJANGO_DEBUG"] = "0"  # DEBUG keeps every query in memory
    os.environ["DJANGO_MEDIA_ROOT"] = str(Path(workdir) / "media")
    os.environ["DJANGO_TASKS_BACKEND"] = "database"
    os.environ["EMAIL_HOST"] = "127.0.0.1"
    os.environ["EMAIL_PORT"] = str(smtp_port)
    import django

    django.setup()
    from django.db import connection

    warnings.filterwarnings("ignore", message="No directory at")
    # Every task and every SMTP command is logged at INFO: thousands of lines, not the result.
    for name in ("django_tasks", "django_tasks_db", "mail.log"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if connection.vendor != "postgresql":
        sys.exit("bench/messages.py measures on PostgreSQL: set DATABASE_URL=postgres://...")
    connection.settings_dict.setdefault("TEST", {})
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_messages_bench"
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return lambda: connection.creation.destroy_test_db(old_name, verbosity=0)


def run_worker(inbox, expected):
    """One db_worker sends what is queued; mails per second from first to last arrival."""
    from django.core.management import call_command

    before = len(inbox.arrivals)
    started = time.monotonic()
    call_command("db_worker", batch=True, startup_delay=False, reload=False, stdout=io.StringIO())
    deadline = time.monotonic() + 30
    while len(inbox.arrivals) - before < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    wall = time.monotonic() - started
    arrivals = inbox.arrivals[before:]
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else float("nan")
    return {
        "mails": len(arrivals),
        "wall_s": wall,
        "per_second": (len(arrivals) - 1) / span if len(arrivals) > 1 else 0.0,
    }


def confirmation_round(people, inbox):
    from registrations import emails, tasks
    from werkplaats.queue import atomic_with

    started = time.perf_counter()
    with atomic_with(tasks.send_confirmation_email) as queue:
        for registration in people:
            queue(registration.pk)
    queued = time.perf_counter() - started
    started = time.perf_counter()
    for registration in people:
        emails.confirmation_message(registration).message()
    rendered = time.perf_counter() - started
    return {"queue_s": queued, "render_s": rendered, **run_worker(inbox, len(people))}


def message_round(edition, people, inbox, number):
    from registrations.messages import emails, tasks
    from registrations.messages.models import Message
    from werkplaats.queue import atomic_with

    message = Message.objects.create(
        edition=edition,
        group="confirmed",
        subject=f"Programmawijziging {number}, {{voornaam}}",
        body=(
            "Beste {voornaam},\n\nDe tweede dag begint een half uur later. We zien je in "
            "{locatie} ({route}). Neem mee: {meenemen}.\n\nJe inschrijving: {persoonlijke_link}\n"
        ),
    )
    started = time.perf_counter()
    with atomic_with(tasks.send_participant_message) as queue:
        for recipient in message.send():
            queue(recipient.pk)
    queued = time.perf_counter() - started
    started = time.perf_counter()
    for registration in message.audience().select_related("edition"):
        emails.message_mail(message, registration).message()
    rendered = time.perf_counter() - started
    return {"queue_s": queued, "render_s": rendered, **run_worker(inbox, len(people))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    from aiosmtpd.controller import Controller

    inbox = Inbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    with tempfile.TemporaryDirectory() as workdir:
        teardown = setup_database(workdir, port)
        try:
            from django.utils import timezone

            edition = scenery.edition(
                timezone.localdate() + datetime.timedelta(days=30),
                what_to_bring="Je eigen casus",
            )
            people = scenery.participants(edition, options.people)
            rows = {"confirmation": [], "message": []}
            for number in range(options.rounds):
                kinds = ["confirmation", "message"]
                if number % 2:
                    kinds.reverse()
                for kind in kinds:
                    if kind == "confirmation":
                        rows[kind].append(confirmation_round(people, inbox))
                    else:
                        rows[kind].append(message_round(edition, people, inbox, number))
            report(rows, options)
        finally:
            teardown()
            smtp.stop()


def report(rows, options):
    print(f"{options.people} participants, {options.rounds} rounds, one db_worker, PostgreSQL")
    print(f"{'':14}{'queue (s)':>11}{'render (s)':>12}{'worker (s)':>12}{'mails/s':>10}")
    for kind, results in rows.items():

        def median(key, results=results):
            return statistics.median(r[key] for r in results)

        assert all(r["mails"] == options.people for r in results), results
        print(
            f"{kind:14}{median('queue_s'):>11.3f}{median('render_s'):>12.3f}"
            f"{median('wall_s'):>12.2f}{median('per_second'):>10.1f}"
        )
    ratios = [
        m["per_second"] / c["per_second"]
        for m, c in zip(rows["message"], rows["confirmation"], strict=True)
    ]
    print(
        "message mails/s as a share of the confirmation's, per round: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f" (median {statistics.median(ratios):.2f})"
    )


if __name__ == "__main__":
    main()
