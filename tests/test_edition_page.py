"""The public page of an edition: every fact and text of the organiser's 2022 page, and which
edition `/` shows."""

import datetime
import json
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from programme import seed
from programme.models import Edition
from tests.conftest import make_edition, make_registration


class _PageReader(HTMLParser):
    """Collects the visible text, the headings, the meta tags and the JSON-LD of a page."""

    def __init__(self):
        super().__init__()
        self.text = []
        self.headings = []
        self.meta = {}
        self.json_ld = []
        self._stack = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and attrs.get("property"):
            self.meta[attrs["property"]] = attrs.get("content", "")
        if tag in ("h1", "h2", "h3") or tag in ("script", "style", "title"):
            self._stack.append([tag, attrs, []])

    def handle_endtag(self, tag):
        if self._stack and self._stack[-1][0] == tag:
            name, attrs, data = self._stack.pop()
            content = "".join(data)
            if name == "script" and attrs.get("type") == "application/ld+json":
                self.json_ld.append(content)
            elif name in ("h1", "h2", "h3"):
                self.headings.append((name, " ".join(content.split())))
                self.text.append(content)

    def handle_data(self, data):
        if self._stack:
            self._stack[-1][2].append(data)
            if self._stack[-1][0] in ("script", "style", "title"):
                return
            if self._stack[-1][0] in ("h1", "h2", "h3"):
                return
        self.text.append(data)


def read_page(response):
    reader = _PageReader()
    reader.feed(response.content.decode())
    reader.page_text = " ".join(" ".join(reader.text).split())
    return reader


@pytest.fixture
def home_2022(client, edition_2022):
    response = client.get("/")
    assert response.status_code == 200
    return response


# Sentences copied from the organiser's published page (shared/seed/...-2022.txt), one or more
# per text section, so the test does not merely compare the seed module with itself.
PUBLISHED_SENTENCES = {
    None: [
        "Dat zijn helaas al jarenlang grotendeels dezelfde wijken.",
        "Samen met onderzoeks- en adviesbureau Van Vieren organiseert Platform31 een driedaagse "
        "voor mensen die de kloof willen dichten",
    ],
    "Waar je wieg staat, doet ertoe": [
        "lage levensverwachting (tot 10 jaar minder dan in betere wijken)",
        "Hoe kunnen burgers zelf meer aan het roer komen te staan?",
    ],
    "Voor wie?": [
        "Voor deze bijzondere driedaagse bijeenkomst brengen we mensen bijeen die:",
        "werken bij de gemeente, een welzijnsinstelling, onderwijs of zorgverlening, sociaal en "
        "gemeenschapswerk, een impactondernemer of een maatschappelijk initiatief, een "
        "woningcorporatie of de politie;",
    ],
    "Wat biedt de werkplaats?": [
        "Het vertrekpunt is leading from the emerging future.",
        "met inleidingen en begeleiding die je op scherp zet, op de proef stelt en perspectief "
        "biedt.",
    ],
    "Je werkt aan vragen als:": [
        "Wat is het krachtenveld waarbinnen ik opereer?",
        "Hoe kan ik dat omzetten in praktisch handelen om verschil te maken?",
    ],
    "Als je vertrekt na de driedaagse:": [
        "heb je inspiratie, lol en plezier gehad;",
        "heb je nieuwe concrete handvatten voor je eigen werkpraktijk.",
    ],
    "We vragen van jou:": [
        "je dilemma’s, twijfels en kwetsbaarheid op tafel te durven leggen;",
        "vooral mee te doen en te (co)produceren. Niemand blijft aan de kant staan!",
    ],
    "Hoe werken wij?": [
        "In het driedaagse programma is achteroverleunen geen optie. Denk eerder aan een bootcamp.",
        "Theorie over nieuw publiek werken & wijkontwikkeling.",
        "Methodiek: we gebruiken principes van theory U, viral change en design thinking.",
    ],
    "Wie zijn wij?": [
        "Net als jij werken wij bij V4N en Platform31 aan publieke opgaven in kwetsbare wijken.",
        "Recent ontwikkelden we met ‘Vruchtbare bodem, Wijkontwikkeling van de grond af aan’ "
        "een aanpak voor de komende periode.",
        "het praktijkboek ‘Slagkracht in de wijk’ samengesteld.",
    ],
}


