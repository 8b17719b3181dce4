# werkplaats: gunicorn serving werkplaats.wsgi on $PORT. Set DJANGO_SECRET_KEY,
# DATABASE_URL (postgres://...), DJANGO_ALLOWED_HOSTS and the e-mail variables at run time.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=8000

# The same install script CI runs (.ci/run calls it with "test").
COPY .ci/install-system-packages /usr/local/bin/install-system-packages
RUN install-system-packages runtime && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 werkplaats
WORKDIR /app

COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .

COPY . .
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/media && chown -R werkplaats:werkplaats /app/media

USER werkplaats
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; host = os.environ.get('DJANGO_ALLOWED_HOSTS', 'localhost').split(',')[0].strip(); request = urllib.request.Request(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', headers={'Host': host, 'X-Forwarded-Proto': 'https'}); urllib.request.urlopen(request, timeout=4)"

# The web process. With DJANGO_TASKS_BACKEND=database, run the same image a second time as
# the e-mail worker: `python manage.py db_worker` (see README.md, Production).
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn werkplaats.wsgi"]
