"""Small shared bits of the back-office pages: dates, counters, services, time formatting."""
from __future__ import annotations

from datetime import date, datetime, time

from flask import g
from sqlalchemy import select

from app import clock
from app.catalog.models import Service, bookable_by_staff
from app.extensions import db
from app.offices.models import Counter
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


def parse_start(value: str | None) -> datetime | None:
    """A start as the slot lists post it: ISO 8601 with its offset (None if not)."""
    try:
        start = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return start if start.tzinfo else None


def parse_local(day_value: str | None, time_value: str | None) -> datetime | None:
    day, clock_time = parse_day(day_value), parse_time(time_value)
    if day is None or clock_time is None:
        return None
    return datetime.combine(day, clock_time, tzinfo=tz())


def local(dt: datetime) -> datetime:
    return dt.astimezone(tz())


def counters_of(office_id: int) -> list[Counter]:
    return list(db.session.scalars(select(Counter).where(Counter.office_id == office_id)
                                   .order_by(Counter.position, Counter.id)))


def bookable_services() -> list[Service]:
    return list(db.session.scalars(bookable_by_staff()))
