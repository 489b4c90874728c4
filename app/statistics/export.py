"""CSV as German spreadsheet programs open it without an import dialog: UTF-8 with a
byte-order mark, `;` between fields, CRLF line ends, dates as dd.mm.yyyy, a decimal comma,
a header row. Text that a spreadsheet would take for a formula is defused."""
from __future__ import annotations

import csv
import io
from datetime import date
from typing import Callable

from app.statistics.figures import Table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value, kind: str, gettext: Callable[[str], str]) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    text = gettext(str(value)) if kind == "text" else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(table: Table, gettext: Callable[[str], str]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([cell(gettext(c.label), "plain", gettext) for c in table.columns])
    for row in table.rows:
        writer.writerow([cell(v, c.kind, gettext) for v, c in zip(row, table.columns)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
