"""The settings module fails at start-up, naming the variable, when a value is wrong."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent


def start_django(**env):
    """Import the settings in a fresh interpreter, as `manage.py` or gunicorn would."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "werkplaats.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_valid_environment_starts():
    result = start_django(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be a boolean"),
        ({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY is not set"),
        ({"DATABASE_URL": "mysql://user@localhost/db"}, "DATABASE_URL must start with"),
        ({"EMAIL_PORT": "twenty-five"}, "EMAIL_PORT must be a whole number"),
        ({"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "EMAIL_USE_TLS and EMAIL_USE_SSL"),
        ({"REGISTRATION_RATE_LIMIT": "0"}, "REGISTRATION_RATE_LIMIT must be at least 1"),
        ({"DJANGO_TASKS_BACKEND": "celery"}, "DJANGO_TASKS_BACKEND must be one of"),
    ],
)
def test_bad_value_stops_start_up_with_a_message_naming_the_variable(env, message):
    result = start_django(**{"DJANGO_SECRET_KEY": "x" * 50, **env})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_debug_without_secret_key_uses_a_local_key():
    result = start_django(DJANGO_DEBUG="1", DJANGO_SECRET_KEY="")
    assert result.returncode == 0, result.stderr