def test_home_shows_the_2022_dates_hours_and_venue(home_2022):
    text = read_page(home_2022).page_text
    assert "maandag 21 t/m woensdag 23 november 2022" in text
    assert "9:30 uur - 17:00 uur" in text
    assert "Kaap Doorn Conferentiecentrum, Doorn" in text


def test_home_shows_price_excl_vat_with_what_it_includes(home_2022):
    text = read_page(home_2022).page_text
    assert "€ 1.800,- per persoon, exclusief btw, inclusief arrangement- en verblijfskosten" in text


def test_home_shows_the_deadline_and_that_registration_is_closed(home_2022):
    text = read_page(home_2022).page_text
    assert "Inschrijven Gesloten" in text
    assert "Open tot en met" not in text


def test_home_lists_three_contacts_with_tel_links(home_2022):
    html = home_2022.content.decode()
    text = read_page(home_2022).page_text
    for name, topic, phone, tel in [
        ("Cisca", "inhoudelijke vragen", "+31 6 21 56 11 75", "tel:+31621561175"),
        ("Imke", "inhoudelijke vragen", "+31 6 22 31 40 34", "tel:+31622314034"),
        ("Romy", "praktische vragen", "+31 6 57 94 37 32", "tel:+31657943732"),
    ]:
        assert f"Voor {topic}: {name} {phone}" in text
        assert f'<a href="{tel}">{phone}</a>' in html


def test_home_names_both_organisers(home_2022):
    text = read_page(home_2022).page_text
    assert "Organisatie Platform31 en Van Vieren" in text


def test_home_has_all_eight_sections_in_the_published_order(home_2022):
    page = read_page(home_2022)
    h2s = [text for level, text in page.headings if level == "h2"]
    expected = [
        "Waar je wieg staat, doet ertoe",
        "Voor wie?",
        "Wat biedt de werkplaats?",
        "Je werkt aan vragen als:",
        "Als je vertrekt na de driedaagse:",
        "We vragen van jou:",
        "Hoe werken wij?",
        "Wie zijn wij?",
    ]
    assert [h for h in h2s if h in expected] == expected


def test_home_shows_the_published_sentences_of_every_section(home_2022):
    text = read_page(home_2022).page_text
    for heading, sentences in PUBLISHED_SENTENCES.items():
        for sentence in sentences:
            assert sentence in text, (heading, sentence)


def test_home_shows_every_line_of_the_seeded_text(home_2022):
    text = read_page(home_2022).page_text
    assert " ".join(seed.EDITION_2022["intro"].split()) in text
    for heading, body in seed.SECTIONS_2022:
        for line in body.splitlines():
            line = line.removeprefix("- ").strip()
            if line:
                assert line in text, (heading, line)


def test_home_lists_the_programme_components_without_invented_times(home_2022):
    page = read_page(home_2022)
    assert ("h2", "Programma") in page.headings
    for title in [
        "Inspiratie uit de praktijk",
        "Theorie",
        "Methodiek",
        "Casuïstiek",
        "Reflectie en introspectie",
        "Persoonlijk gesprek met een coach",
    ]:
        assert title in page.page_text
    assert "dagelijks van 9:30 tot 17:00 uur" in page.page_text
    # The organiser published no timetable: no day headings with session times.
    assert not re.search(r"\d{1,2}:\d{2}–\d{1,2}:\d{2}", page.page_text)


def test_sessions_with_a_day_and_time_appear_under_that_day(client, edition_2022):
    day = edition_2022.days.get(date=datetime.date(2022, 11, 22))
    edition_2022.sessions.create(
        day=day,
        start_time=datetime.time(10, 0),
        end_time=datetime.time(11, 15),
        kind="theorie",
        title="Nieuw publiek werken",
    )
    page = read_page(client.get("/"))
    assert ("h3", "dinsdag 22 november") in page.headings
    assert "10:00–11:15 theorie Nieuw publiek werken" in page.page_text


def test_page_has_exactly_one_h1(home_2022):
    page = read_page(home_2022)
    assert [level for level, _ in page.headings].count("h1") == 1
    assert ("h1", "Werkplaats ‘Werken aan wijkontwikkeling’") in page.headings


