"""README's configuration table is the operator's whole list: every variable the settings and
gunicorn read is in it, and nothing in it is read nowhere."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A name in quotes handed to one of the settings' env_* readers or to os.environ.
READ = re.compile(r"""(?:env_\w+|environ\.get|environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")


def read_by_the_code():
    names = set()
    for path in ("werkplaats/settings.py", "gunicorn.conf.py"):
        names |= set(READ.findall((ROOT / path).read_text(encoding="utf-8")))
    return names


def in_the_readme_table():
    names = set()
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_the_readme_lists_every_variable_the_settings_read():
    assert read_by_the_code() - in_the_readme_table() == set()


def test_the_readme_lists_no_variable_that_nothing_reads():
    assert in_the_readme_table() - read_by_the_code() == set()


def test_the_pattern_finds_what_the_settings_read():
    # Guards the two tests above against a pattern that finds nothing.
    assert {"DATABASE_URL", "DJANGO_SECRET_KEY", "EMAIL_BACKEND", "PORT"} <= read_by_the_code()
