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
        # The database keeps the access log 24 months (registrations/accesslog/guards.py).
        ({"ACCESS_LOG_RETENTION_MONTHS": "12"}, "ACCESS_LOG_RETENTION_MONTHS must be at least 24"),
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


@pytest.mark.parametrize(
    "url", ["sqlite:///tmp/werkplaats-settings.sqlite3", "postgres://u:p@127.0.0.1:5432/db"]
)
def test_a_deployment_keeps_its_database_connection_and_checks_it_before_each_request(url):
    """Without DATABASE_CONN_MAX_AGE a worker reuses its connection for ten minutes, and Django
    checks it at the start of each request (a dropped connection is replaced, not an error);
    DATABASE_CONN_MAX_AGE=0 still opens one per request."""
    show = "from django.db import connection as c; s = c.settings_dict; "
    show += "print(s['CONN_MAX_AGE'], s['CONN_HEALTH_CHECKS'])"

    def database_settings(**env):
        environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "werkplaats.settings"}
        environment.pop("DATABASE_CONN_MAX_AGE", None)
        environment.update(DJANGO_SECRET_KEY="x" * 50, DATABASE_URL=url, **env)
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {show}"],
            cwd=PROJECT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert database_settings() == ["600", "True"]
    assert database_settings(DATABASE_CONN_MAX_AGE="0") == ["0", "True"]
