"""Who may open what: every admin page and action by persona, and participants' token pages.

Anonymous visitors are sent to the login page, staff without the right group get a 403,
and a participant's page is found only by its long random token (404 otherwise).
"""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.models import Group, User
from django.urls import get_resolver, reverse

from programme.models import Edition
from registrations.models import Registration
from tests.conftest import PASSWORD, form_data, make_issuer, make_registration
from werkplaats.admin_site import SECRET_PAGES

STANDARD = {"changelist", "add", "history", "delete", "change"}


def _fill(route, obj):
    """Admin routes carry the object as <path:object_id>; others by a field (<path:number>)."""

    def value(match):
        if obj is None:
            return "999999"
        return quote(str(getattr(obj, match.group(1), obj.pk)))

    return re.sub(r"<(?:\w+:)?(\w+)>", value, route)


def _admin_pages():
    """(url name, address, model, kind) for every page of every registered model admin."""
    pages = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        obj = model._default_manager.order_by("pk").first()
        prefix = reverse("admin:index")
        for pattern in model_admin.get_urls():
            if pattern.name in SECRET_PAGES:  # not served (werkplaats/admin_site.py)
                continue
            name = pattern.name or ""
            kind = name.removeprefix(f"{opts.app_label}_{opts.model_name}_") if name else ""
            route = str(pattern.pattern)
            url = f"{prefix}{opts.app_label}/{opts.model_name}/{_fill(route, obj)}"
            pages.append((name or route, url, model, kind))
    return pages


def _needs(kind):
    """The permissions of which any one opens a standard admin page."""
    return {
        "changelist": ("view", "change"),
        "change": ("view", "change"),
        "history": ("view", "change"),
        "add": ("add",),
        "delete": ("delete",),
    }.get(kind)


@pytest.fixture
def admin_data(edition_2022, staff_member, finance_user, outsider):
    registration = make_registration(edition_2022)
    return {"edition": edition_2022, "registration": registration}


@pytest.fixture
def with_invoice(admin_data, settings, tmp_path):
    """An issued invoice, so the invoice pages (and its PDF) are checked on a real object."""
    try:
        from registrations.invoicing.issuing import issue_invoice

    except ImportError:
        return None  # no invoice code in this tree
    make_issuer()
    return issue_invoice(make_registration(admin_data["edition"], email="factuur@example.nl"))


