"""The folders tell the architecture: imports point one way, and none hides in a function.

programme (the workshop as published) uses neither registrations nor invoicing; sign-up
(registrations) never uses invoicing or attendance; invoicing (registrations/invoicing) and
attendance (registrations/attendance) may use both, and never each other; payments
(registrations/payments) build on invoicing, and nothing below uses them. The project package
(werkplaats/) is the toolkit below every app; only its URLconf and its admin modules, which
assemble the back office (admin.py) and its front page (admin_site.py), join the apps.
"""

import ast
from pathlib import Path

import pytest
from django.contrib import admin

ROOT = Path(__file__).resolve().parent.parent
# Imported on first use on purpose: WeasyPrint and Saxon cost time to import, which pages that
# never render a PDF or validate an e-invoice should not pay (werkplaats/pdf.py,
# registrations/invoicing/einvoice.py).
LAZY_ALLOWED = {
    "weasyprint",
    "weasyprint.text",
    "weasyprint.text.constants",
    "weasyprint.text.ffi",
    "weasyprint.text.fonts",
    "weasyprint.urls",
    "saxonche",
}


def modules(folder, exclude=()):
    for path in sorted((ROOT / folder).rglob("*.py")):
        relative = path.relative_to(ROOT)
        if "migrations" in relative.parts or any(relative.is_relative_to(e) for e in exclude):
            continue
        yield relative, ast.parse(path.read_text(encoding="utf-8"))


def imported(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize(
    "folder, exclude, forbidden",
    [
        ("programme", (), ("registrations",)),
        (
            "registrations",
            (
                "registrations/invoicing",
                "registrations/attendance",
                "registrations/payments",
                "registrations/messages",
                "registrations/intake",
                "registrations/coaching",
                "registrations/evaluation",
                "registrations/network",
                "registrations/transmission",
                "registrations/privacy",
                "registrations/accreditation",
            ),
            (
                "registrations.transmission",
                "registrations.invoicing",
                "registrations.attendance",
                "registrations.payments",
                "registrations.messages",
                "registrations.intake",
                "registrations.coaching",
                "registrations.evaluation",
                "registrations.network",
                "registrations.privacy",
                "registrations.accreditation",
            ),
        ),
        (
            "registrations/invoicing",
            (),
            (
                "registrations.transmission",
                "registrations.attendance",
                "registrations.payments",
                "registrations.messages",
                "registrations.intake",
                "registrations.coaching",
                "registrations.accreditation",
            ),
        ),
        (
            "registrations/attendance",
            (),
            (
                "registrations.invoicing",
                "registrations.payments",
                "registrations.messages",
                "registrations.intake",
                "registrations.coaching",
                "registrations.evaluation",
                "registrations.network",
            ),
        ),
        # The evaluation builds on attendance (who was present); the network on sign-up only.
        (
            "registrations/evaluation",
            (),
            (
                "registrations.invoicing",
                "registrations.payments",
                "registrations.messages",
                "registrations.intake",
                "registrations.coaching",
                "registrations.network",
            ),
        ),
        (
            "registrations/network",
            (),
            (
                "registrations.invoicing",
                "registrations.attendance",
                "registrations.payments",
                "registrations.messages",
                "registrations.intake",
                "registrations.coaching",
                "registrations.evaluation",
                "registrations.accreditation",
            ),
        ),
        # The orders' history is below every app that records in it: it knows none of them.
        (
            "registrations/history",
            (),
            (
                "programme",
                "registrations.models",
                "registrations.invoicing",
                "registrations.attendance",
                "registrations.payments",
                "registrations.messages",
                "registrations.intake",
                "registrations.coaching",
                "registrations.accreditation",
            ),
        ),
        # The access log is below every app that records in it: it knows none of them.
        (
            "registrations/accesslog",
            (),
            (
                "programme",
                "registrations.models",
                "registrations.history",
                "registrations.invoicing",
                "registrations.attendance",
                "registrations.payments",
                "registrations.messages",
                "registrations.intake",
                "registrations.coaching",
                "registrations.organisations",
            ),
        ),
        # Intake (the cases) builds on sign-up; coaching builds on intake, never the reverse.
        (
            "registrations/intake",
            (),
            (
                "registrations.coaching",
                "registrations.invoicing",
                "registrations.attendance",
                "registrations.payments",
                "registrations.messages",
                "registrations.accreditation",
            ),
        ),
        (
            "registrations/coaching",
            (),
            (
                "registrations.invoicing",
                "registrations.attendance",
                "registrations.payments",
                "registrations.messages",
                "registrations.accreditation",
            ),
        ),
        # The organisation register sits below sign-up: an order links to an organisation.
        (
            "registrations/organisations",
            (),
            (
                "programme",
                "registrations.models",
                "registrations.forms",
                "registrations.views",
                "registrations.admin",
                "registrations.invoicing",
                "registrations.attendance",
                "registrations.payments",
                "registrations.messages",
                "registrations.intake",
                "registrations.coaching",
                "registrations.accreditation",
            ),
        ),
        # Transmission over Peppol builds on invoicing; invoicing reaches it only through
        # settings.INVOICE_TRANSMISSION.
        (
            "registrations/transmission",
            (),
            (
                "registrations.attendance",
                "registrations.payments",
                "registrations.messages",
                "registrations.intake",
                "registrations.coaching",
            ),
        ),
        # Payments build on invoicing; invoicing never knows about them.
        (
            "registrations/payments",
            (),
            (
                "registrations.attendance",
                "registrations.messages",
                "registrations.intake",
                "registrations.coaching",
                "registrations.accreditation",
            ),
        ),
        # Accreditation builds on sign-up and attendance (the day parts present), not on money,
        # messages, the cases or the coach slots.
        (
            "registrations/accreditation",
            (),
            (
                "registrations.invoicing",
                "registrations.payments",
                "registrations.messages",
                "registrations.intake",
                "registrations.coaching",
            ),
        ),
        # Messages to participants use sign-up, attendance (present on a day), the cases and the
        # coach slots (groups and placeholders), not money.
        ("registrations/messages", (), ("registrations.invoicing", "registrations.payments")),
        # The rights of the people read every app; no app below uses them (only the admin
        # assembly wires their pages in).
        *[
            (folder, (), ("registrations.privacy",))
            for folder in (
                "registrations/invoicing",
                "registrations/attendance",
                "registrations/payments",
                "registrations/messages",
                "registrations/intake",
                "registrations/coaching",
                "registrations/history",
                "registrations/organisations",
            )
        ],
        # The toolkit (formats, pdf, exports, admin_tools, ...) is the layer below every app;
        # only the URLconf and the admin assembly join the apps.
        (
            "werkplaats",
            ("werkplaats/urls.py", "werkplaats/admin.py", "werkplaats/admin_site.py"),
            ("programme", "registrations"),
        ),
    ],
)
def test_imports_point_one_way(folder, exclude, forbidden):
    wrong = [
        f"{path}: {name}"
        for path, tree in modules(folder, [Path(e) for e in exclude])
        for name in imported(tree)
        if name.startswith(forbidden)
    ]
    assert wrong == []


def test_no_import_hides_inside_a_function():
    hidden = []
    for folder in ("programme", "registrations", "werkplaats"):
        for path, tree in modules(folder):
            if path.name == "apps.py":
                continue  # AppConfig.ready() is where Django has checks and receivers imported
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    names = []
                    if isinstance(node, ast.Import):
                        names = [alias.name for alias in node.names]
                    elif isinstance(node, ast.ImportFrom):
                        names = [("." * node.level) + (node.module or "")]
                    hidden += [f"{path}:{node.lineno} {n}" for n in names if n not in LAZY_ALLOWED]
    assert hidden == []


ASSEMBLY = Path("werkplaats/admin.py")


def calls(tree):
    """(dotted name, node) of every call and decorator, e.g. ("admin.site.register", node)."""
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Call):
            targets.append(node.func)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            targets += [d.func if isinstance(d, ast.Call) else d for d in node.decorator_list]
        for target in targets:
            yield ast.unparse(target), node


