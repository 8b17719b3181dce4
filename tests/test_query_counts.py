"""Queries per page stay few and do not grow with the number of rows shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registrations.models import Registration
from tests.conftest import make_edition, make_registration, sign_up_data


def _queries(request):
    with CaptureQueriesContext(connection) as queries:
        response = request()
    assert response.status_code in (200, 302)
    return len(queries)


@pytest.fixture
def edition(db):
    return make_edition(capacity=30)


def test_workshop_page_queries_do_not_grow_with_its_programme(client, edition, edition_2022):
    # The 2022 edition has its full programme, sections and contacts; the other almost none.
    assert edition_2022.sessions.count() > 5 and edition.sessions.count() == 0
    # A worker's first request: the page versions, the edition (with its places version),
    # then its sections, contacts, days and sessions.
    full = _queries(lambda: client.get(edition_2022.get_absolute_url()))
    assert full == 6
    # The open edition with a maximum also counts its confirmed places (is every place
    # taken?); the ended 2022 edition, without a maximum, needs no count.
    assert full + 1 == _queries(lambda: client.get(edition.get_absolute_url()))


def test_a_kept_workshop_page_costs_one_query_without_redis(client, edition):
    url = edition.get_absolute_url()
    uncached = _queries(lambda: client.get(url))
    # Only the page versions: the worker's copy is still the page.
    assert _queries(lambda: client.get(url)) == 1 < uncached


def test_a_kept_workshop_page_costs_no_query_with_redis(client, edition, settings):
    # The versions in the shared cache (Redis in production; the local cache stands in here).
    settings.PAGE_VERSIONS_IN_CACHE = True
    url = edition.get_absolute_url()
    client.get(url)
    assert _queries(lambda: client.get(url)) == 0
    assert _queries(lambda: client.get(reverse("programme:home"))) <= 3
    assert _queries(lambda: client.get(reverse("programme:home"))) == 0


def test_home_page_queries(client, edition_2022, django_assert_max_num_queries):
    # The page versions, which edition is current (upcoming first, else the latest), then the
    # workshop page; once the worker keeps it, the versions alone.
    with django_assert_max_num_queries(7):
        assert client.get(reverse("programme:home")).status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get(reverse("programme:home")).status_code == 200


def test_sign_up_form_queries(client, edition, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = client.get(reverse("registrations:register", args=[edition.slug]))
    assert response.status_code == 200


def test_sign_up_post_queries(client, edition, django_assert_max_num_queries):
    # The rate limit's one upsert (and, for a client's first hit, the cleanup of ended
    # windows); edition, who is signed up already, lock, counts, the order and its
    # registration, then (mail sent in the request) the task reads them and stamps the
    # confirmation; plus the savepoints around them. The mail reads the practical contact
    # and (in each part) the issuer's payment term; the order's history gets its first entry
    # (one insert), and the mails share the participants the task read (one select less).
    # Without a KvK number (issue 23: a sign-up without one costs no more than a sign-up did
    # before the organisation register and the history: 20).
    with django_assert_max_num_queries(20):
        response = client.post(
            reverse("registrations:register", args=[edition.slug]), sign_up_data(kvk_number="")
        )
    assert response.status_code == 302
    assert Registration.objects.count() == 1


def test_sign_up_post_with_a_kvk_number_adds_one_lookup_of_the_register(
    client, edition, django_assert_max_num_queries
):
    # The organisation with that KvK number, by its unique index (Order.save).
    with django_assert_max_num_queries(21):
        response = client.post(
            reverse("registrations:register", args=[edition.slug]), sign_up_data()
        )
    assert response.status_code == 302
    assert Registration.objects.count() == 1


def test_sign_up_post_with_the_mail_queue_only_adds_one_insert(client, edition, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    url = reverse("registrations:register", args=[edition.slug])
    with CaptureQueriesContext(connection) as queries:
        assert client.post(url, sign_up_data(kvk_number="")).status_code == 302
    statements = [query["sql"].split()[0] for query in queries.captured_queries]
    writes = [sql for sql in statements if sql in ("INSERT", "UPDATE", "DELETE")]
    # The rate limit's hit (and its cleanup of ended windows on a client's first hit), the
    # order, its registration, the order's history entry, the edition's places version (its
    # row is locked already) and the queued mail; no session row, no confirmation stamp.
    assert writes == ["INSERT", "DELETE", "INSERT", "INSERT", "INSERT", "UPDATE", "INSERT"]
    assert "registrations_ratelimit" in queries.captured_queries[1]["sql"]
    history = [q["sql"] for q in queries.captured_queries if "history_orderlogentry" in q["sql"]]
    assert len(history) == 1 and history[0].startswith("INSERT")
    assert "django_tasks_database_dbtaskresult" in queries.captured_queries[-2]["sql"]
    # With places free: whether anyone waits (one indexed EXISTS), then the count.
    assert len(statements) <= 16


def test_sign_up_post_queries_do_not_grow_with_the_registrations(client, edition):
    url = reverse("registrations:register", args=[edition.slug])
    # Each from a client of its own, so both pay the rate limit's first-hit cleanup.
    first = _queries(
        lambda: client.post(url, sign_up_data(email="een@example.nl"), REMOTE_ADDR="10.0.0.1")
    )
    for _ in range(25):
        make_registration(edition)
    later = _queries(
        lambda: client.post(url, sign_up_data(email="twee@example.nl"), REMOTE_ADDR="10.0.0.2")
    )
    assert later == first


def test_confirmation_page_queries(client, edition, django_assert_max_num_queries):
    registration = make_registration(edition)
    # The registration with its edition, the contacts, the issuer's payment term, whether
    # attendance has a certificate; since the page asks for the case and offers the coach
    # conversation (issue 24): the edition's questions (and, before it has any, whether it
    # has its intake; after, the person's answers) and its coach slots; since it asks for a
    # registration number where the edition is accredited (issue 25): the edition's registers.
    with django_assert_max_num_queries(8):
        assert client.get(registration.get_absolute_url()).status_code == 200


def test_admin_registration_list_queries_do_not_grow_with_the_rows(
    client, edition, staff_member, django_assert_max_num_queries
):
    client.force_login(staff_member)
    url = reverse("admin:registrations_registration_changelist")
    make_registration(edition)
    few = _queries(lambda: client.get(url))
    for _ in range(40):
        make_registration(edition)
    with django_assert_max_num_queries(few):
        response = client.get(url)
    assert response.context["cl"].result_count == 41
    assert few <= 14


def test_admin_edition_list_queries_do_not_grow_with_the_rows(client, staff_member, edition):
    client.force_login(staff_member)
    url = reverse("admin:programme_edition_changelist")
    few = _queries(lambda: client.get(url))
    for _ in range(10):
        make_registration(make_edition())
    assert _queries(lambda: client.get(url)) == few


def test_a_sign_up_while_people_wait_counts_nobody(client, db, settings):
    # However long the waiting list, joining its end is decided by one indexed EXISTS under
    # the edition lock, not by counting the edition's registrations.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    edition = make_edition(capacity=1)
    for _ in range(3):
        make_registration(edition)
    url = reverse("registrations:register", args=[edition.slug])
    with CaptureQueriesContext(connection) as queries:
        assert client.post(url, sign_up_data(kvk_number="")).status_code == 302
    assert Registration.objects.get(email="fatima@gemeente.example.nl").status == "waiting"
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
