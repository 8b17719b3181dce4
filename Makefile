# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean bench

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,browser]"
	touch $(STAMP)

install: $(STAMP)

# A local secret key, written once; .env is ignored by git and never used in production.
.env: | $(PY)
	$(PY) -c "import secrets; print('DJANGO_SECRET_KEY=' + secrets.token_urlsafe(50))" > .env

run: $(STAMP) .env
	DJANGO_DEBUG=1 $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=1 $(PY) manage.py load_seed
	DJANGO_DEBUG=1 $(PY) manage.py load_demo_edition
	DJANGO_DEBUG=1 $(PY) manage.py load_demo_invoicing
	DJANGO_DEBUG=1 $(PY) manage.py create_local_admin
	DJANGO_DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The tests serve the collected, hashed and compressed files as the site does. Collecting
# takes half a minute, so it runs again only when a static file or the installed packages
# (Django's admin, Bootstrap) changed.
staticfiles/staticfiles.json: $(STAMP) .env $(shell find static -type f)
	$(PY) manage.py collectstatic --noinput --verbosity 0

test: $(STAMP) .env lint staticfiles/staticfiles.json
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest

bench: $(STAMP) .env
	$(PY) bench/invoices.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
