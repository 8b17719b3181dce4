"""gunicorn settings; every value can be overridden from the environment."""

import gc
import os

from django.apps import apps
from django.conf import settings
from django.utils.module_loading import import_string

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Access log to stdout, errors to stderr: the container platform collects both.
accesslog = "-"
errorlog = "-"
# Load the app before forking: workers share the imported code, WeasyPrint's too (when_ready).
preload_app = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):
    """Import WeasyPrint in the master, before the workers are forked: they share its pages
    (about 16 MiB less PSS per worker) and a restarted worker is ready in a third of the
    time. Only the import: its font configuration is made by each worker (post_fork)."""
    import weasyprint  # noqa: F401
    import weasyprint.text.fonts  # noqa: F401


def post_fork(server, worker):
    """Make each worker ready to render invoices before it takes a request: WeasyPrint, the
    fonts, the current layout's stylesheets and template (settings.WORKER_WARM_UP, like the
    other hooks: this file names no app).
    Without it the first invoice a new worker issues takes most of a second longer (after a
    deploy, a restart by max_requests, or on a second server). In the worker, not the master:
    fontconfig and Pango state is not made to be shared across a fork. Tests and management
    commands do not start gunicorn, so they do not pay for it. Only for this project's
    application, loaded before the fork (preload_app): bench/ceiling.py runs with this file too.
    """
    # gunicorn reads this file before Django is set up: only a loaded project has hooks.
    if apps.ready:
        for path in getattr(settings, "WORKER_WARM_UP", ()):
            import_string(path)()
    # What starting left behind is collected now rather than in one of the first requests (a
    # full collection in a fresh worker takes some 60 ms: it made a first invoice 5x a warm
    # one), and what remains is frozen, so that later full collections skip it.
    gc.collect()
    gc.freeze()
