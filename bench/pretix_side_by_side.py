"""Side by side with pretix: the warm render of one invoice PDF, ours against pretix's, measured
in one run, round by round in turns. A measurement, not a test: it prints the figures.

    .venv/bin/python bench/pretix_side_by_side.py [--rounds 30] [--pretix-venv DIR] [--check]
        [--save-pdfs DIR]

Ours: the invoice bench/invoices.py renders (scenery's issuer, edition and participant, issued
by issue_invoice, so in the current layout), rendered by
registrations.invoicing.pdf.render_invoice with its e-invoice (UBL) embedded as when it is
issued, and without, in a process started as a gunicorn worker starts (gunicorn.conf.py's
post_fork: the warm-ups, then the garbage collected and the rest frozen), as every invoice is
rendered in production. pretix: the same invoice as
far as pretix's model goes (same issuer, customer address, one line of EUR 1,800 + 21% VAT,
Dutch) made by pretix's own generate_invoice and rendered by pretix's renderer's
generate(invoice): "classic" (ClassicInvoiceRenderer, pretix's default renderer setting) and,
for information, "modern1" (the default of newly created events). ReportLab, no e-invoice.

Each side runs in a process of its own venv, as a small loop server: it sets up its data,
renders each variant twice untimed (warm), then on every "render <variant>" line from this
process renders once and answers its own wall time (time.perf_counter) and CPU time
(time.process_time) around the render alone. The parent asks both in turns, reversing the
order every other round, so both are measured under the same machine load. The first round
is not counted. Target (issue 28): ours / pretix classic <= 1.0 in wall time, with the
e-invoice embedded; --check exits 1 when it is missed.

The pretix venv is separate (pretix pins its own Django; never install it into ours). One-off:

    python3 -m venv /work/pretix-venv
    /work/pretix-venv/bin/pip install pretix==2026.8.0

--pretix-venv, else PRETIX_VENV, else /work/pretix-venv. Without it this script says so and
exits 2. pretix's database is SQLite in a temporary directory; its migrations take about
90 s, so the first run keeps the migrated database in the pretix venv
(bench-migrated-<version>.sqlite3) and later runs start from a copy of it.
"""

import argparse
import json
import os
import runpy
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PRETIX_VENV = "/work/pretix-venv"
PRETIX_VERSION = "2026.8.0"
TARGET = 1.0
UNTIMED_RENDERS = 2

# What is asked of which side; the ratios are ours / pretix classic.
OURS_VARIANTS = ("e-invoice", "plain")
PRETIX_VARIANTS = ("classic", "modern1")

# The invoice's parties and line, as scenery makes them for ours (bench/scenery.py).
ISSUER = {
    "name": "Platform31",
    "street": "Postbus 30833",
    "postcode": "2500 GV",
    "city": "Den Haag",
    "kvk_number": "27169301",
    "vat_id": "NL000099998B57",
    "iban": "NL91ABNA0417164300",
}
CUSTOMER = {
    "company": "Gemeente Utrecht",
    "attention": "Crediteurenadministratie",
    "street": "Stadsplateau 1",
    "postcode": "3521 AZ",
    "city": "Utrecht",
    "email": "facturen@utrecht.example.nl",
    "po_number": "PO-0000",
}
EVENT_NAME = "Werkplaats ‘Werken aan wijkontwikkeling’ (benchmark)"
VENUE = "Kaap Doorn Conferentiecentrum, Doorn"
# Ours writes dates in Dutch (strftime's %B would be English here).
MONTHS = (
    "januari februari maart april mei juni juli augustus september oktober november december"
).split()


# --- the two servers ------------------------------------------------------------------------


def private_stdout():
    """The answers' channel: a private copy of stdout. From here on whatever is printed (by
    Django, pretix, WeasyPrint, a migration, even from C) goes to stderr, which the parent
    keeps in a log file, so it is never mistaken for an answer."""
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return answers


def serve(answers, renderers, info, save_dir=None):
    """Answer "render <variant>" lines on stdin with one timed render each, as a JSON line."""
    for variant, render in renderers.items():
        for _ in range(UNTIMED_RENDERS):
            pdf = render()
        info[f"{variant} bytes"] = len(pdf)
        if save_dir:
            Path(save_dir, f"{info['side']}-{variant}.pdf").write_bytes(pdf)
    answers.write(json.dumps({"ready": info}) + "\n")
    for line in sys.stdin:
        command, _, variant = line.strip().partition(" ")
        if command != "render":
            break
        render = renderers[variant]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        render()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        answers.write(json.dumps({"wall": wall * 1000, "cpu": cpu * 1000}) + "\n")


