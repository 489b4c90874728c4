"""Small shared bits of the back-office pages: dates and time formatting."""
from __future__ import annotations

from datetime import date, datetime, time

from flask import g

from app import clock
from app.scheduling.calendar import today_in, zone
from app.validators import parse_date


def tz():
    return zone(g.tenant.timezone)


def today() -> date:
    return today_in(tz(), clock.now())


def parse_day(value: str | None, default: date | None = None) -> date | None:
    return parse_date(value) if value else default


def parse_time(value: str | None) -> time | None:
    try:
        return time.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_local(day_value: str | None, time_value: str | None) -> datetime | None:
    day, clock_time = parse_day(day_value), parse_time(time_value)
    if day is None or clock_time is None:
        return None
    return datetime.combine(day, clock_time, tzinfo=tz())


def local(dt: datetime) -> datetime:
    return dt.astimezone(tz())

