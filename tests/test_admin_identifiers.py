"""Every admin URL that takes an identifier answers 404 for a value that cannot be one: no
chain of redirects, and never a Location that carries a decoded `../`."""

import re
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.urls import URLResolver, reverse

HOSTILE = ["..%2F..%2F..%2Fetc%2Fpasswd", "*", "%25", "%00", "9" * 300, "a" * 3000]
PARAMETER = re.compile(r"<(?:[^>:]+:)?[^>]+>")
# Django's own pages of a model (change, history, delete) send an unknown object to the
# index with a message; that is theirs, not ours. Ours are what the apps add in get_urls.
DJANGOS_OWN = ("<path:object_id>/", "<str:object_id>/")


def routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def custom_routes_with_identifiers():
    site_routes = {str(url.pattern) for url in admin.AdminSite().get_urls()}
    found = []
    for model, model_admin in admin.site._registry.items():
        base = f"{model._meta.app_label}/{model._meta.model_name}/"
        for route, _ in routes(model_admin.get_urls()):
            if PARAMETER.search(route) and not route.startswith(DJANGOS_OWN):
                found.append(base + route)
    for route, _ in routes(admin.site.get_urls()):
        if PARAMETER.search(route) and route not in site_routes and "/" not in route[:-1]:
            found.append(route)
    return found


def hostile_urls(route):
    """The route with the hostile value in each parameter in turn and 1 in the others."""
    parameters = PARAMETER.findall(route)
    for index in range(len(parameters)):
        for value in HOSTILE:
            pieces = PARAMETER.split(route)
            values = [value if i == index else "1" for i in range(len(parameters))]
            yield "/beheer/" + "".join(p + v for p, v in zip(pieces, [*values, ""], strict=True))


def test_the_custom_admin_urls_with_identifiers_are_all_found():
    routes_found = custom_routes_with_identifiers()
    assert "invoicing/invoice/<invoice_number:number>/pdf/" in routes_found
    assert "registrations/registration/<int:object_id>/corrigeren/" in routes_found
    assert "invoicing/bulkjob/<int:object_id>/download/" in routes_found
    assert len(routes_found) >= 20


@pytest.mark.django_db
def test_every_custom_admin_url_answers_404_for_an_identifier_that_cannot_be_one(
    client, admin_user, open_edition
):
    client.force_login(admin_user)
    for route in custom_routes_with_identifiers():
        for url in hostile_urls(route):
            response = client.get(url)
            if response.status_code == 405:  # a page that only takes a form
                response = client.post(url)
            # A NUL byte is refused before any view by the request guard (400).
            expected = {404, 400} if "%00" in url else {404}
            assert response.status_code in expected, (url, response.status_code)
            assert "../" not in response.get("Location", ""), url


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/beheer/invoicing/invoice/..%2F..%2F..%2Fetc%2Fpasswd/pdf/",
        "/beheer/invoicing/invoice/*/pdf/",
        "/beheer/invoicing/invoice/%25/pdf/",
        "/beheer/invoicing/invoice/..%2F..%2F..%2Fetc%2Fpasswd/xml/",
        "/beheer/registrations/registration/..%2F..%2Fetc%2Fpasswd/corrigeren/",
        "/beheer/invoicing/bulkjob/*/download/",
    ],
)
def test_a_hostile_invoice_document_url_is_a_404_not_a_redirect(client, admin_user, url):
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code == 404
    assert "Location" not in response


@pytest.mark.django_db
def test_the_old_change_url_of_a_row_still_redirects_to_its_change_page(client, admin_user):
    client.force_login(admin_user)
    response = client.get(f"/beheer/auth/user/{quote(str(admin_user.pk))}/")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:auth_user_change", args=[admin_user.pk])
