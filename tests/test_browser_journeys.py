"""The journeys people make, in Chromium against a live server: sign up, miss the deadline,
and the staff member who moves someone up from the waiting list."""

import datetime

from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from programme.models import Edition, amsterdam_date
from registrations.models import Order, Registration
from tests.browser_support import browser_test, fits_width, focused, tab_to
from tests.conftest import PASSWORD, make_edition, make_registration, sign_up_data
from tests.test_orders import COLLEAGUES
from werkplaats import formats

pytestmark = browser_test


def today():
    # The site's calendar day (Amsterdam), which the deadline and the payment date use.
    return amsterdam_date(timezone.now())


PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}


def type_into(page, field_id, text):
    tab_to(page, f"#{field_id}")
    page.keyboard.type(text)


def test_participant_signs_up_on_a_phone_using_only_the_keyboard(open_page):
    edition = make_edition(capacity=20)
    page = open_page(**PHONE)

    page.goto(edition.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(edition.title)
    expect(page.get_by_text("Open tot en met")).to_be_visible()
    # The first of the two buttons: the one in the first screen.
    page.get_by_role("link", name="Inschrijven voor de werkplaats").first.click()
    expect(page.get_by_role("heading", name="Inschrijven", exact=True)).to_be_visible()

    page.get_by_role("button", name="Inschrijving versturen").click()
    summary = page.locator(".form-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Voornaam: Dit veld is verplicht.")).to_be_visible()
    expect(page.locator("#id_first_name")).to_have_attribute("aria-invalid", "true")
    # Each field's error is its accessible description, so a screen reader reads it there.
    expect(page.locator("#id_first_name")).to_have_accessible_description("Dit veld is verplicht.")
    assert page.locator(".invalid-feedback:visible").count() >= 9
    assert Registration.objects.count() == 0

    data = sign_up_data()
    for name in ("first_name", "last_name", "email", "phone", "organisation", "job_title"):
        type_into(page, f"id_{name}", data[name])
    # Closed selects answer to the arrow keys: one down from "Maak een keuze".
    tab_to(page, "#id_sector")
    page.keyboard.press("ArrowDown")
    tab_to(page, "#id_role")
    page.keyboard.press("ArrowDown")
    type_into(page, "id_own_case", data["own_case"])
    type_into(page, "id_dietary_needs", data["dietary_needs"])
    # The radio group starts on "ja"; an arrow key moves the choice to "nee".
    tab_to(page, "input[name=overnight_stay]:checked")
    page.keyboard.press("ArrowDown")
    type_into(page, "id_invoice_street", data["invoice_street"])
    type_into(page, "id_invoice_postcode", data["invoice_postcode"])
    type_into(page, "id_invoice_city", data["invoice_city"])
    type_into(page, "id_po_number", data["po_number"])
    type_into(page, "id_kvk_number", data["kvk_number"])
    tab_to(page, "#id_accept_terms")
    page.keyboard.press("Space")
    tab_to(page, "[type=submit]")
    assert focused(page).startswith("input#submit-id-submit") or "button" in focused(page)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Je bent ingeschreven")
    registration = Registration.objects.get()
    assert page.url.endswith(registration.get_absolute_url())
    assert registration.status == Registration.Status.CONFIRMED
    assert (registration.first_name, registration.email) == ("Fatima", data["email"])
    assert (registration.sector, registration.role) == ("gemeente", "leider")
    assert registration.overnight_stay is False
    assert registration.order.invoice_postcode == "3521 AZ"
    assert registration.order.invoice_organisation == "Gemeente Utrecht"
    assert registration.order.invoice_attention == ""
    confirmation = [m for m in mail.outbox if m.to == [data["email"]]]
    assert len(confirmation) == 1
    assert confirmation[0].subject.startswith("Bevestiging van je inschrijving")
    assert registration.get_absolute_url() in confirmation[0].body


def test_three_colleagues_are_signed_up_in_one_go_on_a_phone_with_the_keyboard(open_page):
    edition = make_edition(capacity=20)
    page = open_page(**PHONE)
    page.goto(reverse("registrations:register", args=[edition.slug]))
    data = sign_up_data()
    for name in ("first_name", "last_name", "email", "phone", "organisation"):
        type_into(page, f"id_{name}", data[name])
    for shown in (1, 2):
        tab_to(page, "button[name=add_colleague]")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.get_by_role("group", name=f"Collega {shown}")).to_be_visible()
    # What was typed stays; nothing is stored yet.
    expect(page.locator("#id_first_name")).to_have_value("Fatima")
    assert not Registration.objects.exists()
    for number, (first, last, email) in enumerate(COLLEAGUES):
        type_into(page, f"id_collega-{number}-first_name", first)
        type_into(page, f"id_collega-{number}-last_name", last)
        type_into(page, f"id_collega-{number}-email", email)
    for name in ("invoice_street", "invoice_postcode", "invoice_city", "po_number", "kvk_number"):
        type_into(page, f"id_{name}", data[name])
    tab_to(page, "#id_accept_terms")
    page.keyboard.press("Space")
    tab_to(page, "button[name=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Je inschrijving is ontvangen")
    order = Order.objects.get()
    people = list(order.positions.order_by("pk"))
    assert [p.first_name for p in people] == ["Fatima", "Pieter", "Sanne"]
    assert {p.status for p in people} == {Registration.Status.CONFIRMED}
    assert page.url.endswith(order.get_absolute_url())
    for person in people:
        expect(page.get_by_role("listitem").filter(has_text=person.full_name)).to_be_visible()
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients.count("fatima@gemeente.example.nl") == 2  # confirmation and overview
    assert "pieter@gemeente.example.nl" in recipients and "sanne@gemeente.example.nl" in recipients
    assert fits_width(page)


