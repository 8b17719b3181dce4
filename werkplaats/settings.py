"""Settings for werkplaats, read from environment variables.

Local defaults are safe: SQLite in the project folder, debug off unless asked, e-mail to the
console. Production sets the variables listed in README.md. A bad value stops start-up with a
message that names the variable.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path):
    """Read KEY=value lines from an ignored .env file (written by `make run`) into os.environ.

    Variables already set in the environment win, so production never depends on the file.
    """
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip())


_load_dotenv(BASE_DIR / ".env")


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0), got {value!r}.")


def env_int(name, default, minimum=0):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}.") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}.")
    return number


def env_list(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment "
            "(`make run` writes a local one to .env)."
        )
    SECRET_KEY = "insecure-local-debug-key-only-for-development"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# The public address of the site, used in e-mails, .ics files and Open Graph tags, where
# there is no request to ask.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # Django's admin with our site: /beheer/ opens on the overview (werkplaats/admin_site.py).
    "werkplaats.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "bootstrap",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_countries",
    "csp",
    "axes",
    # Two-factor sign-in for the back office (werkplaats/twofactor/): codes from an
    # authenticator app (TOTP), one-time recovery codes, and passkeys (WebAuthn).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "django_tasks",
    "django_tasks_db",
    "programme",
    "registrations",
    "registrations.history",
    "registrations.invoicing",
    "registrations.attendance",
    "registrations.payments",
    "registrations.messages",
    "registrations.intake",
    "registrations.coaching",
    "registrations.organisations",
    "registrations.accesslog",
    "registrations.evaluation",
    "registrations.network",
    "registrations.transmission",
    "registrations.privacy",
    "registrations.accreditation",
    # Last: its admin module assembles the back office from the apps above (werkplaats/admin.py).
    "werkplaats",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # No LocaleMiddleware: the site speaks one language (LANGUAGE_CODE), so there is nothing
    # to negotiate per request, and it cost ~30 us of every request.
    "django.middleware.common.CommonMiddleware",
    # Refuses a NUL byte in the address, and uploads and oversized bodies where no form takes
    # them (werkplaats/middleware.py); before CsrfViewMiddleware, which reads the body.
    "werkplaats.middleware.RequestGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Ends a back-office session idle longer than BACKOFFICE_IDLE_MINUTES, when the view
    # first asks for request.user (werkplaats/twofactor/middleware.py); before OTPMiddleware,
    # so a session it ends is not verified either.
    "werkplaats.twofactor.middleware.IdleTimeoutMiddleware",
    # django-otp: request.user.is_verified(), true once the second factor was given in this
    # session; the admin site asks it on every page (werkplaats/admin_site.py).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, with the policy built once per process (werkplaats/middleware.py).
    "werkplaats.middleware.ContentSecurityPolicyMiddleware",
    # Axes turns a locked-out admin login into its lockout page; its docs want it last.
    "axes.middleware.AxesMiddleware",
    # Turns a database outage in a view into a friendly 503 page (werkplaats/middleware.py).
    "werkplaats.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "werkplaats.urls"
WSGI_APPLICATION = "werkplaats.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
if not DATABASE_URL.startswith(("sqlite://", "postgres://", "postgresql://")):
    raise ImproperlyConfigured(
        "DATABASE_URL must start with sqlite:// or postgres:// "
        f"(got {DATABASE_URL.split('://')[0]!r})."
    )
# Persistent connections: a worker keeps its database connection for up to ten minutes
# instead of opening one per request (on PostgreSQL that costs more than the workshop page
# itself). Django checks a reused connection at the start of each request (health checks), so
# a restarted database or a dropped connection costs one reconnect, never an error page; the
# limit makes workers let go of a connection now and then (failover, server-side memory).
# Safe for SQLite too (one connection per worker thread; WAL lets readers and the one writer
# work side by side) and for db_worker, which checks its connection between tasks the same way.
try:
    _database = dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL could not be read: {error}") from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so two sign-ups never
    # both read a count and then fail to upgrade their lock ("database is locked").
    _database["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    _database["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME", "") or None}
else:
    # Django's, with a health check that asks the connection's socket instead of the server
    # (werkplaats/postgresql/base.py): one round trip less on every request.
    _database["ENGINE"] = "werkplaats.postgresql"
    _database.setdefault("OPTIONS", {})
    _database["OPTIONS"].setdefault("connect_timeout", 5)
DATABASES = {"default": _database}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands")]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    # Invoice PDFs live here; they are never served from MEDIA_URL, only through a view
    # that checks permissions.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LOGIN_URL = "admin:login"

# E-mail: console locally; SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Platform31 werkplaats <werkplaats@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where notifications of new registrations and cancellations go.
STAFF_NOTIFICATION_EMAIL = env_str("STAFF_NOTIFICATION_EMAIL", "werkplaats@example.org")
# Where finance hears of a cancelled registration that was already invoiced.
FINANCE_NOTIFICATION_EMAIL = env_str("FINANCE_NOTIFICATION_EMAIL", STAFF_NOTIFICATION_EMAIL)

# E-mail is sent by tasks (the django-tasks backport of Django 6.0's framework).
# "immediate" (the default) sends inside the request, which needs no other process.
# "database" queues each task in the database, in the same transaction as the registration,
# and `manage.py db_worker` sends it: a sign-up then never waits for the mail server, and a
# mail is never lost between the commit and the send. Production should use "database".
TASK_QUEUES = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
TASKS_BACKEND_NAME = env_str("DJANGO_TASKS_BACKEND", "immediate")
if TASKS_BACKEND_NAME not in TASK_QUEUES:
    raise ImproperlyConfigured(
        f"DJANGO_TASKS_BACKEND must be one of {', '.join(TASK_QUEUES)}, not {TASKS_BACKEND_NAME!r}."
    )
TASKS = {"default": {"BACKEND": TASK_QUEUES[TASKS_BACKEND_NAME]}}

# What a cancellation also tells the layers built on sign-up, which sign-up may not import:
# each names a function that gets the cancelled registration and queues its own mail, if it
# has something to say. The view or admin action that cancels calls them, in its transaction
# (registrations.tasks.queue_cancellation_notices); here the project wires the apps together,
# as INSTALLED_APPS does.
CANCELLATION_NOTICES = [
    # Finance: an invoiced registration's invoice waits to be credited.
    "registrations.invoicing.tasks.queue_finance_notice",
]

# The same for a confirmation (sign-up, an accepted offer, staff confirming or reinstating):
# each gets the confirmed registrations (registrations.tasks.queue_confirmation_notices).
CONFIRMATION_NOTICES = [
    # Invoicing: where the edition sends invoices at confirmation, the order's invoice job.
    "registrations.invoicing.tasks.queue_invoicing_at_confirmation",
]
# The same for an order finance made invoiceable (linked or corrected its organisation, so
# nothing holds it any more): each gets the orders (registrations.tasks.queue_invoiceable_notices).
INVOICEABLE_NOTICES = [
    # Invoicing: where invoices leave at confirmation or their date has come, the order's job.
    "registrations.invoicing.tasks.queue_invoicing_when_invoiceable",
]

# How an issued invoice also leaves over Peppol: invoicing calls this function with the invoice
# it sends; it queues the Peppol transmission where that is the channel and answers whether
# the e-mail is then a copy (registrations.transmission.tasks.take_over). Empty: e-mail only.
INVOICE_TRANSMISSION = "registrations.transmission.tasks.take_over"

# The Peppol access point (Storecove's REST API v2). Without PEPPOL_API_KEY every invoice
# leaves by e-mail, as before. The key is read here and never logged.
PEPPOL_API_URL = env_str("PEPPOL_API_URL", "https://api.storecove.com/api/v2").strip()
PEPPOL_API_KEY = env_str("PEPPOL_API_KEY").strip()
PEPPOL_LEGAL_ENTITY_ID = env_str("PEPPOL_LEGAL_ENTITY_ID").strip()
PEPPOL_TIMEOUT = env_int("PEPPOL_TIMEOUT", 20, minimum=1)
if PEPPOL_API_KEY and not PEPPOL_LEGAL_ENTITY_ID.isdigit():
    raise ImproperlyConfigured(
        "PEPPOL_LEGAL_ENTITY_ID must be the access point's number for us when PEPPOL_API_KEY is set."
    )

# What the layers built on sign-up keep of a participant, told by sign-up's model layer inside
# the transaction that changes the registration (registrations.models), so every path (the
# participant's page, an admin action, a declined offer, the shell) does it. Data only: none
# of them queues mail. Each names a function that gets the registration.
PARTICIPANT_HOOKS = {
    # A cancelled registration: its coach slot is free for someone else.
    "cancelled": [
        "registrations.coaching.models.free_slot_of",
        # Nobody shares a network of an edition they no longer take part in.
        "registrations.network.models.withdraw_consent_of",
    ],
    # A substitute takes the place: the previous person's case and registration numbers go
    # with them.
    "substituted": [
        "registrations.intake.models.erase_answers_of",
        "registrations.accreditation.models.erase_entries_of",
        # The network consent was the previous person's, not the substitute's.
        "registrations.network.models.withdraw_consent_of",
    ],
}

# What the participant's own page shows of the layers built on sign-up: each names a
# function (registration, at, bound form or None) returning the context of its section,
# with "template", or None when there is nothing to show (registrations.views._detail).
PERSONAL_PAGE_SECTIONS = {
    "intake": "registrations.intake.views.personal_section",
    "coaching": "registrations.coaching.views.personal_section",
    "evaluation": "registrations.evaluation.views.personal_section",
    "network": "registrations.network.views.personal_section",
    "accreditation": "registrations.accreditation.views.personal_section",
}

# What the layers built on sign-up ask on the sign-up form, in the participant's own part
# (registrations.forms.sign_up_questions): each names a function (edition, posted data or
# None) returning the question, or None where the edition has nothing to ask.
SIGN_UP_QUESTIONS = ["registrations.accreditation.signup.question"]

# The daily retention job's steps of the layers built on sign-up (manage.py apply_retention):
# each names a function (dry_run) returning the lines it reports.
RETENTION_STEPS = [
    "registrations.intake.retention.erase_cases",
    "registrations.accesslog.retention.remove_expired",
    # Before the anonymisation: the network keeps its own copy of who consented.
    "registrations.network.retention.keep_consented",
    "registrations.accreditation.retention.erase_numbers",
]

# How long the access log (who exported, ran a bulk action, signed in) is kept, in months. The
# database refuses to remove younger entries (registrations/accesslog/guards.py, 24 months), so
# this may be longer, never shorter.
ACCESS_LOG_RETENTION_MONTHS = env_int("ACCESS_LOG_RETENTION_MONTHS", 24, minimum=24)

# Whether an edition's check-in counts morning and afternoon apart instead of whole days
# (registrations.attendance.models.parts_of): each names a function (edition) -> bool.
ATTENDANCE_BY_PART = ["registrations.accreditation.models.counts_day_parts"]

# What the layers built on attendance add to a certificate of participation: copied when it
# is issued (each a function (certificate), data only), and shown on its PDF and its public
# verification page (each a function (certificate) returning a context with "pdf_template"
# and "page_template", or None).
CERTIFICATE_ISSUED = ["registrations.accreditation.certificates.copy_points"]
CERTIFICATE_SECTIONS = ["registrations.accreditation.certificates.section"]

# What each gunicorn worker loads after the fork, before its first request (gunicorn.conf.py,
# post_fork): each names a function without arguments.
WORKER_WARM_UP = ["registrations.invoicing.pdf.warm_up"]

# Sign-up POSTs allowed per client address within the window (seconds).
REGISTRATION_RATE_LIMIT = env_int("REGISTRATION_RATE_LIMIT", 10, minimum=1)
REGISTRATION_RATE_WINDOW = env_int("REGISTRATION_RATE_WINDOW", 600, minimum=1)

# With REDIS_URL, every worker and app server shares Redis: the versions of the public pages
# (programme.models.PageVersion) live there, so a workshop page is checked without the
# database, and a session costs no database query (cached_db: written through to the
# database, so a Redis restart logs nobody out). Without it everything works on the database
# alone: the versions live in the database (one query per workshop page) and so do sessions.
# Either way each worker keeps its own copy of the pages it rendered (programme/pages.py).
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"REDIS_URL must start with redis://, rediss:// or unix:// (got {REDIS_URL!r})."
        )
    CACHES = {
        "default": {
            "BACKEND": "werkplaats.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "werkplaats",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PAGE_VERSIONS_IN_CACHE = bool(REDIS_URL)
# Each worker's own copy of the invoice documents it served: an issued document never changes
# (registrations/invoicing/admin.py), so no other worker needs to hear of it, and a download
# then costs no round trip for it at all.
CACHES["documents"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "invoice-documents",
    "OPTIONS": {"MAX_ENTRIES": 200},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name} {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # Lockouts are warnings; every login and logout at INFO would only be noise.
        "axes": {"level": "WARNING"},
        # WeasyPrint logs every rendering step at INFO; its warnings (a refused file) matter.
        "weasyprint": {"level": "WARNING"},
    },
}

# The admin's address; moving it off /admin/ keeps casual scanners away.
ADMIN_URL = env_str("DJANGO_ADMIN_URL", "beheer/").strip("/") + "/"

# Only behind a reverse proxy that sets X-Forwarded-For: rate limits then count per client.
USE_X_FORWARDED_FOR = env_bool("DJANGO_USE_X_FORWARDED_FOR", False)

# The official e-invoice rule files (si-ubl-2.0.xsl and EN16931-UBL-validation.xslt, published
# by the Peppol authority NL and the CEN; the project keeps no copy). Set: every e-invoice is
# validated when it is issued, and one with a fatal finding refuses the issue. Empty: none is.
EINVOICE_RULES_DIR = env_str("EINVOICE_RULES_DIR").strip()
if EINVOICE_RULES_DIR:
    _missing = [
        name
        for name in ("si-ubl-2.0.xsl", "EN16931-UBL-validation.xslt")
        if not (Path(EINVOICE_RULES_DIR) / name).is_file()
    ]
    if _missing:
        raise ImproperlyConfigured(
            f"EINVOICE_RULES_DIR={EINVOICE_RULES_DIR!r} lacks {', '.join(_missing)}."
        )

# The invoice address form lists the likely countries first.
COUNTRIES_FIRST = ["NL", "BE", "DE"]
COUNTRIES_FIRST_BREAK = "──────────"

# Security (Django's deployment checklist; `manage.py check --deploy` reports nothing with the
# production variables set, see tests/test_security.py).
# Cookies marked Secure and HSTS are on whenever DEBUG is off; each can be switched off by its
# variable, e.g. for a plain-http trial run of a production build on a laptop. The redirect to
# https is on only where the site is known to sit behind HTTPS, because Django's test client and
# a local gunicorn speak plain http: set DJANGO_SECURE_PROXY_SSL_HEADER behind a TLS proxy, or
# DJANGO_SECURE_SSL_REDIRECT=1 when gunicorn itself terminates TLS.
# DJANGO_SECURE_PROXY_SSL_HEADER names the header the proxy sets to "https" (and strips from
# clients), e.g. X-Forwarded-Proto. Never set it without such a proxy: clients could claim https.
_proxy_ssl_header = env_str("DJANGO_SECURE_PROXY_SSL_HEADER").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https") if _proxy_ssl_header else None
)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", SECURE_PROXY_SSL_HEADER is not None)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
# No script of ours reads the CSRF cookie; forms carry the token.
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
# The confirmation page's address holds its token: never send it to another site.
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# A sign-up form is a few kilobytes and an edition with all its sections a few dozen: anything
# far larger is refused with a 400 (templates/400.html) before a form sees it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 512 * 1024

# Preparation material (registrations/messages): the largest PDF staff may upload, in MB.
PREPARATION_MATERIAL_MAX_MB = env_int("PREPARATION_MATERIAL_MAX_MB", 20, minimum=1)

# Content-Security-Policy (django-csp): only our own files, no inline scripts or styles. The one
# inline script, the JSON-LD on the edition page, carries the per-request nonce. Bootstrap's
# stylesheet draws form controls with data: SVG images. The Django admin needs nothing more.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Admin login: django-axes locks out a client address after repeated wrong passwords.
# Counting per address (not per username) keeps an attacker from locking staff out elsewhere.
AUTHENTICATION_BACKENDS = [
    "werkplaats.backends.LockoutBackend",
    # Django's ModelBackend, reading the logged-in user without building an ORM query: a login
    # stores this one in its session.
    "werkplaats.backends.UserBackend",
    # Sessions made before UserBackend existed name Django's own: they stay logged in (it never
    # authenticates anyone now: UserBackend, before it, decides the same).
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("DJANGO_ADMIN_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_ADMIN_LOCKOUT_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
# The same client address as the sign-up rate limit: X-Forwarded-For only behind a proxy.
AXES_CLIENT_IP_CALLABLE = "werkplaats.addresses.client_address"
AXES_LOCKOUT_TEMPLATE = "429_login.html"

# Two-factor sign-in (werkplaats/twofactor/). Every back-office account gives a second factor
# after its password: a code from an authenticator app, a recovery code or a passkey. A wrong
# code counts for the lockout above like a wrong password.
# A back-office session ends after this many minutes without a request (participants have
# no session to end).
BACKOFFICE_IDLE_MINUTES = env_int("DJANGO_BACKOFFICE_IDLE_MINUTES", 30, minimum=1)
LOGIN_REDIRECT_URL = "admin:index"
# The name an authenticator app shows beside the account.
OTP_TOTP_ISSUER = "Werkplaats beheer"
# The admin's pages of devices never show a secret or its QR code (only the owner sees it,
# once, on the set-up page).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Passkeys are a second factor after the password, never a sign-in of their own.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "Werkplaats beheer"
# A passkey belongs to a domain (never an IP address): SITE_URL's, or localhost on a laptop
# (browsers treat http://localhost as secure).
_site = urlsplit(SITE_URL)
_site_is_local = _site.hostname in ("127.0.0.1", "localhost", "::1")
OTP_WEBAUTHN_RP_ID = env_str(
    "OTP_WEBAUTHN_RP_ID", "localhost" if _site_is_local else (_site.hostname or "localhost")
)
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list(
    "OTP_WEBAUTHN_ALLOWED_ORIGINS",
    [f"http://localhost{f':{_site.port}' if _site.port else ''}" if _site_is_local else SITE_URL],
)
