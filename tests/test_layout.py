"""The folders tell the architecture: imports point one way, and none hides in a function.

programme (the workshop as published) uses neither registrations nor invoicing; sign-up
(registrations) never uses invoicing or attendance; invoicing (registrations/invoicing) and
attendance (registrations/attendance) may use both, and never each other; payments
(registrations/payments) build on invoicing, and nothing below uses them.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Imported on first use on purpose: WeasyPrint and Saxon cost time to import, which pages that
# never render a PDF or validate an e-invoice should not pay (werkplaats/pdf.py,
# registrations/invoicing/einvoice.py).
LAZY_ALLOWED = {"weasyprint", "weasyprint.text.fonts", "weasyprint.urls", "saxonche"}


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
            ("registrations/invoicing", "registrations/attendance", "registrations/payments"),
            ("registrations.invoicing", "registrations.attendance", "registrations.payments"),
        ),
        ("registrations/invoicing", (), ("registrations.attendance", "registrations.payments")),
        ("registrations/attendance", (), ("registrations.invoicing", "registrations.payments")),
        # Payments build on invoicing; invoicing never knows about them.
        ("registrations/payments", (), ("registrations.attendance",)),
        # formats and pdf are the layer below every app; only the URLconf joins the apps.
        ("werkplaats", ("werkplaats/urls.py",), ("programme", "registrations")),
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
