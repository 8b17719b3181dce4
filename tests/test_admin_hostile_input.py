"""The back office answers garbled or forged requests with a Dutch message or a 4xx, never a
5xx, and changes nothing: odd list parameters, and actions posted with rows that are no row."""

import pytest
from django.urls import reverse

from registrations.invoicing.issuing import issue_invoice
from registrations.invoicing.models import Invoice
from registrations.models import Registration
from tests.conftest import make_registration

LISTS = [
    "admin:registrations_registration_changelist",
    "admin:invoicing_invoice_changelist",
    "admin:programme_edition_changelist",
]
PARAMETERS = [
    "?o=999",
    "?o=abc",
    "?edition__id__exact=abc",
    "?created_at__year=abc",
    "?status=xx",
    "?facturatie=zz",
    "?jaar=abcd",
    "?q=%F0%9F%98%80",
    "?p=99999",
    "?registration__edition__id__exact=x",
]
ACTIONS = [
    "issue_invoices",
    "cancel_registrations",
    "reinstate_registrations",
    "confirm_from_waiting_list",
    "resend_confirmation",
    "export_participants",
    "mark_paid",
    "mark_refunded",
    "create_credit_notes",
    "email_invoices",
    "restore_documents",
    "download_zip",
    "duplicate_editions",
]


@pytest.fixture
def rows(open_edition, invoicing):
    registration = make_registration(open_edition)
    return registration, issue_invoice(registration)


def state():
    return (
        list(Registration.objects.order_by("pk").values("pk", "status", "cancelled_at")),
        list(Invoice.objects.order_by("pk").values("pk", "paid_on", "emailed_at")),
    )


@pytest.mark.parametrize("url_name", LISTS)
@pytest.mark.parametrize("persona", ["staff_member", "finance_user"])
def test_odd_list_parameters_never_give_a_server_error(client, rows, request, persona, url_name):
    client.force_login(request.getfixturevalue(persona))
    for parameters in PARAMETERS:
        response = client.get(reverse(url_name) + parameters)
        assert response.status_code < 500, parameters


@pytest.mark.parametrize("url_name", LISTS)
@pytest.mark.parametrize("persona", ["staff_member", "finance_user"])
def test_actions_on_rows_that_are_no_rows_change_nothing(
    client, rows, request, persona, url_name, mailoutbox
):
    client.force_login(request.getfixturevalue(persona))
    before = state()
    for action in ACTIONS:
        for selected in (["abc"], ["1 OR 1=1"], ["99999"], []):
            response = client.post(
                reverse(url_name),
                {"action": action, "_selected_action": selected, "apply": "1", "paid_on": "x"},
            )
            assert response.status_code < 500, (action, selected)
    assert state() == before
    assert not mailoutbox


def test_a_forged_selection_is_explained_in_dutch(client, rows, finance_user):
    client.force_login(finance_user)
    url = reverse("admin:invoicing_invoice_changelist")
    response = client.post(
        url, {"action": "mark_paid", "_selected_action": ["abc"], "apply": "1"}, follow=True
    )
    assert response.status_code == 200
    assert "De selectie klopt niet" in response.content.decode()