def test_json_ld_is_a_schema_org_event(home_2022):
    page = read_page(home_2022)
    assert len(page.json_ld) == 1
    data = json.loads(page.json_ld[0])
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Event"
    assert data["name"] == "Werkplaats ‘Werken aan wijkontwikkeling’"
    assert datetime.datetime.fromisoformat(data["startDate"]) == datetime.datetime(
        2022, 11, 21, 8, 30, tzinfo=datetime.UTC
    )
    assert datetime.datetime.fromisoformat(data["endDate"]) == datetime.datetime(
        2022, 11, 23, 16, 0, tzinfo=datetime.UTC
    )
    assert data["location"]["name"] == "Kaap Doorn Conferentiecentrum"
    assert data["location"]["address"]["addressLocality"] == "Doorn"
    assert data["offers"]["price"] == "1800.00"
    assert data["offers"]["priceCurrency"] == "EUR"
    assert {org["name"] for org in data["organizer"]} == {"Platform31", "Van Vieren"}
    assert data["url"].endswith("/werkplaats/werken-aan-wijkontwikkeling-2022/")


def test_open_graph_tags_describe_the_edition(home_2022):
    meta = read_page(home_2022).meta
    assert meta["og:title"] == "Werkplaats ‘Werken aan wijkontwikkeling’"
    assert meta["og:type"] == "website"
    assert meta["og:locale"] == "nl_NL"
    assert meta["og:url"].endswith("/werkplaats/werken-aan-wijkontwikkeling-2022/")
    assert meta["og:description"].startswith("In Nederland kennen we een aantal wijken")


def test_past_edition_says_it_took_place_and_offers_no_sign_up(home_2022, edition_2022):
    html = home_2022.content.decode()
    assert "Deze werkplaats heeft plaatsgevonden" in html
    assert reverse("registrations:register", args=[edition_2022.slug]) not in html


def test_home_shows_the_next_edition_that_has_not_ended(client, edition_2022):
    later = make_edition(title="Werkplaats later", slug="later")
    make_edition(
        title="Werkplaats nog later",
        slug="nog-later",
        start_date=later.start_date + datetime.timedelta(days=60),
        end_date=later.start_date + datetime.timedelta(days=62),
    )
    page = read_page(client.get("/"))
    assert ("h1", "Werkplaats later") in page.headings
    assert "Deze werkplaats heeft plaatsgevonden" not in page.page_text


def test_home_prefers_a_running_edition_over_a_later_one(client, db):
    today = datetime.date.today()
    make_edition(
        title="Werkplaats van deze week",
        slug="nu",
        start_date=today - datetime.timedelta(days=1),
        end_date=today + datetime.timedelta(days=1),
        registration_deadline=today - datetime.timedelta(days=30),
    )
    make_edition(title="Werkplaats volgend jaar", slug="volgend-jaar")
    page = read_page(client.get("/"))
    assert ("h1", "Werkplaats van deze week") in page.headings


def test_home_skips_unpublished_editions(client, edition_2022):
    make_edition(title="Concept", slug="concept", is_published=False)
    page = read_page(client.get("/"))
    assert ("h1", edition_2022.title) in page.headings
    assert "Concept" not in page.page_text


def test_home_shows_the_latest_past_edition_when_none_is_upcoming(client, edition_2022):
    make_edition(
        title="Werkplaats 2019",
        slug="2019",
        start_date=datetime.date(2019, 11, 18),
        end_date=datetime.date(2019, 11, 20),
        registration_deadline=datetime.date(2019, 9, 13),
    )
    page = read_page(client.get("/"))
    assert ("h1", edition_2022.title) in page.headings
    assert "Deze werkplaats heeft plaatsgevonden" in page.page_text


def test_home_without_any_published_edition_is_404(client, db):
    make_edition(is_published=False)
    assert client.get("/").status_code == 404


def test_open_edition_links_to_the_registration_form(client, open_edition):
    response = client.get(open_edition.get_absolute_url())
    html = response.content.decode()
    text = read_page(response).page_text
    assert reverse("registrations:register", args=[open_edition.slug]) in html
    assert "Inschrijven voor de werkplaats" in text
    # The deadline, said once, beside the button.
    assert f"Open tot en met {date_format(open_edition.registration_deadline, 'l j F Y')}" in text
    assert text.count("23:59 uur") == 1


def test_upcoming_edition_after_its_deadline_shows_the_closed_notice(client, db):
    today = datetime.date.today()
    edition = make_edition(
        start_date=today + datetime.timedelta(days=20),
        end_date=today + datetime.timedelta(days=22),
        registration_deadline=today - datetime.timedelta(days=1),
    )
    response = client.get(edition.get_absolute_url())
    html = response.content.decode()
    text = read_page(response).page_text
    assert "De inschrijving is gesloten." in text
    assert f"Gesloten sinds {date_format(edition.registration_deadline, 'j F Y')}" in text
    assert "Neem contact op met Romy" in text
    assert '<a href="tel:+31657943732">' in html
    assert reverse("registrations:register", args=[edition.slug]) not in html
    assert "Deze werkplaats heeft plaatsgevonden" not in text