def test_form_opened_before_the_deadline_and_sent_after_it_is_refused(open_page):
    day = today()
    edition = make_edition(registration_deadline=day)
    page = open_page()
    page.goto(f"/werkplaats/{edition.slug}/inschrijven/")
    expect(page.get_by_role("button", name="Inschrijving versturen")).to_be_visible()
    data = sign_up_data()
    for name in ("first_name", "last_name", "email", "phone", "organisation", "job_title"):
        page.locator(f"#id_{name}").fill(data[name])
    page.locator("#id_sector").select_option(data["sector"])
    page.locator("#id_role").select_option(data["role"])
    for name in ("invoice_street", "invoice_postcode", "invoice_city", "kvk_number"):
        page.locator(f"#id_{name}").fill(data[name])
    page.locator("#id_accept_terms").check()

    # While the participant is filling in, the deadline passes: the server checks on POST.
    Edition.objects.filter(pk=edition.pk).update(
        registration_deadline=day - datetime.timedelta(days=1)
    )
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Inschrijving versturen").click()

    assert navigation.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("De inschrijving is gesloten")
    expect(page.get_by_role("status")).to_contain_text("Er is niets opgeslagen")
    assert Registration.objects.count() == 0
    assert mail.outbox == []

    page.goto(edition.get_absolute_url())
    expect(page.get_by_role("status")).to_contain_text("De inschrijving is gesloten.")
    expect(page.get_by_text("Gesloten sinds", exact=False)).to_be_visible()
    expect(page.get_by_role("link", name="Inschrijven voor de werkplaats")).to_have_count(0)

    response = page.goto(f"/werkplaats/{edition.slug}/inschrijven/")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("De inschrijving is gesloten")
    expect(page.locator("form#inschrijfformulier")).to_have_count(0)
    expect(page.get_by_role("link", name="+31 6 57 94 37 32")).to_be_visible()


