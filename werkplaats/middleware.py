import logging

from django.db import InterfaceError, OperationalError
from django.shortcuts import render

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Answer a friendly 503 page when the database cannot be reached, instead of a 500.

    OperationalError covers a refused or dropped connection and a database that stopped;
    InterfaceError a connection that was closed under us. Other database errors are bugs
    and stay 500s. Nothing is kept between requests, so the site works again as soon as
    the database does: Django opens a new connection for the next request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        # Class and view names only: a driver's message can quote the query and its
        # parameters, and a path can hold a participant's token.
        view = getattr(request.resolver_match, "view_name", "")
        logger.error("Database unavailable (%s) in %s", exception.__class__.__name__, view)
        response = render(request, "503.html", status=503)
        response["Retry-After"] = "60"
        return response