def serve_ours(answers, workdir, save_dir):
    """Our invoice as bench/invoices.py issues it, on a fresh SQLite database."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import datetime

    import scenery

    scenery.setup_django(False, workdir)
    from registrations.invoicing import pdf
    from registrations.invoicing.einvoice import render_ubl
    from registrations.invoicing.issuing import issue_invoice

    scenery.complete_issuer()
    start = datetime.date.today() + datetime.timedelta(days=365)
    registration = scenery.participants(scenery.edition(start), 1)[0]
    invoice = issue_invoice(registration)
    ubl = render_ubl(invoice)
    # Then as a gunicorn worker starts (gunicorn.conf.py's post_fork): in production every
    # invoice is rendered in such a worker.
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_fork"](None, None)
    info = {"side": "ours", "layout": invoice.layout, "lines": len(invoice.lines.all())}
    serve(
        answers,
        {
            "e-invoice": lambda: pdf.render_invoice(invoice, einvoice=ubl),
            "plain": lambda: pdf.render_invoice(invoice),
        },
        info,
        save_dir,
    )


def pretix_template(venv):
    import pretix

    return Path(venv) / f"bench-migrated-{pretix.__version__}.sqlite3"


def serve_pretix(answers, workdir, save_dir):
    """pretix's invoice for the same order, on SQLite in `workdir`; its settings come from a
    pretix.cfg written there (pretix reads PRETIX_CONFIG_FILE when it is imported)."""
    datadir = Path(workdir) / "data"
    datadir.mkdir(parents=True)
    database = datadir / "db.sqlite3"
    config = Path(workdir) / "pretix.cfg"
    config.write_text(
        f"[pretix]\ndatadir={datadir}\n[database]\nbackend=sqlite3\nname={database}\n"
        "[django]\ndebug=false\n"
    )
    os.environ["PRETIX_CONFIG_FILE"] = str(config)
    os.environ["DJANGO_SETTINGS_MODULE"] = "pretix.settings"
    template = pretix_template(Path(sys.executable).parent.parent)
    if template.exists():
        shutil.copyfile(template, database)
    else:
        print(f"migrating pretix's database once (about 90 s) into {template}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pretix", "migrate", "-v0"], check=True)
        partial = template.with_suffix(".partial")
        shutil.copyfile(database, partial)
        partial.rename(template)  # never a half-copied template for the next run
    import django

    django.setup()
    from django_scopes import scope, scopes_disabled
    from pretix.base.i18n import language

    with scopes_disabled():
        invoice = pretix_invoice()
    info = {"side": "pretix", "number": invoice.number, "lines": invoice.lines.count()}
    event = invoice.event
    region = event.settings.region
    renderers = {}
    for variant in PRETIX_VARIANTS:
        # What pretix's invoice_pdf_task does, less storing the file: the event's renderer's
        # generate(), in the organizer's scope and the invoice's language.
        renderer = event.get_invoice_renderers()[variant]

        def render(renderer=renderer):
            with scope(organizer=event.organizer), language(invoice.locale, region):
                return renderer.generate(invoice)[2]

        renderers[variant] = render
    serve(answers, renderers, info, save_dir)


def pretix_invoice():
    """Organizer, event, tax rule, product, a pending order with one position and a business
    invoice address, and its invoice, made by pretix's own generate_invoice."""
    import datetime
    from decimal import Decimal

    from django.db import transaction
    from django.utils.timezone import now
    from pretix.base.models import InvoiceAddress, Item, Order, OrderPosition, Organizer
    from pretix.base.services.invoices import generate_invoice

    # One transaction with create_transactions(), as pretix's order code does: pretix checks.
    with transaction.atomic():
        organizer = Organizer.objects.create(name=ISSUER["name"], slug="platform31")
        start = now() + datetime.timedelta(days=365)
        event = organizer.events.create(
            name=EVENT_NAME,
            slug="werkplaats",
            currency="EUR",
            date_from=start,
            date_to=start + datetime.timedelta(days=2),
            location=VENUE,
            plugins="pretix.plugins.banktransfer",
        )
        settings = event.settings
        settings.locale = "nl"
        settings.locales = ["nl"]
        settings.region = "NL"
        settings.timezone = "Europe/Amsterdam"
        settings.invoice_renderer = "classic"
        settings.invoice_address_from_name = ISSUER["name"]
        settings.invoice_address_from = ISSUER["street"]
        settings.invoice_address_from_zipcode = ISSUER["postcode"]
        settings.invoice_address_from_city = ISSUER["city"]
        settings.invoice_address_from_country = "NL"
        settings.invoice_address_from_vat_id = ISSUER["vat_id"]
        settings.invoice_address_from_tax_id = f"KvK {ISSUER['kvk_number']}"
        # Ours prints how and by when to pay and the issuer's bank account: pretix's payment
        # text and footer carry the same.
        settings.invoice_additional_text = (
            "Graag binnen 30 dagen betalen op rekening "
            f"{ISSUER['iban']} t.n.v. {ISSUER['name']}, onder vermelding van het factuurnummer."
        )
        settings.invoice_footer_text = (
            f"{ISSUER['name']} · KvK {ISSUER['kvk_number']} · btw {ISSUER['vat_id']} · "
            f"IBAN {ISSUER['iban']}"
        )
        vat = event.tax_rules.create(rate=Decimal("21.00"), name="btw", default=True)
        # The product named as our invoice line reads, so its description wraps as ours does.
        end = start + datetime.timedelta(days=2)
        days = f"{start.day} t/m {end.day} {MONTHS[end.month - 1]} {end.year}"
        item = Item.objects.create(
            event=event,
            name=f"{EVENT_NAME}, {days}, {VENUE}, inclusief arrangement- en verblijfskosten",
            default_price=Decimal("2178.00"),
            tax_rule=vat,
        )
        order = Order.objects.create(
            event=event,
            status=Order.STATUS_PENDING,
            email=CUSTOMER["email"],
            datetime=now(),
            expires=now() + datetime.timedelta(days=30),
            total=Decimal("2178.00"),
            locale="nl",
            sales_channel=organizer.sales_channels.get(identifier="web"),
        )
        OrderPosition.objects.create(
            order=order,
            item=item,
            positionid=1,
            price=Decimal("2178.00"),
            tax_rate=Decimal("21.00"),
            tax_value=Decimal("378.00"),
            tax_rule=vat,
            attendee_name_parts={"_legacy": "Deelnemer 0"},
        )
        InvoiceAddress.objects.create(
            order=order,
            is_business=True,
            company=CUSTOMER["company"],
            name_parts={"_legacy": CUSTOMER["attention"]},
            street=CUSTOMER["street"],
            zipcode=CUSTOMER["postcode"],
            city=CUSTOMER["city"],
            country="NL",
            internal_reference=CUSTOMER["po_number"],
        )
        order.create_transactions()
    return generate_invoice(order, trigger_pdf=False)


