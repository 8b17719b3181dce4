"""Each worker's own copy of the empty sign-up form page, kept like the workshop page
(programme/pages.py) and checked on every request against the same page versions
(PageVersion.read: one Redis round trip with Redis, else one query), so it is never stale.

Under one content version a worker keeps the published editions it was asked for by slug,
and per edition and language the form page for the latest places version (the number of
places left is on the page). Whether sign-up is open is asked on every request, from the
edition's dates and the clock. Only the CSRF token and the submission key differ per visitor:
each is put in place of its placeholder.
"""

import secrets

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language

from programme.models import Edition, PageVersion

from .forms import new_submission_key

# Random per process, so that no text staff type can predict them.
CSRF_PLACEHOLDER = f"csrf-token-{secrets.token_hex(8)}"
KEY_PLACEHOLDER = f"submission-key-{secrets.token_hex(8)}"


class Copy:
    """What a worker keeps under one content version."""

    def __init__(self, content):
        self.content = content
        self.editions = {}  # slug -> published Edition
        self.pages = {}  # (pk, language) -> (places version, the page with placeholders)


class SignUpPages:
    def __init__(self):
        self.copy = Copy(None)

    def forget(self):
        self.copy = Copy(None)

    def edition(self, slug):
        """(copy, published edition or 404, its places version): the versions are read first,
        so whatever is read after them is at least as new."""
        copy = self.copy
        known = copy.editions.get(slug)
        content, places = PageVersion.read(known and known.pk)
        if content is None or content != copy.content:
            copy = Copy(content)
            if content is not None:
                self.copy = copy
        edition = copy.editions.get(slug)
        if edition is None:
            edition = get_object_or_404(Edition.objects.published(), slug=slug)
            places = PageVersion.places_of(edition)
            if content is not None:
                copy.editions[slug] = edition
        return copy, edition, places

    def empty_form(self, request, copy, edition, places, render):
        """The empty form page of `edition`: `render(edition, csrf_token, submission_key)`
        gives its HTML once per places version, with the placeholders in it."""
        slot = (edition.pk, get_language())
        kept = copy.pages.get(slot)
        if kept is None or places is None or kept[0] != places:
            kept = (places, render(edition, CSRF_PLACEHOLDER, KEY_PLACEHOLDER))
            if copy.content is not None and places is not None:
                copy.pages[slot] = kept
        html = kept[1].replace(CSRF_PLACEHOLDER, get_token(request))
        return HttpResponse(html.replace(KEY_PLACEHOLDER, new_submission_key()))


sign_up_pages = SignUpPages()
