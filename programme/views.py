import json

from django.conf import settings
from django.db import connection
from django.db.utils import DatabaseError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .ics import edition_calendar
from .models import Edition


def home(request):
    edition = Edition.objects.current()
    if edition is None:
        raise Http404("Er is nog geen werkplaats gepubliceerd.")
    return _render_edition(request, edition)


def edition_detail(request, slug):
    edition = get_object_or_404(Edition.objects.published(), slug=slug)
    return _render_edition(request, edition)


def _render_edition(request, edition):
    """The workshop page. Its body is cached per edition state (see the template's
    {% cache %}): only the edition row is read per request, the sections, contacts and
    programme only when the cached fragment is missing or stale."""
    now = timezone.now()
    context = {
        "edition": edition,
        "is_open": edition.registration_is_open(now),
        "has_ended": edition.has_ended(now),
        "json_ld": _event_json_ld(edition),
        "canonical_url": f"{settings.SITE_URL}{edition.get_absolute_url()}",
    }
    return render(request, "programme/edition_detail.html", context)


def _event_json_ld(edition):
    url = f"{settings.SITE_URL}{edition.get_absolute_url()}"
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": edition.title,
        "startDate": edition.starts_at().isoformat(),
        "endDate": edition.ends_at().isoformat(),
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "eventStatus": "https://schema.org/EventScheduled",
        "location": {
            "@type": "Place",
            "name": edition.venue_name,
            "address": {
                "@type": "PostalAddress",
                "addressLocality": edition.venue_city,
                "addressCountry": "NL",
            },
        },
        "organizer": [
            {"@type": "Organization", "name": "Platform31", "url": "https://www.platform31.nl"},
            {"@type": "Organization", "name": "Van Vieren"},
        ],
        "offers": {
            "@type": "Offer",
            "price": str(edition.price_excl_vat),
            "priceCurrency": "EUR",
            "url": url,
            "validThrough": edition.registration_closes_at.isoformat(),
        },
        "description": edition.intro,
        "url": url,
    }
    # Escape the characters that could end the <script> element early, as json_script does.
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")


def edition_ics(request, slug):
    edition = get_object_or_404(Edition.objects.published(), slug=slug)
    response = HttpResponse(edition_calendar(edition), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="werkplaats-{edition.slug}.ics"'
    return response


def privacy(request):
    return render(request, "programme/privacy.html")


@never_cache
def healthz(request):
    """200 when the database answers a query, 503 otherwise. Says nothing more."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
