"""Each worker's own copy of the workshop pages, checked on every request against the page
versions (PageVersion.read: one Redis round trip with Redis, else one query), so a page is
never stale on any worker or app server, and costs neither a render nor the ORM.

Under one content version a worker keeps which edition the home page shows per day, the
editions it was asked for, and per edition its page in each state: open or closed and ended
or not (from the edition's dates and the clock, on every request, to the second), and full or
not (asked once per places version of the edition). A new content version starts the copy
afresh. Only the CSP nonce differs per request.
"""

import secrets

from django.http import Http404, HttpResponse

from .models import Edition, PageVersion, amsterdam_date

# Stands in for the per-request CSP nonce in a kept page; random per process, so no text
# staff type can predict it.
NONCE_PLACEHOLDER = f"csp-nonce-{secrets.token_hex(8)}"


class Copy:
    """What a worker keeps under one content version."""

    def __init__(self, content):
        self.content = content
        self.home = {}  # day -> pk of the edition the home page shows (None: none published)
        self.slugs = {}  # slug -> pk
        self.editions = {}  # pk -> Edition
        self.full = {}  # pk -> (places version, whether every place is taken)
        self.pages = {}  # (pk, is_open, has_ended, is_full) -> the page, split at the nonce


class Pages:
    def __init__(self):
        self.copy = Copy(None)

    def forget(self):
        self.copy = Copy(None)

    def home(self, request, now, render):
        return self._page(request, now, render, "home", amsterdam_date(now))

    def edition(self, request, slug, now, render):
        return self._page(request, now, render, "slugs", slug)

    def _page(self, request, now, render, table, key):
        """`table` names what `key` is in a Copy: the day of the home page, or a slug."""
        copy = self.copy
        # The versions first: whatever is read after them is at least as new.
        content, places = PageVersion.read(getattr(copy, table).get(key))
        if content is None or content != copy.content:
            copy = Copy(content)
            if content is not None:
                self.copy = copy
        known = getattr(copy, table)
        if key not in known:
            edition = Edition.objects.current(key) if table == "home" else _published(key)
            known[key] = edition and edition.pk
            if edition is None:
                raise Http404("Er is nog geen werkplaats gepubliceerd.")
            copy.editions[edition.pk] = edition
            places = PageVersion.places_of(edition)
        pk = known[key]
        if pk is None:
            raise Http404("Er is nog geen werkplaats gepubliceerd.")
        edition = copy.editions[pk]
        is_open = edition.registration_is_open(now)
        has_ended = edition.has_ended(now)
        # Whether every place is taken matters only while sign-up is open and there is a
        # maximum; only then does the page cost the count, once per places version.
        is_full = False
        if is_open and edition.capacity is not None:
            known_full = copy.full.get(pk)
            if places is None or known_full is None or known_full[0] != places:
                known_full = (places, edition.is_full())
                if places is not None:
                    copy.full[pk] = known_full
            is_full = known_full[1]
        state = (pk, is_open, has_ended, is_full)
        parts = copy.pages.get(state)
        if parts is None:
            html = render(edition, is_open, has_ended, is_full, NONCE_PLACEHOLDER)
            parts = html.encode().split(NONCE_PLACEHOLDER.encode())
            if content is not None:
                copy.pages[state] = parts
        return HttpResponse(str(request.csp_nonce).encode().join(parts))


def _published(slug):
    edition = Edition.objects.published().filter(slug=slug).first()
    if edition is None:
        raise Http404("Deze werkplaats bestaat niet.")
    return edition


pages = Pages()
