"""The 2022 edition exactly as the organiser published it (shared/seed/...-2022.txt)."""

import datetime
from decimal import Decimal

SLUG_2022 = "werken-aan-wijkontwikkeling-2022"

EDITION_2022 = {
    "title": "Werkplaats ‘Werken aan wijkontwikkeling’",
    "is_published": True,
    "organisers": "Platform31 en Van Vieren",
    "intro": (
        "In Nederland kennen we een aantal wijken met allerlei maatschappelijke problematiek. "
        "Dat zijn helaas al jarenlang grotendeels dezelfde wijken. Hoe zorgen we nu bij een "
        "nieuwe ronde investeringen in deze wijken dat we wél blijvend de negatieve spiraal "
        "gaan doorbreken? Er zijn veel lessen te leren uit het verleden en er zijn ook zeker "
        "wenkende perspectieven. Samen met onderzoeks- en adviesbureau Van Vieren organiseert "
        "Platform31 een driedaagse voor mensen die de kloof willen dichten en gelijke kansen "
        "willen creëren voor burgers die leven in wijken waar die kansen niet "
        "vanzelfsprekend zijn."
    ),
    "start_date": datetime.date(2022, 11, 21),
    "end_date": datetime.date(2022, 11, 23),
    "daily_start_time": datetime.time(9, 30),
    "daily_end_time": datetime.time(17, 0),
    "venue_name": "Kaap Doorn Conferentiecentrum",
    "venue_city": "Doorn",
    "price_excl_vat": Decimal("1800.00"),
    "price_includes": "arrangement- en verblijfskosten",
    "vat_rate": Decimal("21.00"),
    "registration_deadline": datetime.date(2022, 9, 16),
    "capacity": None,
    # The organiser's page states no terms or cancellation rules, so the 2022 edition has
    # none: the site promises nothing staff did not write.
    "terms": "",
}

# The demo edition's terms: an example of what staff might write, marked as such on every page
# and e-mail that shows them. Never copied to a real edition.
DEMO_TERMS = (
    "VOORBEELD – dit zijn voorbeeldvoorwaarden voor de demo-editie, niet die van Platform31. "
    "Annuleren kan kosteloos tot en met de deadline voor inschrijven; daarna is het volledige "
    "bedrag verschuldigd. Een vervanger uit je organisatie is welkom."
)

