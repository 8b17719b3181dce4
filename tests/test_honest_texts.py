"""Text that is not the organiser's is not ours to invent: terms only when staff entered them,
and a privacy statement staff keep, with the facts only they can give clearly marked."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from programme import seed
from programme.models import TO_BE_SUPPLIED, Edition, PrivacyStatement
from tests.conftest import make_edition, make_registration

INVENTED = ["kosteloos", "volledige bedrag", "vervanger uit je organisatie is altijd welkom"]


def test_the_2022_edition_as_published_has_no_terms(edition_2022):
    assert edition_2022.terms == ""


def test_the_demo_edition_carries_terms_marked_as_an_example(edition_2022, settings):
    settings.DEBUG = True
    call_command("load_demo_edition", stdout=io.StringIO())
    demo = Edition.objects.get(is_demo=True)
    assert demo.terms == seed.DEMO_TERMS
    assert demo.terms.startswith("VOORBEELD")


def test_personal_page_promises_nothing_staff_did_not_write(client, db):
    registration = make_registration(make_edition(terms=""))
    html = client.get(registration.get_absolute_url()).content.decode()
    assert not [phrase for phrase in INVENTED if phrase in html]
    assert "geen annuleringsvoorwaarden gepubliceerd" in html
    assert "Romy" in html


def test_personal_page_shows_the_terms_staff_entered(client, db):
    terms = "Annuleren na 1 oktober kost € 250,-."
    registration = make_registration(make_edition(terms=terms))
    html = client.get(registration.get_absolute_url()).content.decode()
    assert "Annuleren na 1 oktober kost € 250,-." in html
    assert "geen annuleringsvoorwaarden gepubliceerd" not in html


@pytest.mark.parametrize("terms", ["", "Annuleren na 1 oktober kost € 250,-."])
def test_no_public_page_or_mail_invents_cancellation_rules(client, db, mailoutbox, terms):
    edition = make_edition(terms=terms)
    registration = make_registration(edition)
    pages = [
        client.get(edition.get_absolute_url()),
        client.get(registration.get_absolute_url()),
        client.get(reverse("registrations:cancel", args=[registration.token])),
    ]
    client.post(reverse("registrations:cancel", args=[registration.token]))
    texts = [page.content.decode() for page in pages]
    texts += [message.body for message in mailoutbox]
    texts += [message.alternatives[0][0] for message in mailoutbox]
    assert not [phrase for text in texts for phrase in INVENTED if phrase in text]


def test_privacy_statement_has_every_part_the_law_asks(client, db):
    html = client.get(reverse("programme:privacy")).content.decode()
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", html)
    assert headings == [
        "Verwerkingsverantwoordelijke",
        "Doel",
        "Welke gegevens",
        "Je eigen casus",
        "Wie ze ziet",
        "Grondslag",
        "Bewaartermijn",
        "Je rechten",
        "Klacht",
        "Contact voor privacyvragen",
    ]
    assert "overeenkomst" in html and "geen toestemming" in html
    assert "Autoriteit Persoonsgegevens" in html
    # The contact address is Platform31's to give, and the page says it is missing.
    assert TO_BE_SUPPLIED in html


def test_staff_edit_the_privacy_statement_in_the_admin(client, staff_member):
    client.force_login(staff_member)
    assert client.get(reverse("admin:programme_privacystatement_changelist"))["Location"] == (
        reverse("admin:programme_privacystatement_add")
    )
    data = {
        name: getattr(PrivacyStatement(), name)
        for name in ["controller", "purpose", "data", "recipients", "legal_basis"]
        + ["retention", "rights", "complaint"]
    }
    data["contact"] = "privacy@platform31.example.nl"
    response = client.post(reverse("admin:programme_privacystatement_add"), data)
    assert response.status_code == 302
    statement = PrivacyStatement.objects.get()
    assert statement.missing_facts() == []
    html = client.get(reverse("programme:privacy")).content.decode()
    assert "privacy@platform31.example.nl" in html
    assert TO_BE_SUPPLIED not in html
    # One statement: no second one, none deleted.
    assert client.get(reverse("admin:programme_privacystatement_add")).status_code == 403


def test_shipped_privacy_statement_names_what_staff_must_still_supply(db):
    assert PrivacyStatement.load().missing_facts() == ["contact voor privacyvragen"]


def test_cancelled_page_says_which_conditions_apply(client, db):
    registration = make_registration(make_edition(terms="Annuleren kost € 100,-."))
    client.post(reverse("registrations:cancel", args=[registration.token]))
    html = client.get(registration.get_absolute_url()).content.decode()
    assert "Je inschrijving is geannuleerd" in html
    assert "Annuleren kost € 100,-." in html
    assert reverse("registrations:cancel", args=[registration.token]) not in html
