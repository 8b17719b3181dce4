"""Attendance during the days: the list per day (PDF and CSV), the check-in page, no-shows."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from pypdf import PdfReader

from registrations.attendance.models import Attendance, edition_days
from tests.conftest import make_edition, make_registration, pdf_fonts, pdf_text
from werkplaats import formats


def checkin_url(edition):
    return reverse("admin:programme_edition_checkin", args=[edition.pk])


def list_url(edition, day, kind="pdf"):
    return reverse(f"admin:programme_edition_attendance_{kind}", args=[edition.pk, day.isoformat()])


@pytest.fixture
def people(ended_edition):
    """Three confirmed participants and one cancelled, created out of Dutch order."""
    return {
        "vries": make_registration(ended_edition, first_name="Sanne", last_name="de Vries"),
        "bakker": make_registration(
            ended_edition, first_name="Ömer", last_name="Bakker", organisation="=1+1"
        ),
        "berg": make_registration(
            ended_edition,
            first_name="Joost",
            last_name="van der Berg",
            organisation="Woningcorporatie Portaal",
        ),
        "gone": make_registration(
            ended_edition, first_name="Geannuleerd", last_name="Aap", status="cancelled"
        ),
    }


def test_attendance_list_pdf_has_the_confirmed_in_dutch_order_with_the_day(
    client, staff_member, ended_edition, people
):
    client.force_login(staff_member)
    day = ended_edition.start_date
    response = client.get(list_url(ended_edition, day))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    content = b"".join(response.streaming_content)
    text = pdf_text(content)
    assert "Presentielijst" in text
    assert formats.day(day, weekday=True) in text
    assert text.index("Ömer Bakker") < text.index("Joost van der Berg") < text.index("de Vries")
    assert "Woningcorporatie Portaal" in text and "Handtekening" in text
    assert "Geannuleerd" not in text
    assert "pagina 1 van 1" in text
    assert len(PdfReader(io.BytesIO(content)).pages) == 1
    assert pdf_fonts(content) and all(pdf_fonts(content).values())


def test_a_long_attendance_list_runs_over_pages_numbered_of_the_total(
    client, staff_member, ended_edition
):
    for n in range(30):
        make_registration(ended_edition, last_name=f"Deelnemer {n:02d}")
    client.force_login(staff_member)
    content = b"".join(
        client.get(list_url(ended_edition, ended_edition.end_date)).streaming_content
    )
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 2
    assert "pagina 1 van 2" in pdf_text(content)
    assert "pagina 2 van 2" in reader.pages[1].extract_text()


def test_attendance_list_renders_the_same_bytes_twice(ended_edition, people):
    from registrations.attendance import pdf

    day = ended_edition.start_date
    assert pdf.attendance_list(ended_edition, day) == pdf.attendance_list(ended_edition, day)


def test_attendance_list_csv_is_in_dutch_order_with_formulas_neutralised(
    client, staff_member, ended_edition, people
):
    client.force_login(staff_member)
    response = client.get(list_url(ended_edition, ended_edition.start_date, "csv"))
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "Nr;Naam;Organisatie;Handtekening",
        "1;Ömer Bakker;'=1+1;",
        "2;Joost van der Berg;Woningcorporatie Portaal;",
        "3;Sanne de Vries;Gemeente Utrecht;",
    ]


def test_a_day_outside_the_edition_is_not_found(client, staff_member, ended_edition):
    client.force_login(staff_member)
    before = ended_edition.start_date - datetime.timedelta(days=1)
    assert client.get(list_url(ended_edition, before)).status_code == 404
    bad = reverse("admin:programme_edition_attendance_pdf", args=[ended_edition.pk, "gisteren"])
    assert client.get(bad).status_code == 404


def test_checkin_page_saves_who_was_there_per_day(client, staff_member, ended_edition, people):
    first, second, third = edition_days(ended_edition)
    client.force_login(staff_member)
    page = client.get(checkin_url(ended_edition))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('type="checkbox"') == 9  # three participants, three days
    assert "<script" not in html.split('id="content"')[1]
    vries, bakker = people["vries"], people["bakker"]
    response = client.post(
        checkin_url(ended_edition),
        {"present": [f"{vries.pk}:{first}", f"{vries.pk}:{third}", f"{bakker.pk}:{second}"]},
    )
    assert response.status_code == 302
    present = set(Attendance.objects.present().values_list("registration_id", "date"))
    assert present == {(vries.pk, first), (vries.pk, third), (bakker.pk, second)}
    # Everyone confirmed is recorded for every day: absent where not ticked.
    assert Attendance.objects.count() == 9
    assert not Attendance.objects.filter(registration=people["gone"]).exists()
    again = client.get(checkin_url(ended_edition)).content.decode()
    assert again.count(" checked") == 3


def test_saving_the_checkin_page_twice_keeps_one_record_per_day(
    client, staff_member, ended_edition, people
):
    client.force_login(staff_member)
    data = {"present": [f"{people['berg'].pk}:{ended_edition.start_date}"]}
    client.post(checkin_url(ended_edition), data)
    client.post(checkin_url(ended_edition), data)
    assert Attendance.objects.count() == 9
    assert Attendance.objects.present().count() == 1


def test_unticking_records_absence(client, staff_member, ended_edition, people):
    client.force_login(staff_member)
    day = f"{people['berg'].pk}:{ended_edition.start_date}"
    client.post(checkin_url(ended_edition), {"present": [day]})
    client.post(checkin_url(ended_edition), {})
    assert not Attendance.objects.present().exists()


def test_days_still_to_come_cannot_be_ticked_yet(client, staff_member):
    today = datetime.date.today()
    edition = make_edition(
        start_date=today - datetime.timedelta(days=1),
        end_date=today + datetime.timedelta(days=1),
        registration_deadline=today - datetime.timedelta(days=10),
    )
    person = make_registration(edition)
    client.force_login(staff_member)
    html = client.get(checkin_url(edition)).content.decode()
    assert html.count(" disabled") == 1
    yesterday, _, tomorrow = edition_days(edition)
    client.post(
        checkin_url(edition), {"present": [f"{person.pk}:{yesterday}", f"{person.pk}:{tomorrow}"]}
    )
    recorded = dict(Attendance.objects.values_list("date", "present"))
    assert recorded == {yesterday: True, today: False}


def test_a_participant_of_another_edition_is_refused_and_nothing_is_saved(
    client, staff_member, ended_edition, people
):
    stranger = make_registration(make_edition())
    client.force_login(staff_member)
    day = ended_edition.start_date
    with pytest.raises(ValidationError):
        Attendance.objects.record(
            ended_edition, [day], {(people["vries"].pk, day), (stranger.pk, day)}
        )
    assert not Attendance.objects.exists()


def test_a_day_outside_the_edition_cannot_be_recorded(ended_edition, people):
    before = ended_edition.start_date - datetime.timedelta(days=1)
    with pytest.raises(ValidationError):
        Attendance.objects.record(ended_edition, [before], set())
    attendance = Attendance(registration=people["vries"], date=before)
    with pytest.raises(ValidationError):
        attendance.full_clean()


def test_no_show_is_absent_on_every_day(client, staff_member, ended_edition, people):
    vries = people["vries"]
    client.force_login(staff_member)
    client.post(checkin_url(ended_edition), {"present": [f"{vries.pk}:{ended_edition.end_date}"]})
    response = client.post(checkin_url(ended_edition), {"no_show": str(vries.pk)}, follow=True)
    recorded = Attendance.objects.filter(registration=vries)
    assert recorded.count() == 3 and not recorded.filter(present=True).exists()
    assert "niet verschenen" in response.content.decode()


def test_no_show_action_on_the_registration_list(client, staff_member, ended_edition, people):
    client.force_login(staff_member)
    url = reverse("admin:registrations_registration_changelist")
    data = {"action": "mark_no_show", "_selected_action": [people["berg"].pk, people["gone"].pk]}
    response = client.post(url, data, follow=True)
    berg = Attendance.objects.filter(registration=people["berg"])
    assert berg.count() == 3 and not berg.filter(present=True).exists()
    assert not Attendance.objects.filter(registration=people["gone"]).exists()
    assert "geen bevestigde deelnemer" in response.content.decode()


@pytest.mark.parametrize("persona", ["finance_user", "outsider"])
def test_only_staff_may_change_attendance(client, request, persona, ended_edition, people):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(checkin_url(ended_edition)).status_code == 403
    day = f"{people['vries'].pk}:{ended_edition.start_date}"
    assert client.post(checkin_url(ended_edition), {"present": [day]}).status_code == 403
    assert not Attendance.objects.exists()


def test_finance_may_read_the_attendance_list_but_outsiders_may_not(
    client, finance_user, outsider, ended_edition, people
):
    client.force_login(finance_user)
    assert client.get(list_url(ended_edition, ended_edition.start_date, "csv")).status_code == 200
    client.force_login(outsider)
    assert client.get(list_url(ended_edition, ended_edition.start_date, "csv")).status_code == 403
    assert client.get(list_url(ended_edition, ended_edition.start_date)).status_code == 403


def test_checkin_page_needs_a_login(client, ended_edition):
    response = client.get(checkin_url(ended_edition))
    assert response.status_code == 302 and "login" in response["Location"]


def test_edition_page_links_to_checkin_lists_and_badges(client, staff_member, ended_edition):
    client.force_login(staff_member)
    url = reverse("admin:programme_edition_change", args=[ended_edition.pk])
    html = client.get(url).content.decode()
    assert checkin_url(ended_edition) in html
    for day in edition_days(ended_edition):
        assert list_url(ended_edition, day) in html
        assert list_url(ended_edition, day, "csv") in html
    assert reverse("admin:programme_edition_badges", args=[ended_edition.pk]) in html