SECTIONS_2022 = [
    (
        "Waar je wieg staat, doet ertoe",
        "Er is een aantal wijken waar de maatschappelijke problemen zich hebben opgestapeld: "
        "weinig scholing, geen werk, armoede, slechte woonomstandigheden, schulden, geweld, "
        "crimineel gedrag, lage levensverwachting (tot 10 jaar minder dan in betere wijken). "
        "Zulke wijken zijn in de loop der jaren met verschillende termen aangeduid: "
        "achterbuurten, achterstandswijken, stadsvernieuwingswijken, "
        "probleemaccumulatiegebieden, krachtwijken, prachtwijken en kwetsbare wijken. "
        "De problemen in deze wijken blijken zeer hardnekkig.\n\n"
        "Hoe zorgen we nu bij een nieuwe ronde investeringen in deze wijken dat we wél "
        "blijvend de negatieve spiraal gaan doorbreken? Dat we ervoor zorgen dat ieder kind "
        "nu echt dezelfde kansen krijgt, onafhankelijk van de wijk waarin het opgroeit? Dat we "
        "investeren in veerkracht van wijken, waardoor de kwetsbaarheid afneemt? Hoe kan de "
        "groeiende tweedeling en segregatie tussen wijken en binnen steden worden "
        "teruggedrongen en de kansengelijkheid van bewoners vergroot worden? Hoe vormen we "
        "coalities die systeembarrières kunnen slechten? Hoe kunnen burgers zelf meer aan het "
        "roer komen te staan?",
    ),
    (
        "Voor wie?",
        "Voor deze bijzondere driedaagse bijeenkomst brengen we mensen bijeen die:\n\n"
        "- de kloof willen dichten, gelijke kansen willen creëren voor burgers die leven in "
        "wijken waar die kansen niet vanzelfsprekend zijn, die doener én denker zijn;\n"
        "- met passie werken aan het creëren van publieke waarde om bewoners in deze wijken "
        "een veilig en leefbaar bestaan te bieden;\n"
        "- werken bij de gemeente, een welzijnsinstelling, onderwijs of zorgverlening, sociaal "
        "en gemeenschapswerk, een impactondernemer of een maatschappelijk initiatief, een "
        "woningcorporatie of de politie;\n"
        "- betrokken zijn als programma- of projectleider, manager, onderzoeker of uitvoerend "
        "professional of adviseur.",
    ),
    (
        "Wat biedt de werkplaats?",
        "In deze werkplaats gaan we op zoek naar praktische interventies en "
        "systeemdoorbraken, interventies met perspectieven voor de langere termijn. Welke "
        "veranderingen zijn nodig en hoe pak je dat aan? Het vertrekpunt is leading from the "
        "emerging future.\n\n"
        "Wij bieden een werkplaats:\n\n"
        "- om systematisch en diepgaand te werken aan het verbeteren van kwetsbare wijken en "
        "aan je eigen opgave en rol daarin;\n"
        "- waar je met mensen werkt vanuit eenzelfde passie en die bereid zijn hun kunde en "
        "kennis, hun trots en twijfels met je te delen;\n"
        "- met inleidingen en begeleiding die je op scherp zet, op de proef stelt en "
        "perspectief biedt.",
    ),
    (
        "Je werkt aan vragen als:",
        "- Wat is het krachtenveld waarbinnen ik opereer?\n"
        "- Wat betekent dat voor mijn samenwerken met andere partijen?\n"
        "- Zijn mogelijke andere manieren van kijken en benoemen van mijn vraagstuk "
        "vruchtbaar?\n"
        "- Hoe kan ik dat omzetten in praktisch handelen om verschil te maken?",
    ),
    (
        "Als je vertrekt na de driedaagse:",
        "- heb je inspiratie, lol en plezier gehad;\n"
        "- heb je je eigen opgave herzien;\n"
        "- heb je anderen geholpen en geïnspireerd;\n"
        "- heb je nieuwe concrete handvatten voor je eigen werkpraktijk.",
    ),
    (
        "We vragen van jou:",
        "- je dilemma’s, twijfels en kwetsbaarheid op tafel te durven leggen;\n"
        "- vermogen om door meerdere brillen te kunnen kijken en te reflecteren op eigen "
        "handelen; en\n"
        "- vooral mee te doen en te (co)produceren. Niemand blijft aan de kant staan!",
    ),
    (
        "Hoe werken wij?",
        "In het driedaagse programma is achteroverleunen geen optie. Denk eerder aan een "
        "bootcamp. In het programma komt aan bod:\n\n"
        "- Inspiratie uit de praktijk met inleidingen over bijvoorbeeld ontwrichting van de "
        "samenleving en gevolgen van ondermijning, het belang van het vormen van brede "
        "coalities, hoe je systeembarrières kan slechten en hoe je burgers zelf meer aan het "
        "roer kan zetten.\n"
        "- Theorie over nieuw publiek werken & wijkontwikkeling.\n"
        "- Methodiek: we gebruiken principes van theory U, viral change en design thinking.\n"
        "- We werken constant op een speelse wijze aan serieuze vraagstukken.\n"
        "- Concreet aan de slag met casuïstiek (van je zelf én van anderen).\n"
        "- Verbreden van instrumenten die je in je werkpraktijk kan inzetten.\n"
        "- Reflectie en introspectie. Iedereen heeft de mogelijkheid voor een persoonlijk "
        "gesprek met een ervaren coach die je op scherp zet.",
    ),
    (
        "Wie zijn wij?",
        "Net als jij werken wij bij V4N en Platform31 aan publieke opgaven in kwetsbare "
        "wijken. En we delen graag onze inzichten, kennis en kunde, maar ook onze twijfels en "
        "worstelingen in dit veld.\n\n"
        "- Van Vieren heeft 15 jaar gewerkt in wat achtereenvolgens een achterbuurt, "
        "achterstandswijk, stadsvernieuwingswijk, probleemaccumulatiegebied, krachtwijk of "
        "prachtwijk werd genoemd. We deden dat in allerlei hoedanigheden – van "
        "gebiedsdirecteur tot stadsdeelsecretaris en van projectdirecteur tot adviseur tot "
        "onderzoeker. Recent ontwikkelden we met ‘Vruchtbare bodem, Wijkontwikkeling van de "
        "grond af aan’ een aanpak voor de komende periode. De kern is dat we systematisch de "
        "grond vruchtbaarder willen maken, bemesting, zorgvuldige bewerking en toegewijde "
        "aandacht voor al wat groeit, zodat we de kwetsbare wijk van een gezonde ecostructuur "
        "voorzien.\n"
        "- Platform31 heeft in samenwerking met het Verwey-Jonker Instituut het praktijkboek "
        "‘Slagkracht in de wijk’ samengesteld. In dit praktijkboek worden lessen en inzichten "
        "uit wetenschappelijke literatuur en praktijkonderzoek over wijkaanpak vertaald in "
        "praktische en concrete uitwerking en gekoppeld aan uiteenlopende "
        "praktijkvoorbeelden. Het praktijkboek wil niet voorschrijven ‘hoe het moet’, maar "
        "inspiratie en praktische ondersteuning bieden bij het optuigen van een "
        "domeinoverstijgende wijkaanpak.",
    ),
]

# (name, topic, phone, is_practical_contact). The seed lists Cisca's and Imke's numbers in
# the order of their names.
CONTACTS_2022 = [
    ("Cisca", "inhoudelijke vragen", "+31 6 21 56 11 75", False),
    ("Imke", "inhoudelijke vragen", "+31 6 22 31 40 34", False),
    ("Romy", "praktische vragen", "+31 6 57 94 37 32", True),
]

DAYS_2022 = [
    datetime.date(2022, 11, 21),
    datetime.date(2022, 11, 22),
    datetime.date(2022, 11, 23),
]

# The components "Hoe werken wij?" names. The organiser published no timetable, so no day
# and no times: staff add those in admin once they are known.
SESSIONS_2022 = [
    (
        "inleiding",
        "Inspiratie uit de praktijk",
        "Inleidingen over bijvoorbeeld ontwrichting van de samenleving en gevolgen van "
        "ondermijning, het belang van het vormen van brede coalities, hoe je "
        "systeembarrières kan slechten en hoe je burgers zelf meer aan het roer kan zetten.",
    ),
    ("theorie", "Theorie", "Nieuw publiek werken & wijkontwikkeling."),
    (
        "methodiek",
        "Methodiek",
        "Principes van theory U, viral change en design thinking; op een speelse wijze aan "
        "serieuze vraagstukken. Verbreden van instrumenten die je in je werkpraktijk kan "
        "inzetten.",
    ),
    (
        "casuistiek",
        "Casuïstiek",
        "Concreet aan de slag met casuïstiek (van je zelf én van anderen).",
    ),
    ("reflectie", "Reflectie en introspectie", ""),
    (
        "coaching",
        "Persoonlijk gesprek met een coach",
        "Iedereen heeft de mogelijkheid voor een persoonlijk gesprek met een ervaren coach "
        "die je op scherp zet.",
    ),
]