def test_staff_member_finds_a_registration_and_confirms_it_from_the_waiting_list(
    page, staff_member
):
    edition = make_edition(capacity=2)
    make_registration(edition, first_name="Bram", last_name="de Vries")
    waiting = make_registration(
        edition,
        first_name="Sanne",
        last_name="Jansen",
        email="sanne@wijkteam.example.nl",
        status=Registration.Status.WAITING,
    )
    make_registration(
        edition, first_name="Joost", last_name="Jansen", status=Registration.Status.WAITING
    )

    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(staff_member.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.get_by_role("link", name="Inschrijvingen", exact=True).click()

    page.locator("#searchbar").fill("sanne@wijkteam")
    page.locator("#searchbar").press("Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Sanne Jansen")
    expect(rows.first).to_contain_text("wachtlijst")

    rows.first.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(
        label="Bevestigen vanaf de wachtlijst (wie vooraan staat)"
    )
    page.get_by_role("button", name="Uitvoeren").click()

    # First what it will mail, to whom; nothing is sent yet.
    expect(page.locator("#mail-count")).to_have_text(
        "Het bericht 'er is een plaats vrij' gaat naar 1 persoon"
    )
    expect(page.locator(".mail-recipients")).to_contain_text("sanne@wijkteam.example.nl")
    expect(page.locator(".mail-subject")).to_contain_text("Er is een plaats voor je")
    assert mail.outbox == []
    page.get_by_role("button", name="Bevestigen vanaf de wachtlijst").click()

    expect(page.locator(".messagelist")).to_contain_text(
        f"Bevestigd (1): {waiting.reference} bevestigd vanaf de wachtlijst"
    )
    expect(page.locator(".messagelist")).to_contain_text(
        "Bericht 'er is een plaats vrij': 1 verstuurd."
    )
    expect(page.locator("#result_list tbody tr").first).to_contain_text("bevestigd")
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.CONFIRMED
    assert Registration.objects.waiting().get().first_name == "Joost"
    assert [m.to for m in mail.outbox] == [["sanne@wijkteam.example.nl"]]


def log_in(page, user):
    page.goto("/beheer/")
    page.get_by_label("Gebruikersnaam").fill(user.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()


def run_admin_action(page, action_label, *row_texts):
    """Tick the changelist rows that contain `row_texts` and run the action named `action_label`."""
    for text in row_texts:
        page.locator("#result_list tbody tr", has_text=text).locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label=action_label)
    page.get_by_role("button", name="Uitvoeren").click()


def test_finance_issues_downloads_marks_paid_and_credits_invoices(
    page, finance_user, settings, tmp_path, invoices_removed_afterwards
):
    from registrations.invoicing.models import Invoice
    from tests.conftest import make_issuer, pdf_text

    settings.MEDIA_ROOT = tmp_path / "media"
    make_issuer()
    edition = make_edition()
    make_registration(
        edition,
        organisation="Gemeente Zwolle",
        invoice_organisation="Gemeente Zwolle",
        po_number="ZW-4411",
    )
    make_registration(
        edition,
        organisation="Woonstichting De Kern",
        invoice_organisation="Woonstichting De Kern",
        po_number="DK-17",
    )

    log_in(page, finance_user)
    page.get_by_role("link", name="Inschrijvingen", exact=True).click()
    run_admin_action(
        page,
        "Factuur aanmaken: één per bestelling, een regel per deelnemer",
        "Gemeente Zwolle",
        "Woonstichting De Kern",
    )
    expect(page.locator(".messagelist")).to_contain_text("Aangemaakt (2)")
    zwolle = Invoice.objects.get(customer_organisation="Gemeente Zwolle")
    kern = Invoice.objects.get(customer_organisation="Woonstichting De Kern")

    page.goto("/beheer/")
    page.get_by_role("link", name="Facturen", exact=True).click()
    link = page.get_by_role("link", name=zwolle.filename)
    # Chromium shows an inline PDF in its viewer and downloads nothing: say so plainly
    # rather than time out waiting for the download.
    disposition = page.request.get(link.get_attribute("href")).headers["content-disposition"]
    assert disposition.startswith("attachment"), f"PDF opens inline: {disposition!r}"
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == zwolle.filename
    content = tmp_path / "download.pdf"
    download.save_as(content)
    pdf = content.read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert zwolle.number in text and "ZW-4411" in text

    run_admin_action(page, "Markeer als betaald…", zwolle.number)
    expect(page.get_by_label("Betaald op")).to_have_value(today().isoformat())
    page.get_by_role("button", name="Facturen als betaald markeren").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Betaald (1): {zwolle.number} betaald op {formats.day(today())}"
    )
    zwolle.refresh_from_db()
    assert zwolle.paid_on == today()

    run_admin_action(page, "Creditfactuur maken…", kern.number)
    page.get_by_role("button", name="Creditfactuur maken").click()
    expect(page.locator(".messagelist")).to_contain_text("Gecrediteerd (1)")
    credit = Invoice.objects.get(credited_invoice=kern)
    expect(page.locator(".messagelist")).to_contain_text(
        f"{kern.number} gecrediteerd met {credit.number}"
    )
    assert credit.total_incl_vat == -kern.total_incl_vat
    assert credit.pdf_sha256
    assert Invoice.objects.count() == 3
    expect(page.locator("#result_list tbody tr", has_text=kern.number).first).to_contain_text(
        "gecrediteerd"
    )


def test_finance_zips_many_invoices_and_the_job_page_follows_the_worker(
    page, finance_user, settings, tmp_path, monkeypatch, invoices_removed_afterwards
):
    import io
    import zipfile

    from django.core.management import call_command

    from registrations.invoicing import jobs
    from registrations.invoicing.issuing import issue_invoice
    from tests.conftest import make_issuer

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    monkeypatch.setattr(jobs, "INLINE_LIMIT", 2)  # three invoices make a job
    make_issuer()
    edition = make_edition()
    invoices = [issue_invoice(make_registration(edition)) for _ in range(3)]
    refused = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and refused.append(message.text),
    )

    log_in(page, finance_user)
    page.get_by_role("link", name="Facturen", exact=True).click()
    run_admin_action(
        page,
        "Download geselecteerde pdf's en e-facturen (ZIP)",
        *(invoice.number for invoice in invoices),
    )

    expect(page.locator(".messagelist")).to_contain_text(
        "ZIP van pdf's en e-facturen voor 3 facturen loopt op de achtergrond"
    )
    expect(page.locator(".fieldBox.field-status")).to_contain_text("in de wachtrij")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, stdout=io.StringIO())
    # No click: the page reloads itself (a meta refresh, no script) until the job is done.
    expect(page.locator(".fieldBox.field-status")).to_contain_text("klaar", timeout=15_000)
    expect(page.locator(".field-progress")).to_contain_text("3 van 3 verwerkt")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="facturen.zip").click()
    download = download_info.value
    assert download.suggested_filename == "facturen.zip"
    saved = tmp_path / "facturen.zip"
    download.save_as(saved)
    names = zipfile.ZipFile(saved).namelist()
    assert names == [f"factuur-{i.number}.{ext}" for i in invoices for ext in ("pdf", "xml")]
    assert refused == []  # nothing the content security policy had to block
