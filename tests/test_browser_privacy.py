"""A person's rights in Chromium: a staff member finds a person, downloads their inzage file
and erases them; axe-core (WCAG 2.1 AA) finds nothing on the search page, its results, the
erasure's confirmation and refusal, and on the inzage file itself."""

import io
import zipfile

from django.urls import reverse

from registrations.invoicing.issuing import issue_invoice
from registrations.models import Registration
from tests.browser_support import axe_check, axe_report, browser_test, result_dir, rules_run
from tests.conftest import (
    PASSWORD,
    make_edition,
    make_ended_edition,
    make_issuer,
    make_registration,
)

pytestmark = browser_test

FATIMA = "fatima@gemeente.example.nl"


def _no_violations(page, name, request):
    page.screenshot(path=result_dir(request.node) / f"{name}.png", full_page=True)
    results = axe_check(page)
    assert len(rules_run(results)) > 50, "axe ran hardly any rules: did it load?"
    assert results.violations_count == 0, f"{name}:\n{axe_report(results)}"


def test_find_download_and_erase_a_person_have_no_axe_violations(
    open_page, request, staff_member, invoices_removed_afterwards
):
    make_issuer()
    own = make_registration(
        make_ended_edition(), first_name="Fatima", last_name="El Amrani", email=FATIMA
    )
    issue_invoice(own)
    coming = make_registration(make_edition(), first_name="Fatima", email="fatima@thuis.example.nl")
    page = open_page()
    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(staff_member.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()

    page.goto(reverse("admin:registrations_registration_changelist"))
    page.get_by_role("link", name="Inzage en wissen").click()
    _no_violations(page, "find-empty", request)
    page.get_by_label("E-mailadres").fill(FATIMA)
    page.get_by_role("button", name="Zoeken").click()
    assert own.reference in page.content()
    _no_violations(page, "find-results", request)

    with page.expect_download() as download:
        page.get_by_role("button", name="Inzagebestand downloaden (zip)").click()
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    html = archive.read(next(n for n in archive.namelist() if n.endswith(".html"))).decode()
    file_page = open_page()
    file_page.set_content(html)
    assert file_page.get_by_role("heading", name="Je inschrijvingen").is_visible()
    _no_violations(file_page, "inzage-file", request)

    page.get_by_role("link", name="Deze persoon wissen…").click()
    _no_violations(page, "erase-confirm", request)
    page.get_by_label("Reden").fill("Verzoek per e-mail")
    page.get_by_role("button", name="Definitief wissen").click()
    assert "Gewist: 1 inschrijving(en)" in page.content()
    _no_violations(page, "erased", request)
    assert Registration.objects.get(pk=own.pk).anonymised_at is not None

    page.goto(f"{reverse('admin:registrations_registration_privacy_erase')}?email={coming.email}")
    assert "kan nog niet gewist worden" in page.content()
    _no_violations(page, "erase-refused", request)
