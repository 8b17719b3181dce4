"""The figures of the statistics pages: per edition and across editions.

Statistics must never be the reason personal data is kept, so every figure here is computed
from what survives anonymisation (registrations/retention.py): organisation, sector, role,
status, the overnight stay, the moments of the waiting list and of cancelling, and the
order's KvK number or OIN. The one exception, diets, is erased the day after the event; the
retention step counts the confirmed participants with a diet wish before it erases them
(RetentionRecord.confirmed_with_diet), and the figure adds that count to what is still there.

Each function answers in a fixed number of queries, however many registrations there are.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import groupby

from django.db.models import Count, Q, Sum

from programme.models import Edition, amsterdam_date

from .models import Registration, RetentionRecord

TOP_ORGANISATIONS = 20
NOT_GIVEN = "niet opgegeven"

# How long before the first day a cancellation came: (fewer than this many days, label).
CANCELLATION_PERIODS = [
    (0, "op of na de eerste dag"),
    (7, "minder dan 1 week ervoor"),
    (14, "1 tot 2 weken ervoor"),
    (28, "2 tot 4 weken ervoor"),
    (56, "4 tot 8 weken ervoor"),
    (None, "8 weken of meer ervoor"),
]

# What each figure counts, said on the page beside it.
DEFINITIONS = {
    "sector": "Bevestigde deelnemers per sector, zoals ze die bij de inschrijving kozen.",
    "role": "Bevestigde deelnemers per rol, zoals ze die bij de inschrijving kozen.",
    "organisation": (
        f"Bevestigde deelnemers per organisatie: de {TOP_ORGANISATIONS} grootste, de rest "
        "samen als 'overige'. Namen tellen als dezelfde organisatie wanneer ze gelijk zijn "
        "na het negeren van hoofdletters en extra spaties."
    ),
    "kind": (
        "Bevestigde deelnemers naar het nummer waarmee hun bestelling de koper aanduidt: een "
        "OIN (of Peppol-ID met OIN) hebben alleen overheidsorganisaties; een KvK-nummer hebben "
        "bedrijven, stichtingen en verenigingen. Wie geen van beide opgaf, telt als "
        f"'{NOT_GIVEN}'. De sector is een eigen keuze van de deelnemer en staat hierboven."
    ),
    "returning": (
        "Organisaties met minstens één bevestigde deelnemer. Terugkerend: de organisatie had "
        "ook een bevestigde deelnemer bij een eerdere editie (namen vergeleken zonder "
        "hoofdletters en extra spaties, of dezelfde organisatie in het register van Financiën); "
        "anders nieuw."
    ),
    "waiting": (
        "Inschrijvingen die op de wachtlijst stonden, en wat ervan werd: bevestigd (kreeg een "
        "plaats), nog wachtend, of geannuleerd (tijdens het wachten of later)."
    ),
    "cancellations": (
        "Geannuleerde inschrijvingen, naar hoeveel tijd voor de eerste dag van de editie ze "
        "werden geannuleerd."
    ),
    "overnight": "Bevestigde deelnemers die wel of niet op de locatie overnachten.",
    "diets": (
        "Bevestigde deelnemers met en zonder dieetwens (alleen aantallen). De wensen zelf "
        "worden de dag na de laatste dag gewist; het aantal blijft bewaard."
    ),
}


@dataclass
class Figure:
    """One figure: what it counts (`definition`), and a count per label, in the order shown."""

    key: str
    title: str
    definition: str
    label_header: str
    labels: list
    values: list

    @property
    def rows(self):
        return list(zip(self.labels, self.values, strict=True))


def organisation_key(name):
    """The name an organisation is recognised by across editions: case and extra spaces
    ignored ("Gemeente  utrecht " is "gemeente utrecht")."""
    return " ".join(name.casefold().split())


def kind_of_organisation(kvk_number, oin, peppol_id):
    scheme = peppol_id.partition(":")[0]
    if oin or scheme == "0190":
        return "overheid (OIN)"
    if kvk_number or scheme == "0106":
        return "bedrijf, stichting of vereniging (KvK-nummer)"
    return NOT_GIVEN


def cancellation_period(edition_start, cancelled_at):
    days = (edition_start - amsterdam_date(cancelled_at)).days
    for limit, label in CANCELLATION_PERIODS:
        if limit is None or days < limit:
            return label
    raise AssertionError("the last period has no limit")  # pragma: no cover


def _counted(key, title, label_header, counter, order=None):
    """A figure from a Counter: in the given label order (all shown, also 0), or largest first."""
    if order is None:
        order = [label for label, _n in sorted(counter.items(), key=lambda i: (-i[1], i[0]))]
    return Figure(
        key, title, DEFINITIONS[key], label_header, order, [counter[label] for label in order]
    )


def _choice_label(choices, value):
    return dict(choices).get(value, NOT_GIVEN) if value else NOT_GIVEN


def _top_organisations(names):
    """{shown name: count}, the largest TOP_ORGANISATIONS and 'overige (n organisaties)'."""
    spellings = defaultdict(Counter)
    for name in names:
        spellings[organisation_key(name)][name.strip()] += 1
    # Each organisation under its most used spelling (Counter keeps the first seen on a tie).
    totals = sorted(
        ((sum(spelled.values()), spelled.most_common(1)[0][0]) for spelled in spellings.values()),
        key=lambda item: (-item[0], item[1].casefold()),
    )
    shown = Counter({name: count for count, name in totals[:TOP_ORGANISATIONS]})
    order = [name for _count, name in totals[:TOP_ORGANISATIONS]]
    rest = totals[TOP_ORGANISATIONS:]
    if rest:
        label = f"overige ({len(rest)} organisaties)"
        shown[label] = sum(count for count, _name in rest)
        order.append(label)
    return shown, order


def organisation_keys(name, debtor_id=None, debtor_name=""):
    """What an organisation is known by across editions: its name as typed, and, once finance
    linked the order to the organisation register, that organisation (and its name there),
    however the name was typed this time."""
    keys = {organisation_key(name)}
    if debtor_id is not None:
        keys |= {f"register:{debtor_id}", organisation_key(debtor_name)}
    return keys


def earlier_organisations(edition):
    """The keys (organisation_keys) of the organisations with a confirmed participant in an
    edition before `edition`."""
    rows = (
        Registration.objects.confirmed()
        .filter(edition__start_date__lt=edition.start_date)
        .values_list("organisation", "order__debtor_id", "order__debtor__name")
        .distinct()
    )
    return set().union(*(organisation_keys(*row) for row in rows))


def returning_count(confirmed, earlier):
    """(organisations, returning ones) among `confirmed` rows: one organisation per register
    entry where the order is linked, else per name."""
    present = {}
    for row in confirmed:
        keys = organisation_keys(
            row["organisation"], row["order__debtor_id"], row["order__debtor__name"]
        )
        identity = (
            f"register:{row['order__debtor_id']}"
            if row["order__debtor_id"] is not None
            else organisation_key(row["organisation"])
        )
        present.setdefault(identity, set()).update(keys)
    return len(present), sum(1 for keys in present.values() if keys & earlier)


def confirmed_with_diet(editions):
    """{edition id: confirmed participants with a diet wish}: the wishes still stored plus
    those the retention job counted before erasing them."""
    live = (
        Registration.objects.confirmed()
        .filter(edition__in=editions)
        .exclude(dietary_needs="")
        .values("edition")
        .annotate(n=Count("pk"))
    )
    kept = (
        RetentionRecord.objects.filter(edition__in=editions)
        .values("edition")
        .annotate(n=Sum("confirmed_with_diet"))
    )
    counts = Counter()
    for row in [*live, *kept]:
        counts[row["edition"]] += row["n"] or 0
    return counts


def edition_figures(edition):
    """Every figure of one edition, in the order of its page (four queries)."""
    rows = list(
        # In sign-up order: of two spellings used equally often, the first one is shown.
        Registration.objects.filter(edition=edition)
        .order_by("pk")
        .values(
            "status",
            "organisation",
            "sector",
            "role",
            "overnight_stay",
            "waiting_since",
            "cancelled_at",
            "order__kvk_number",
            "order__oin",
            "order__peppol_id",
            "order__debtor_id",
            "order__debtor__name",
        )
    )
    confirmed = [row for row in rows if row["status"] == Registration.Status.CONFIRMED]
    organisations, order = _top_organisations(row["organisation"] for row in confirmed)
    present, returning = returning_count(confirmed, earlier_organisations(edition))
    waited = [row for row in rows if row["waiting_since"] is not None]
    statuses = Counter(row["status"] for row in waited)
    diets = confirmed_with_diet([edition])[edition.pk]
    overnight = sum(1 for row in confirmed if row["overnight_stay"])
    return [
        _counted(
            "sector",
            "Sector",
            "sector",
            Counter(_choice_label(Registration.Sector.choices, r["sector"]) for r in confirmed),
        ),
        _counted(
            "role",
            "Rol",
            "rol",
            Counter(_choice_label(Registration.Role.choices, r["role"]) for r in confirmed),
        ),
        _counted("organisation", "Organisaties", "organisatie", organisations, order),
        _counted(
            "kind",
            "Soort organisatie",
            "soort",
            Counter(
                kind_of_organisation(r["order__kvk_number"], r["order__oin"], r["order__peppol_id"])
                for r in confirmed
            ),
        ),
        Figure(
            "returning",
            "Nieuwe en terugkerende organisaties",
            DEFINITIONS["returning"],
            "organisaties",
            ["nieuw", "terugkerend"],
            [present - returning, returning],
        ),
        Figure(
            "waiting",
            "Wachtlijst",
            DEFINITIONS["waiting"],
            "inschrijvingen",
            ["op de wachtlijst gestaan", "daarna bevestigd", "nog wachtend", "geannuleerd"],
            [
                len(waited),
                statuses[Registration.Status.CONFIRMED],
                statuses[Registration.Status.WAITING],
                statuses[Registration.Status.CANCELLED],
            ],
        ),
        _counted(
            "cancellations",
            "Annuleringen",
            "geannuleerd",
            Counter(
                cancellation_period(edition.start_date, row["cancelled_at"])
                for row in rows
                if row["status"] == Registration.Status.CANCELLED
            ),
            [label for _limit, label in reversed(CANCELLATION_PERIODS)],
        ),
        Figure(
            "overnight",
            "Overnachten",
            DEFINITIONS["overnight"],
            "overnachten",
            ["overnacht", "overnacht niet"],
            [overnight, len(confirmed) - overnight],
        ),
        Figure(
            "diets",
            "Dieetwensen",
            DEFINITIONS["diets"],
            "dieetwens",
            ["met dieetwens", "zonder dieetwens"],
            [diets, max(len(confirmed) - diets, 0)],
        ),
    ]


ACROSS_HEADERS = [
    "editie",
    "bevestigd",
    "op de wachtlijst gestaan",
    "daarna bevestigd",
    "geannuleerd",
    "organisaties",
    "nieuwe organisaties",
    "terugkerende organisaties",
    "overnacht",
    "met dieetwens",
]


@dataclass
class EditionRow:
    edition: Edition
    confirmed: int
    waited: int
    waited_then_confirmed: int
    cancelled: int
    organisations: int
    new_organisations: int
    returning_organisations: int
    overnight: int
    with_diet: int

    @property
    def cells(self):
        return [
            str(self.edition),
            self.confirmed,
            self.waited,
            self.waited_then_confirmed,
            self.cancelled,
            self.organisations,
            self.new_organisations,
            self.returning_organisations,
            self.overnight,
            self.with_diet,
        ]


def across_editions():
    """One EditionRow per edition, oldest first, and the sector and role figures of all
    editions together (five queries, counted in the database)."""
    editions = list(Edition.objects.order_by("start_date", "pk"))
    confirmed = Q(status=Registration.Status.CONFIRMED)
    waited = Q(waiting_since__isnull=False)
    counts = {
        row["edition"]: row
        for row in Registration.objects.values("edition").annotate(
            confirmed=Count("pk", filter=confirmed),
            waited=Count("pk", filter=waited),
            waited_then_confirmed=Count("pk", filter=waited & confirmed),
            cancelled=Count("pk", filter=Q(status=Registration.Status.CANCELLED)),
            overnight=Count("pk", filter=confirmed & Q(overnight_stay=True)),
        )
    }
    organisations = defaultdict(list)
    for row in (
        Registration.objects.confirmed()
        .values("edition", "organisation", "order__debtor_id", "order__debtor__name")
        .distinct()
    ):
        organisations[row["edition"]].append(row)
    diets = confirmed_with_diet(editions)
    rows, earlier = [], set()
    # Editions on one start date are not each other's "earlier".
    for _start, same_day in groupby(editions, key=lambda edition: edition.start_date):
        same_day = list(same_day)
        for edition in same_day:
            count = counts.get(edition.pk, {})
            present, returning = returning_count(organisations[edition.pk], earlier)
            rows.append(
                EditionRow(
                    edition,
                    count.get("confirmed", 0),
                    count.get("waited", 0),
                    count.get("waited_then_confirmed", 0),
                    count.get("cancelled", 0),
                    present,
                    present - returning,
                    returning,
                    count.get("overnight", 0),
                    diets[edition.pk],
                )
            )
        for edition in same_day:
            for row in organisations[edition.pk]:
                earlier |= organisation_keys(
                    row["organisation"], row["order__debtor_id"], row["order__debtor__name"]
                )
    totals = Registration.objects.confirmed().aggregate(
        **_count_per_choice("sector", Registration.Sector.choices),
        **_count_per_choice("role", Registration.Role.choices),
    )
    return rows, [
        _all_editions(totals, "sector", "Sector (alle edities)", Registration.Sector.choices),
        _all_editions(totals, "role", "Rol (alle edities)", Registration.Role.choices),
    ]


def _count_per_choice(field, choices):
    return {
        f"{field}_{value}": Count("pk", filter=Q(**{field: value}))
        for value in [*dict(choices), ""]
    }


def _all_editions(totals, field, title, choices):
    counter = Counter()
    for value, label in [*choices, ("", NOT_GIVEN)]:
        counter[label] = totals[f"{field}_{value}"]
    figure = _counted(field, title, "sector" if field == "sector" else "rol", +counter)
    figure.definition = f"{DEFINITIONS[field]} Alle edities samen."
    return figure