# --- the parent -----------------------------------------------------------------------------


class Server:
    """One side's loop server, started in its own interpreter."""

    def __init__(self, side, python, workdir, save_dir):
        self.side = side
        self.log_path = Path(workdir) / f"{side}.log"
        self.log = open(self.log_path, "w")  # closed in close()
        command = [python, str(Path(__file__).resolve()), "--serve", side, "--workdir"]
        command.append(str(Path(workdir) / side))
        if save_dir:
            command += ["--save-pdfs", str(save_dir)]
        Path(workdir, side).mkdir()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # Neither side should see the other's settings: ours reads .env and DATABASE_URL
        # (scenery sets its own), pretix reads PRETIX_CONFIG_FILE (set by its server).
        for name in ("DJANGO_SETTINGS_MODULE", "PRETIX_CONFIG_FILE", "DATABASE_URL"):
            env.pop(name, None)
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=ROOT,
            env=env,
        )

    def answer(self):
        line = self.process.stdout.readline()
        if not line:
            self.log.flush()
            tail = "".join(self.log_path.read_text().splitlines(keepends=True)[-30:])
            raise SystemExit(f"the {self.side} server stopped; the end of its log:\n{tail}")
        return json.loads(line)

    def render(self, variant):
        self.process.stdin.write(f"render {variant}\n")
        self.process.stdin.flush()
        return self.answer()

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)
        self.log.close()


