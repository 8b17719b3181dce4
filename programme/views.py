import json

from django.conf import settings
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache

from .ics import edition_calendar
from .models import Edition, PrivacyStatement
from .pages import pages


def home(request):
    """The current edition's page: the next one that has not ended, else the latest."""
    return pages.home(request, timezone.now(), _render_edition)


def edition_detail(request, slug):
    return pages.edition(request, slug, timezone.now(), _render_edition)


def _render_edition(edition, is_open, has_ended, is_full, csp_nonce):
    """The workshop page of `edition` in one state; each worker keeps it (programme/pages.py)
    and puts each request's nonce in place of `csp_nonce`."""
    context = {
        "edition": edition,
        "is_open": is_open,
        "has_ended": has_ended,
        "is_full": is_full,
        "json_ld": _event_json_ld(edition, _availability(is_open, is_full)),
        "canonical_url": f"{settings.SITE_URL}{edition.get_absolute_url()}",
        "og_image_url": f"{settings.SITE_URL}{static('og-image.png')}",
        "csp_nonce": csp_nonce,
    }
    return render_to_string("programme/edition_detail.html", context)


def _availability(is_open, is_full):
    """schema.org availability of a place: on sale, all taken, or sign-up closed."""
    if not is_open:
        return "https://schema.org/Discontinued"
    return "https://schema.org/SoldOut" if is_full else "https://schema.org/InStock"


def _event_json_ld(edition, availability):
    url = f"{settings.SITE_URL}{edition.get_absolute_url()}"
    address = {
        "@type": "PostalAddress",
        "streetAddress": edition.venue_address,
        "postalCode": edition.venue_postcode,
        "addressLocality": edition.venue_city,
        "addressCountry": "NL",
    }
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
            # Only what staff entered: an empty street or postcode is left out, not made up.
            "address": {name: value for name, value in address.items() if value},
        },
        "organizer": [
            {"@type": "Organization", "name": "Platform31", "url": "https://www.platform31.nl"},
            {"@type": "Organization", "name": "Van Vieren"},
        ],
        "offers": {
            "@type": "Offer",
            "price": str(edition.price_excl_vat),
            "priceCurrency": "EUR",
            "availability": availability,
            # The price is per person excluding VAT, as the page says.
            "priceSpecification": {
                "@type": "UnitPriceSpecification",
                "price": str(edition.price_excl_vat),
                "priceCurrency": "EUR",
                "valueAddedTaxIncluded": False,
            },
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
    return render(request, "programme/privacy.html", {"statement": PrivacyStatement.load()})


def favicon(request):
    """Browsers and feed readers ask for /favicon.ico whatever the page links: send them to
    the site's own SVG mark."""
    return redirect(static("favicon.svg"), permanent=True)


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