def test_each_edition_has_its_own_stable_url(client, edition_2022):
    upcoming = make_edition(title="Werkplaats volgend jaar", slug="volgend-jaar")
    assert edition_2022.get_absolute_url() == "/werkplaats/werken-aan-wijkontwikkeling-2022/"
    page = read_page(client.get(edition_2022.get_absolute_url()))
    assert ("h1", edition_2022.title) in page.headings
    page = read_page(client.get("/werkplaats/volgend-jaar/"))
    assert ("h1", upcoming.title) in page.headings


def test_unpublished_edition_is_404_on_every_public_url(client, db):
    draft = make_edition(is_published=False, slug="concept")
    assert client.get("/werkplaats/concept/").status_code == 404
    assert client.get("/werkplaats/concept/agenda.ics").status_code == 404
    assert client.get(reverse("registrations:register", args=["concept"])).status_code == 404
    assert not Edition.objects.get(pk=draft.pk).is_published


def test_unknown_edition_is_404(client, db):
    assert client.get("/werkplaats/bestaat-niet/").status_code == 404


def test_text_staff_type_is_escaped(client, edition_2022):
    edition_2022.sections.create(
        order=99,
        heading="Kop <em>met</em> opmaak",
        body="Tekst met <script>alert('x')</script> erin.\n\n- punt <b>vet</b>",
    )
    edition_2022.intro = "Intro met <img src=x onerror=alert(1)>"
    edition_2022.save()
    html = client.get("/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "Kop &lt;em&gt;met&lt;/em&gt; opmaak" in html
    assert "<li>punt &lt;b&gt;vet&lt;/b&gt;</li>" in html
    assert "<img src=x" not in html


def _json_ld(response):
    return json.loads(read_page(response).json_ld[0])


def test_json_ld_offer_says_the_price_excludes_vat_and_is_on_sale(client, db):
    edition = make_edition(capacity=20)
    offer = _json_ld(client.get(edition.get_absolute_url()))["offers"]
    assert offer["availability"] == "https://schema.org/InStock"
    assert offer["priceSpecification"]["valueAddedTaxIncluded"] is False
    assert offer["priceSpecification"]["price"] == "1800.00"


def test_json_ld_of_a_full_edition_is_sold_out(client, db):
    edition = make_edition(capacity=1)
    make_registration(edition)
    offer = _json_ld(client.get(edition.get_absolute_url()))["offers"]
    assert offer["availability"] == "https://schema.org/SoldOut"
    assert "Alle plaatsen zijn bezet" in client.get(edition.get_absolute_url()).content.decode()


def test_json_ld_of_a_closed_edition_is_no_longer_on_sale(home_2022):
    assert _json_ld(home_2022)["offers"]["availability"] == "https://schema.org/Discontinued"


def test_json_ld_has_the_street_and_postcode_staff_entered(client, db):
    edition = make_edition(venue_address="Postweg 1", venue_postcode="3941 AA")
    address = _json_ld(client.get(edition.get_absolute_url()))["location"]["address"]
    assert address["streetAddress"] == "Postweg 1"
    assert address["postalCode"] == "3941 AA"
    assert address["addressLocality"] == "Doorn"


def test_json_ld_leaves_out_an_address_nobody_entered(home_2022):
    address = _json_ld(home_2022)["location"]["address"]
    assert "streetAddress" not in address and "postalCode" not in address


def test_open_graph_has_an_image_of_the_site_itself(home_2022, settings):
    image = read_page(home_2022).meta["og:image"]
    assert image.startswith(settings.SITE_URL + "/static/og-image")
    assert image.endswith(".png")


def test_favicon_ico_leads_to_the_sites_own_svg(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert "favicon" in response["Location"] and response["Location"].endswith(".svg")


def test_programme_labels_do_not_repeat_their_titles(home_2022):
    html = home_2022.content.decode()
    kinds = re.findall(r'<span class="session-kind">([^<]+)</span>', html)
    # "Methodiek", "Theorie", "Casuïstiek", "Reflectie en introspectie" say their kind already.
    assert kinds == ["inleiding", "coaching"]
