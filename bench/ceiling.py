"""Django's ceiling for bench/load.py: one view that returns a constant, with no middleware,
no database, no templates and no sessions, served by gunicorn with the site's own
gunicorn.conf.py (same workers, threads, access log). No page of the site can be faster on
this machine, so a page's share of this figure is what Django itself leaves to our code.

    gunicorn -c gunicorn.conf.py --pythonpath . bench.ceiling:application

/healthz is not a ceiling: it pays for the whole middleware stack and a database query.
"""

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-ceiling-not-a-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={},
    USE_I18N=False,
    USE_TZ=True,
)

from django.core.wsgi import get_wsgi_application  # noqa: E402 (after settings.configure)
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

BODY = b"Werkplaats: het plafond van Django op deze machine.\n"


def constant(request):
    return HttpResponse(BODY, content_type="text/plain; charset=utf-8")


urlpatterns = [path("", constant)]

application = get_wsgi_application()