def our_modules():
    for folder in ("programme", "registrations", "werkplaats"):
        yield from modules(folder)


def test_no_admin_is_unregistered():
    """Replacing another app's admin is what werkplaats/admin.py's mixins are for."""
    found = [
        f"{path}:{node.lineno} {name}"
        for path, tree in our_modules()
        for name, node in calls(tree)
        if name.split(".")[-1] == "unregister"
    ]
    assert found == []


def test_no_code_asks_the_admin_what_is_registered():
    """What staff see may not depend on which app loaded first."""
    lookups = {"_registry", "get_model_admin", "is_registered"}
    found = [
        f"{path}:{node.lineno} {node.attr}"
        for path, tree in our_modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in lookups
    ]
    assert found == []


def test_models_are_registered_in_the_admin_assembly_only():
    elsewhere = [
        f"{path}:{node.lineno} {name}"
        for path, tree in our_modules()
        if path != ASSEMBLY
        for name, node in calls(tree)
        if name.endswith(("admin.register", "site.register"))
    ]
    assert elsewhere == []


def test_the_admin_assembly_registers_the_back_office_models():
    """The same models as before the assembly moved to werkplaats/admin.py, each once."""
    ours = (
        "programme",
        "registrations",
        "invoicing",
        "attendance",
        "payments",
        "participant_messages",
        "organisations",
    )
    registered = {model._meta.label for model in admin.site._registry}
    assert {label for label in registered if label.startswith(ours)} == {
        "programme.Edition",
        "programme.PrivacyStatement",
        "organisations.Organisation",
        "registrations.Order",
        "registrations.Registration",
        "registrations.RetentionRecord",
        "registrations.WaitingListOffer",
        "invoicing.BulkJob",
        "invoicing.Invoice",
        "invoicing.InvoiceIssuer",
        "attendance.Certificate",
        "participant_messages.Material",
        "participant_messages.Message",
        "payments.BankStatement",
        "payments.CostCentre",
        "payments.InvoiceHold",
        "payments.LedgerAccount",
        "payments.Payment",
        "payments.Reminder",
        "payments.ReminderSettings",
    }


def test_dates_are_formatted_by_werkplaats_formats_only():
    """No strftime or date format spec ("{d:%d-%m-%Y}") in app code: werkplaats/formats.py
    formats every date with Django's l10n under `nl`, so a list, an export and a mail agree."""
    by_hand = []
    for folder in ("programme", "registrations", "werkplaats"):
        for path, tree in modules(folder):
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr == "strftime":
                    by_hand.append(f"{path}:{node.lineno} strftime")
                if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
                    spec = "".join(
                        part.value
                        for part in node.format_spec.values
                        if isinstance(part, ast.Constant)
                    )
                    if "%" in spec:
                        by_hand.append(f"{path}:{node.lineno} {spec}")
    assert by_hand == []
