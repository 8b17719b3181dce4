"""Valid HTML (the Nu HTML Checker) and a light workshop page, as Chromium receives them."""

import datetime
import io
from urllib.parse import urlsplit

from django.core.management import call_command

from programme.models import Edition
from tests.browser_support import PAGE_STATES, browser_test, nu_check, result_dir

pytestmark = browser_test

PAGE_WEIGHT_LIMIT = 60 * 1024


def test_every_public_page_state_is_valid_html(request, open_page, settings):
    folder = result_dir(request.node)
    paths = []
    for state, reach in PAGE_STATES.items():
        # A fresh context per state: the rate limit, the session and the data start clean.
        response = reach(open_page(), settings)
        path = folder / f"{state}.html"
        path.write_text(response.text(), encoding="utf-8")
        paths.append(path)

    errors = nu_check(paths)

    assert errors == [], "\n".join(errors)


def test_workshop_page_loads_only_from_the_site_and_weighs_under_60_kb(page, site_url):
    # The published 2022 text, moved a year ahead and open: the page at its real length.
    call_command("load_seed", stdout=io.StringIO())
    seed = Edition.objects.get(slug="werken-aan-wijkontwikkeling-2022")
    weeks = (datetime.date.today() - seed.start_date).days // 7 + 52
    edition = seed.duplicate(weeks=weeks)
    edition.is_published = True
    edition.save()
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))

    page.goto(edition.get_absolute_url(), wait_until="networkidle")

    hosts = {urlsplit(request.url).netloc for request in finished}
    assert hosts == {urlsplit(site_url).netloc}, [request.url for request in finished]
    sizes = {
        request.url: request.sizes()["responseBodySize"] + request.sizes()["responseHeadersSize"]
        for request in finished
    }
    total = sum(sizes.values())
    assert total < PAGE_WEIGHT_LIMIT, f"{total} bytes: {sizes}"
    stylesheets = [r for r in finished if r.resource_type == "stylesheet"]
    assert len(stylesheets) == 2
    for stylesheet in stylesheets:
        # WhiteNoise sends the precompressed file (Brotli or gzip) with a long cache life.
        headers = stylesheet.response().headers
        assert headers.get("content-encoding") in ("br", "gzip"), (stylesheet.url, headers)
        assert "immutable" in headers.get("cache-control", ""), (stylesheet.url, headers)
