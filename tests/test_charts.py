"""werkplaats/charts.py: SVG drawn on the server, with its summary and its table."""

from decimal import Decimal
from xml.etree import ElementTree

from werkplaats import charts

SVG = "{http://www.w3.org/2000/svg}"


def test_bars_draw_one_bar_per_label_scaled_to_the_largest():
    chart = charts.bars("sector", "Sector", ["Gemeente", "Politie <b>"], [30, 15])
    svg = ElementTree.fromstring(str(chart.svg))
    widths = [float(rect.get("width")) for rect in svg.iter(f"{SVG}rect")]
    assert len(widths) == 2 and widths[0] == 2 * widths[1] > 0
    # Labels are escaped, never markup.
    assert "Politie <b>" in [text.text for text in svg.iter(f"{SVG}text")]
    assert svg.find(f"{SVG}title").text == "Sector"
    assert chart.rows == [["Gemeente", "30"], ["Politie <b>", "15"]]


def test_amounts_are_written_as_money():
    chart = charts.bars("money", "Openstaand", ["1–30 dagen"], [Decimal("1800.00")])
    assert chart.rows == [["1–30 dagen", "€ 1.800,00"]]


def test_lines_leave_a_gap_for_days_not_reached_and_name_each_series_in_the_legend():
    chart = charts.lines(
        "signups", "Inschrijvingen", [-3, -2, -1], [("2027", [1, 2, None]), ("2026", [1, 3, 4])]
    )
    svg = ElementTree.fromstring(str(chart.svg))
    polylines = [line.get("points").split() for line in svg.iter(f"{SVG}polyline")]
    assert [len(points) for points in polylines] == [2, 3]
    assert chart.rows[-1] == ["-1", "", "4"]
    assert chart.legend == [("2027", "doorgetrokken lijn"), ("2026", "gestreepte lijn")]


def test_an_empty_chart_says_so():
    assert charts.bars("none", "Niets", [], []).is_empty
