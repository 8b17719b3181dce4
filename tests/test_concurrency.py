"""Parallel sign-ups on PostgreSQL: the row lock on the edition never overbooks or loses one."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from registrations.models import Registration
from tests.conftest import make_edition, post_in_parallel, sign_up_data

SIGN_UPS = 100
CAPACITY = 30
# PostgreSQL allows 100 connections by default, shared with the rest of the machine: at most
# this many of the 100 sign-ups hold a connection at the same moment.
AT_ONCE = 40


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_100_parallel_sign_ups_for_30_places_confirm_exactly_30(postgres, settings):
    settings.REGISTRATION_RATE_LIMIT = 10_000  # all from one address; not the rate limit's test
    edition = make_edition(capacity=CAPACITY)
    url = reverse("registrations:register", args=[edition.slug])
    results = post_in_parallel(
        url,
        lambda number: sign_up_data(email=f"deelnemer{number}@gemeente.example.nl"),
        SIGN_UPS,
        at_once=AT_ONCE,
    )

    assert Counter(results) == {302: SIGN_UPS}
    statuses = Counter(
        Registration.objects.filter(edition=edition).values_list("status", flat=True)
    )
    assert statuses == {"confirmed": CAPACITY, "waiting": SIGN_UPS - CAPACITY}
    emails = set(Registration.objects.values_list("email", flat=True))
    assert emails == {f"deelnemer{n}@gemeente.example.nl" for n in range(SIGN_UPS)}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_double_submits_store_one_registration(postgres, settings):
    settings.REGISTRATION_RATE_LIMIT = 10_000
    edition = make_edition(capacity=CAPACITY)
    url = reverse("registrations:register", args=[edition.slug])
    start = threading.Barrier(10)
    results = []

    def submit():
        start.wait()
        try:
            results.append(Client().post(url, sign_up_data()).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert Registration.objects.count() == 1
    # One is stored; the others see the e-mail address taken and get the form back.
    assert sorted(results) == [200] * 9 + [302]