def test_every_admin_page_sends_anonymous_visitors_to_the_login(client, with_invoice):
    login = reverse("admin:login")
    pages = _admin_pages()
    assert len(pages) >= 20
    for name, url, _model, _kind in pages:
        response = client.get(url)
        assert response.status_code == 302, (name, url, response.status_code)
        assert response["Location"].startswith(f"{login}?next="), (name, url)
    for url in [
        reverse("admin:index"),
        reverse("admin:app_list", args=["registrations"]),
        reverse("admin:password_change"),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(f"{login}?next=")


def test_staff_without_a_group_get_403_on_every_model_page(client, with_invoice, outsider):
    client.force_login(outsider)
    for name, url, _model, kind in _admin_pages():
        if kind == "" and url.endswith("/"):
            # <object_id>/ only redirects to <object_id>/change/, which is checked itself.
            continue
        response = client.get(url, follow=True)
        if "999999" in url and response.status_code != 403:
            # A missing object: a 404, or the admin says "does not exist" on its index.
            assert response.status_code == 404 or (
                response.redirect_chain[-1][0] == reverse("admin:index")
            ), (name, url)
            continue
        # A redirect (a one-row model's list to its only object) must end in a 403 too.
        assert response.status_code == 403, (name, url, response.redirect_chain)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:app_list", args=["registrations"])).status_code == 404


@pytest.mark.parametrize("persona", ["staff_member", "finance_user"])
def test_group_members_open_exactly_the_pages_their_group_allows(
    client, with_invoice, persona, request
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    checked = 0
    for name, url, model, kind in _admin_pages():
        needs = _needs(kind)
        if needs is None:
            continue
        opts = model._meta
        allowed = any(user.has_perm(f"{opts.app_label}.{p}_{opts.model_name}") for p in needs)
        exists = model._default_manager.exists() or kind in ("changelist", "add")
        response = client.get(url, follow=True)
        if not exists:
            # No such object: the admin redirects to its index, or refuses before it looks.
            assert response.status_code in (200, 403, 404), (persona, name)
            assert response.status_code != 200 or response.redirect_chain, (persona, name)
        elif allowed:
            # A model admin may narrow its group's rights further (a one-row model has no
            # "add" once the row exists), but it never errs.
            assert response.status_code in (200, 403), (persona, name, response.status_code)
        else:
            assert response.status_code == 403, (persona, name, response.redirect_chain)
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize(
    "persona, url_name, status",
    [
        ("staff_member", "admin:programme_edition_add", 200),
        ("staff_member", "admin:registrations_registration_add", 200),
        ("staff_member", "admin:registrations_registration_changelist", 200),
        ("finance_user", "admin:registrations_registration_changelist", 200),
        ("finance_user", "admin:programme_edition_changelist", 200),
        ("finance_user", "admin:registrations_registration_add", 403),
        ("finance_user", "admin:programme_edition_add", 403),
        ("staff_member", "admin:auth_user_changelist", 403),
        ("finance_user", "admin:auth_user_changelist", 403),
        ("staff_member", "admin:auth_group_changelist", 403),
    ],
)
def test_each_group_gets_its_own_pages(client, admin_data, persona, url_name, status, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse(url_name)).status_code == status


def test_group_permissions_are_what_the_back_office_needs(admin_data, staff_member, finance_user):
    assert staff_member.has_perm("programme.change_edition")
    assert staff_member.has_perm("registrations.change_registration")
    assert not staff_member.has_perm("auth.change_user")
    assert not staff_member.has_perm("auth.view_group")
    assert finance_user.has_perm("registrations.view_registration")
    assert finance_user.has_perm("programme.view_edition")
    assert not finance_user.has_perm("registrations.change_registration")
    assert not finance_user.has_perm("registrations.delete_registration")
    assert not finance_user.has_perm("programme.change_edition")
    assert not finance_user.has_perm("auth.view_user")


def test_finance_cannot_change_the_participant_or_status_of_a_registration(
    client, admin_data, finance_user
):
    registration = admin_data["registration"]
    client.force_login(finance_user)
    url = reverse("admin:registrations_registration_change", args=[registration.pk])
    # Finance may save the form (invoice details, agreed price); these fields are not in it.
    data = form_data(client.get(url), "registration_form", first_name="Gewijzigd")
    response = client.post(url, {**data, "status": "cancelled"})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.first_name == "Fatima"
    assert registration.status == Registration.Status.CONFIRMED


def test_staff_without_a_group_cannot_post_to_the_admin(client, admin_data, outsider):
    edition = admin_data["edition"]
    client.force_login(outsider)
    url = reverse("admin:programme_edition_change", args=[edition.pk])
    assert client.post(url, {"title": "Overgenomen"}).status_code == 403
    assert client.post(reverse("admin:auth_group_add"), {"name": "Eigen groep"}).status_code == 403
    edition.refresh_from_db()
    assert edition.title != "Overgenomen"
    assert not Group.objects.filter(name="Eigen groep").exists()


def _action(client, changelist, action, objects):
    return client.post(
        reverse(changelist),
        # "post" confirms Django's delete page, "apply" our pages that show a mail first.
        {
            "action": action,
            "_selected_action": [o.pk for o in objects],
            "post": "yes",
            "apply": "1",
        },
    )


@pytest.mark.parametrize(
    "action", ["cancel_registrations", "confirm_from_waiting_list", "delete_selected"]
)
def test_finance_cannot_run_actions_that_change_registrations(
    client, admin_data, finance_user, action
):
    waiting = make_registration(admin_data["edition"], status=Registration.Status.WAITING)
    confirmed = admin_data["registration"]
    client.force_login(finance_user)
    response = _action(
        client, "admin:registrations_registration_changelist", action, [waiting, confirmed]
    )
    assert response.status_code in (302, 403)
    assert Registration.objects.count() == 2
    confirmed.refresh_from_db()
    waiting.refresh_from_db()
    assert (confirmed.status, waiting.status) == ("confirmed", "waiting")


def test_finance_cannot_resend_confirmations(client, admin_data, finance_user, mailoutbox):
    client.force_login(finance_user)
    _action(
        client,
        "admin:registrations_registration_changelist",
        "resend_confirmation",
        [admin_data["registration"]],
    )
    assert mailoutbox == []


def test_finance_may_export_the_participant_list(client, admin_data, finance_user):
    client.force_login(finance_user)
    response = _action(
        client,
        "admin:registrations_registration_changelist",
        "export_participants",
        [admin_data["registration"]],
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert admin_data["registration"].reference in response.content.decode("utf-8-sig")


def test_staff_member_may_cancel_registrations(client, admin_data, staff_member):
    registration = admin_data["registration"]
    client.force_login(staff_member)
    response = _action(
        client,
        "admin:registrations_registration_changelist",
        "cancel_registrations",
        [registration],
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.is_cancelled


@pytest.mark.parametrize("action", ["duplicate_editions", "delete_selected"])
def test_finance_cannot_duplicate_or_delete_editions(client, admin_data, finance_user, action):
    client.force_login(finance_user)
    before = list(Edition.objects.values_list("pk", "slug"))
    _action(client, "admin:programme_edition_changelist", action, [admin_data["edition"]])
    assert list(Edition.objects.values_list("pk", "slug")) == before


def test_staff_member_may_duplicate_an_edition(client, admin_data, staff_member):
    client.force_login(staff_member)
    _action(
        client, "admin:programme_edition_changelist", "duplicate_editions", [admin_data["edition"]]
    )
    assert Edition.objects.count() == 2
    assert not Edition.objects.exclude(pk=admin_data["edition"].pk).get().is_published


def test_outsider_cannot_run_any_admin_action(client, admin_data, outsider):
    client.force_login(outsider)
    registration = admin_data["registration"]
    for changelist, action, objects in [
        ("admin:registrations_registration_changelist", "cancel_registrations", [registration]),
        ("admin:registrations_registration_changelist", "export_participants", [registration]),
        ("admin:registrations_registration_changelist", "delete_selected", [registration]),
        ("admin:programme_edition_changelist", "duplicate_editions", [admin_data["edition"]]),
    ]:
        assert _action(client, changelist, action, objects).status_code == 403
    registration.refresh_from_db()
    assert not registration.is_cancelled
    assert Edition.objects.count() == 1


def test_staff_accounts_cannot_be_managed_by_group_members(client, admin_data, staff_member):
    client.force_login(staff_member)
    response = client.post(
        reverse("admin:auth_user_change", args=[staff_member.pk]),
        {"username": "anna", "is_superuser": "on", "is_staff": "on"},
    )
    assert response.status_code == 403
    staff_member.refresh_from_db()
    assert not staff_member.is_superuser
    assert User.objects.filter(is_superuser=True).count() == 0


def test_participant_page_opens_only_with_its_own_token(client, open_edition):
    mine = make_registration(open_edition, first_name="Fatima")
    other = make_registration(open_edition, first_name="Pieter")
    page = client.get(mine.get_absolute_url()).content.decode()
    assert "Fatima" in page
    assert "Pieter" not in page
    assert other.token not in page


@pytest.mark.parametrize(
    "token", ["{pk}", "{pk:05d}", "INS-{pk:05d}", "x" * 43, "..%2F..%2Fbeheer"]
)
@pytest.mark.parametrize("view", ["registrations:detail", "registrations:cancel"])
def test_unknown_or_guessed_tokens_find_nothing(client, open_edition, token, view):
    registration = make_registration(open_edition)
    # Built by hand: reverse() itself refuses a token that is not URL-safe.
    url = reverse(view, args=["TOKEN"]).replace("TOKEN", token.format(pk=registration.pk))
    response = client.get(url)
    assert response.status_code == 404
    assert "Fatima" not in response.content.decode()


def test_a_token_must_match_exactly(client, open_edition):
    registration = make_registration(open_edition)
    token = registration.token
    for guess in [token[:-1], token + "A", token.swapcase(), token[:20]]:
        if guess == token:
            continue
        assert client.get(reverse("registrations:detail", args=[guess])).status_code == 404
        response = client.post(reverse("registrations:cancel", args=[guess]))
        assert response.status_code == 404
    registration.refresh_from_db()
    assert not registration.is_cancelled


def _routes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            yield from _routes(pattern.url_patterns, route)
        else:
            yield route


def test_public_urls_never_take_a_sequential_id():
    admin_prefix = reverse("admin:index").lstrip("/")
    public = [r for r in _routes(get_resolver().url_patterns) if not r.startswith(admin_prefix)]
    assert "inschrijving/<str:token>/" in public or "inschrijving/<slug:token>/" in public
    for route in public:
        assert "<int:" not in route and "pk>" not in route and "id>" not in route, route


def test_a_logged_in_user_is_read_again_on_every_request(client, staff_member):
    # The logged-in user comes from the database on every request (werkplaats.backends),
    # so an account switched off, even with a queryset update in the shell, is out at once.
    client.force_login(staff_member)
    index = reverse("admin:index")
    assert client.get(index).status_code == 200
    User.objects.filter(pk=staff_member.pk).update(first_name="Anna-Lena")
    assert "Anna-Lena" in client.get(index).content.decode()
    User.objects.filter(pk=staff_member.pk).update(is_active=False)
    response = client.get(index)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_a_login_stores_the_plain_query_backend_and_older_sessions_stay_logged_in(
    client, staff_member
):
    index = reverse("admin:index")
    assert client.login(username="anna", password=PASSWORD)
    assert client.session[BACKEND_SESSION_KEY] == "werkplaats.backends.UserBackend"
    assert client.get(index).status_code == 200
    # A session from before UserBackend names Django's ModelBackend: still logged in.
    client.logout()
    client.force_login(staff_member, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(index).status_code == 200


def test_a_new_password_ends_the_other_sessions_at_once(client, staff_member):
    client.force_login(staff_member)
    index = reverse("admin:index")
    assert client.get(index).status_code == 200
    staff_member.set_password("een-heel-ander-wachtwoord-42")
    staff_member.save()
    assert client.get(index).status_code == 302
