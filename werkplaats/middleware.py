import logging
import re
from functools import cache
from urllib.parse import unquote

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.core.files.uploadhandler import FileUploadHandler
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponseRedirect
from django.shortcuts import render

from .refusals import is_write_refused, write_refused_text

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Answer a friendly 503 page when the database cannot be reached, instead of a 500.

    OperationalError covers a refused or dropped connection and a database that stopped;
    InterfaceError a connection that was closed under us; a database that refuses to write
    (werkplaats.refusals.is_write_refused: read-only storage raises a ProgrammingError) is
    unavailable too. Other database errors are bugs and stay 500s. Nothing is kept between
    requests, so the site works again as soon as the database does: Django opens a new
    connection for the next request.

    In the back office a form posted while the database refuses to write (a change form,
    a page such as the statement upload; the bulk actions report it per row themselves) is
    not an error page: staff are told in Dutch that nothing was saved, on the same page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        write_refused = isinstance(exception, DatabaseError) and is_write_refused(exception)
        if not (write_refused or isinstance(exception, (OperationalError, InterfaceError))):
            return None
        # Class and view names only: a driver's message can quote the query and its
        # parameters, and a path can hold a participant's token.
        view = getattr(request.resolver_match, "view_name", "")
        logger.error("Database unavailable (%s) in %s", exception.__class__.__name__, view)
        if write_refused and request.method == "POST" and view.startswith("admin:"):
            messages.error(request, write_refused_text("Niet opgeslagen"))
            return HttpResponseRedirect(request.get_full_path())
        response = render(request, "503.html", status=503)
        response["Retry-After"] = "60"
        return response


class NulInRequest(SuspiciousOperation):
    """A NUL byte in the path or query string: no page of ours has one, and PostgreSQL refuses
    it in a text parameter (a 500 if it reached a query)."""


class UploadRefused(SuspiciousOperation):
    """A file was sent to a page that takes none."""


class RefuseFiles(FileUploadHandler):
    """Django's upload handlers would stream any file to memory or disk, whether or not a form
    wants it. This one refuses at the first file part, before reading its content."""

    def new_file(self, *args, **kwargs):
        raise UploadRefused("A file was sent to a view that takes no uploads.")

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None


def accepts_uploads(view):
    """Mark a view whose form takes a file; every other view refuses uploads."""
    view.accepts_uploads = True
    return view


# What the admin's row checkboxes carry: whole numbers, or a UUID (django-tasks' results).
PRIMARY_KEY = re.compile(r"\d+|[0-9a-fA-F-]{32,36}")


class RequestGuardMiddleware:
    """Refuse what no page of ours takes, before a view or a query sees it.

    A NUL byte in the path or query string is a 400. A view not marked @accepts_uploads
    answers a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE with 413 without reading it, and a
    400 at the first file in a multipart body (Django counts only a form's fields, not its
    files, against that limit). Ordinary multipart forms without files work as before.

    Must come before CsrfViewMiddleware, whose process_view reads the POST body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # In process_view, not __call__: the 400 then passes every middleware on its way out,
        # so it carries the same security headers (CSP) as any other page. A path that no
        # URL pattern takes is a 404 before this.
        if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            raise NulInRequest("NUL byte in the path or query string.")
        if getattr(view_func, "accepts_uploads", False):
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads an unreadable length as an empty body too
        if limit is not None and length > limit:
            return render(request, "413.html", status=413)
        request.upload_handlers = [RefuseFiles(request)]
        return None

    def process_exception(self, request, exception):
        """An admin action posted with rows that are no primary key at all (a forged or
        garbled form): Django's admin would let the database driver fail on them (a 500).
        Say so in Dutch on the list, and change nothing (the action never ran)."""
        if request.method != "POST" or not isinstance(exception, ValueError | ValidationError):
            return None
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not selected or all(PRIMARY_KEY.fullmatch(value) for value in selected):
            return None
        messages.error(
            request, "De selectie klopt niet. Kies de rijen opnieuw en probeer het nog eens."
        )
        return HttpResponseRedirect(request.get_full_path())


# What a view's @csp_update, @csp_replace, @csp_exempt (and their report-only forms) leave on a
# response: such a response gets its own policy, built by django-csp.
CSP_RESPONSE_ATTRIBUTES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
# Stands in for the nonce in the policy built once; the nonce itself is base64.
NONCE_MARK = "werkplaats-csp-nonce-mark"


@cache
def policy_from_settings():
    """CONTENT_SECURITY_POLICY as a header: (without a nonce, with NONCE_MARK for one)."""
    return build_policy(), build_policy(nonce=NONCE_MARK)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the policy built once per process.

    django-csp builds the same header from the settings twice for every response (the policy
    and the report-only one, with dataclass copies and a pass over every directive): ~45 us,
    a quarter of what the middleware stack costs the workshop page. The settings do not
    change while the process runs, so the header does not either, but for the nonce. A
    response with a per-view policy, a report-only policy or excluded prefixes goes the
    library's own way.
    """

    def process_response(self, request, response):
        special = (
            getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or settings.CONTENT_SECURITY_POLICY.get("EXCLUDE_URL_PREFIXES")
            or any(hasattr(response, name) for name in CSP_RESPONSE_ATTRIBUTES)
            or (settings.DEBUG and response.status_code in (404, 500))
        )
        if special:
            return super().process_response(request, response)
        if HEADER not in response:
            plain, with_mark = policy_from_settings()
            nonce = getattr(request, "_csp_nonce", None)
            response[HEADER] = with_mark.replace(NONCE_MARK, nonce) if nonce else plain
        if getattr(request, "_csp_nonce", None) is None:
            # As django-csp does: a nonce asked for once the header is written is an error.
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