def pretix_python(venv):
    """The pretix venv's interpreter and pretix's version there, or None without one."""
    python = Path(venv) / "bin" / "python"
    if not python.exists():
        return None, None
    found = subprocess.run(
        [str(python), "-c", "import pretix; print(pretix.__version__)"],
        capture_output=True,
        text=True,
    )
    return (str(python), found.stdout.strip()) if found.returncode == 0 else (None, None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="counted rounds (30)")
    parser.add_argument("--pretix-venv", help=f"pretix's venv (PRETIX_VENV, {DEFAULT_PRETIX_VENV})")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument("--save-pdfs", metavar="DIR", help="keep each side's PDFs in DIR")
    parser.add_argument("--serve", choices=("ours", "pretix"), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        answers = private_stdout()
        serve_side = serve_ours if args.serve == "ours" else serve_pretix
        serve_side(answers, args.workdir, args.save_pdfs)
        return

    venv = args.pretix_venv or os.environ.get("PRETIX_VENV", DEFAULT_PRETIX_VENV)
    python, version = pretix_python(venv)
    if python is None:
        print(
            f"No pretix venv at {venv} (or pretix is not importable there). Make one:\n"
            f"    python3 -m venv {venv}\n"
            f"    {venv}/bin/pip install pretix=={PRETIX_VERSION}\n"
            "or pass --pretix-venv / set PRETIX_VENV.",
            file=sys.stderr,
        )
        sys.exit(2)
    if version != PRETIX_VERSION:
        print(f"NOTE: pretix {version} in {venv}, not {PRETIX_VERSION}", file=sys.stderr)
    if args.save_pdfs:
        Path(args.save_pdfs).mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="werkplaats-pretix-bench-") as workdir:
        # Ours: this interpreter, which is our venv's (as for every script in bench/).
        servers = {
            "ours": Server("ours", sys.executable, workdir, args.save_pdfs),
            "pretix": Server("pretix", python, workdir, args.save_pdfs),
        }
        try:
            # Both set up side by side (pretix's may migrate once): only the renders are timed.
            ready = {side: server.answer()["ready"] for side, server in servers.items()}
            turns = [("ours", v) for v in OURS_VARIANTS] + [("pretix", v) for v in PRETIX_VARIANTS]
            # Ours and pretix's alternate within a round: ours, pretix, ours, pretix.
            turns = [turns[0], turns[2], turns[1], turns[3]]
            times = {turn: [] for turn in turns}
            for number in range(args.rounds + 1):
                # Every other round backwards, so neither side always goes first.
                for side, variant in turns if number % 2 else reversed(turns):
                    answer = servers[side].render(variant)
                    if number:
                        times[side, variant].append(answer)
        finally:
            for server in servers.values():
                server.close()

    report(ready, times, args.rounds, version)
    ratio = median_of(times["ours", "e-invoice"], "wall") / median_of(
        times["pretix", "classic"], "wall"
    )
    if args.check and ratio > TARGET:
        sys.exit(1)


def median_of(answers, key):
    return statistics.median(answer[key] for answer in answers)


def report(ready, times, rounds, version):
    print(f"pretix {version}; ours: layout {ready['ours']['layout']}; {rounds} rounds in turns")
    for (side, variant), answers in times.items():
        size = ready[side][f"{variant} bytes"]
        print(
            f"  {side:6s} {variant:10s} wall {median_of(answers, 'wall'):6.1f} ms   "
            f"CPU {median_of(answers, 'cpu'):6.1f} ms   ({size / 1024:.0f} kB)"
        )
    pretix = times["pretix", "classic"]
    for variant in OURS_VARIANTS:
        ours = times["ours", variant]
        wall = median_of(ours, "wall") / median_of(pretix, "wall")
        cpu = median_of(ours, "cpu") / median_of(pretix, "cpu")
        # The same ratio round by round: the two renders of a round ran under the same load.
        paired = statistics.median(o["wall"] / p["wall"] for o, p in zip(ours, pretix, strict=True))
        verdict = ("OK" if wall <= TARGET else "MISSED") if variant == "e-invoice" else ""
        print(
            f"ratio ours ({variant}) / pretix classic: wall {wall:5.2f}  CPU {cpu:5.2f}  "
            f"(median of round ratios {paired:5.2f})  {verdict}"
        )
    modern = median_of(times["pretix", "modern1"], "wall")
    print(
        f"  (against pretix modern1: "
        f"{median_of(times['ours', 'e-invoice'], 'wall') / modern:.2f} with the e-invoice, "
        f"{median_of(times['ours', 'plain'], 'wall') / modern:.2f} without)"
    )
    print(f"target (issue 28): ours with the e-invoice / pretix classic <= {TARGET}")


if __name__ == "__main__":
    main()
