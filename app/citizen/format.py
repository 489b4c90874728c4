"""Dates and times as citizens read them: "24.11.2026", "09:30", "Dienstag", "Dezember 2026"."""
from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date as babel_date
from babel.dates import get_day_names

from app.i18n import current_lang
from app.scheduling.calendar import zone


def local(dt: datetime, tz_name: str) -> datetime:
    return dt.astimezone(zone(tz_name))


def day_text(d: date | datetime) -> str:
    """24.11.2026 in German (as in the mails), 24 November 2026 in English."""
    if current_lang() == "en":
        return babel_date(d, "d MMMM y", locale="en")
    return d.strftime("%d.%m.%Y")


def weekday_text(d: date | datetime) -> str:
    return babel_date(d, "EEEE", locale=current_lang())


def month_text(d: date) -> str:
    return babel_date(d, "LLLL y", locale=current_lang())


def short_weekdays() -> list[tuple[str, str]]:
    """(abbreviation, full name) Monday first, for the month table's column heads."""
    lang = current_lang()
    abbr = get_day_names("abbreviated", locale=lang)
    wide = get_day_names("wide", locale=lang)
    return [(abbr[i], wide[i]) for i in range(7)]


def time_text(dt: datetime) -> str:
    return dt.strftime("%H:%M")
