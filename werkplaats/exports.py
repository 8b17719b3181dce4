"""CSV files for spreadsheets, and the Dutch order of names.

Every export of the back office (participants, venue list, bookkeeping) goes through
csv_response, so every cell a spreadsheet could run as a formula is neutralised in one place.
"""

import csv
import re
import unicodedata

from django.http import HttpResponse

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Amounts we write ourselves ("-378,00") are numbers, not formulas; they stay as they are.
PLAIN_NUMBER = re.compile(r"-?\d+(,\d+)?")

# Dutch surnames are filed under the name after the tussenvoegsel: "de Vries" under V.
TUSSENVOEGSELS = sorted(
    [
        "van der", "van den", "van de", "van het", "van 't", "in 't", "in het", "op de",
        "op den", "uit de", "uit den", "aan de", "aan den", "bij de", "voor de", "onder de",
        "over de", "van", "de", "der", "den", "het", "'t", "te", "ten", "ter", "in", "op",
        "uit", "la", "le", "du", "d'", "l'", "el", "al", "da", "di", "von", "vom", "zu",
    ],
    key=len,
    reverse=True,
)  # fmt: skip


def spreadsheet_safe(value):
    """The cell as text, with a leading ' when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_response(filename, header, rows):
    """A CSV download Excel opens correctly: UTF-8 with a byte-order mark, semicolons."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow([spreadsheet_safe(cell) for cell in header])
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return response


def _plain(text):
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def dutch_name_key(last_name, first_name=""):
    """Sort key for a person the Dutch way: 'de Vries' under V, 'van der Berg' under B,
    case and accents ignored ('Özdemir' beside 'Oz...')."""
    last = _plain(last_name)
    for prefix in TUSSENVOEGSELS:
        if last.startswith(prefix + " ") or (prefix.endswith("'") and last.startswith(prefix)):
            last = last[len(prefix) :].strip()
            break
    return (last, _plain(first_name), _plain(last_name))
