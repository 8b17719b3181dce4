"""Name badges: eight per A4 sheet, long names and diacritics inside their own badge."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from registrations.attendance import pdf
from tests.conftest import admin_action, make_registration, pdf_fonts, pdf_text, pdf_text_pieces

MM = 72 / 25.4
LONG_NAME = "Maximiliaan Alexander Christoffel van Oldenbarneveldt-Zweers"
DIACRITICS = "Ænne-Çlara Øster-Üğur"
REGISTRATIONS = reverse("admin:registrations_registration_changelist")


def badge_of(x, y):
    """(column, row) of the badge at a point of an A4 sheet: 2 x 4 badges of 90 x 55 mm,
    15 mm from the sides and 38.5 mm from the top; None outside every badge."""
    top = 297 * MM - 38.5 * MM
    column, row = int((x - 15 * MM) // (90 * MM)), int((top - y) // (55 * MM))
    if 0 <= column < 2 and 0 <= row < 4 and x >= 15 * MM and y <= top:
        return column, row
    return None


def test_long_names_and_diacritics_fit_on_one_badge_each(ended_edition):
    assert len(LONG_NAME) == 60
    long = make_registration(
        ended_edition, first_name=LONG_NAME.split(" ", 1)[0], last_name=LONG_NAME.split(" ", 1)[1]
    )
    accented = make_registration(
        ended_edition, first_name="Ænne-Çlara", last_name="Øster-Üğur", organisation="Gemeente Ås"
    )
    content = pdf.badges([long, accented], ended_edition)
    text = pdf_text(content)
    assert LONG_NAME in text.replace("- ", "-") or all(w in text for w in LONG_NAME.split())
    assert DIACRITICS in text
    assert "Gemeente Ås" in text
    pieces = pdf_text_pieces(content)
    for name in (LONG_NAME, DIACRITICS):
        words = name.split()
        where = {badge_of(x, y) for _, x, y, piece in pieces if any(w in piece for w in words)}
        assert len(where) == 1 and None not in where, (name, where)
    assert pdf.name_size(LONG_NAME) < pdf.name_size("Fatima El Amrani")
    assert pdf.name_size("Fatima El Amrani") == pdf.NAME_LARGEST_PT


def test_a_badge_holds_name_organisation_title_and_dates(ended_edition):
    person = make_registration(ended_edition, first_name="Sanne", last_name="de Vries")
    content = pdf.badges([person], ended_edition)
    text = pdf_text(content)
    assert "Sanne de Vries" in text and "Gemeente Utrecht" in text
    assert "Werken aan wijkontwikkeling" in text
    from werkplaats import formats

    assert formats.period(ended_edition.start_date, ended_edition.end_date) in text
    assert pdf_fonts(content) and all(pdf_fonts(content).values())


def test_eight_badges_per_sheet(ended_edition):
    people = [make_registration(ended_edition, last_name=f"Deelnemer {n}") for n in range(9)]
    content = pdf.badges(people, ended_edition)
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 2
    assert reader.pages[0].extract_text().count("Deelnemer") == 8
    assert reader.pages[1].extract_text().count("Deelnemer") == 1
    assert pdf.badges(people, ended_edition) == content  # reproducible


def test_badge_action_prints_only_the_selected_confirmed(client, staff_member, ended_edition):
    chosen = make_registration(ended_edition, first_name="Gekozen", last_name="Een")
    other = make_registration(ended_edition, first_name="Niet", last_name="Gekozen")
    waiting = make_registration(
        ended_edition, first_name="Wacht", last_name="Nog", status="waiting"
    )
    client.force_login(staff_member)
    response = admin_action(client, REGISTRATIONS, "name_badges", [chosen, waiting])
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(b"".join(response.streaming_content))
    assert "Gekozen Een" in text
    assert other.full_name not in text and "Wacht Nog" not in text


def test_badges_of_an_edition_hold_all_its_confirmed(client, staff_member, ended_edition):
    make_registration(ended_edition, first_name="Sanne", last_name="de Vries")
    make_registration(ended_edition, first_name="Ömer", last_name="Bakker")
    make_registration(ended_edition, first_name="Weg", last_name="Weg", status="cancelled")
    client.force_login(staff_member)
    response = client.get(reverse("admin:programme_edition_badges", args=[ended_edition.pk]))
    assert response.status_code == 200
    text = pdf_text(b"".join(response.streaming_content))
    assert text.index("Ömer Bakker") < text.index("Sanne de Vries")
    assert "Weg Weg" not in text
    editions = reverse("admin:programme_edition_changelist")
    response = admin_action(client, editions, "name_badges", [ended_edition])
    assert "Ömer Bakker" in pdf_text(b"".join(response.streaming_content))


@pytest.mark.parametrize("persona", ["finance_user", "outsider"])
def test_only_staff_print_badges(client, request, persona, ended_edition):
    person = make_registration(ended_edition)
    client.force_login(request.getfixturevalue(persona))
    assert (
        client.get(reverse("admin:programme_edition_badges", args=[ended_edition.pk])).status_code
        == 403
    )
    response = admin_action(client, REGISTRATIONS, "name_badges", [person])
    assert response.get("Content-Type") != "application/pdf"
