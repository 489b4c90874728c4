"""Wall-clock helpers: tenant time zone, public holidays, day boundaries."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=256)
def public_holidays(state: str, year: int) -> frozenset[date]:
    """Public holidays of a German federal state (e.g. 'NW') in one year."""
    try:
        return frozenset(holidays_lib.country_holidays("DE", subdiv=state or None, years=year).keys())
    except NotImplementedError:
        return frozenset(holidays_lib.country_holidays("DE", years=year).keys())


def is_holiday(state: str, day: date) -> bool:
    return day in public_holidays(state, day.year)


def local_to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=tz).astimezone(timezone.utc)


def day_bounds_utc(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
    return start, end


def today_in(tz: ZoneInfo, now: datetime) -> date:
    return now.astimezone(tz).date()
