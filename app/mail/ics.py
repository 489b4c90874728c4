"""iCalendar files: one event with its time zone, published or cancelled."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from icalendar import Calendar, Event, Timezone

from app import clock
from app.scheduling.calendar import zone


def build_ics(*, uid: str, sequence: int, start: datetime, end: datetime, tz_name: str, summary: str,
              location: str, description: str, url: str = "", cancelled: bool = False) -> str:
    cal = Calendar()
    cal.add("prodid", "-//Amtstermin//DE")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    ev = Event()
    ev.add("uid", uid)
    ev.add("sequence", sequence)
    ev.add("dtstamp", clock.now())
    tz = zone(tz_name)
    ev.add("dtstart", start.astimezone(tz))
    ev.add("dtend", end.astimezone(tz))
    ev.add("summary", summary)
    ev.add("location", location)
    ev.add("description", description)
    if url:
        ev.add("url", url)
    ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    cal.add_component(ev)
    cal.add_component(_vtimezone(tz_name))
    return cal.to_ical().decode()


@lru_cache(maxsize=16)
def _vtimezone(tz_name: str) -> Timezone:
    """The VTIMEZONE of a zone, built once: deriving it from zoneinfo is slow."""
    return Timezone.from_tzinfo(zone(tz_name))
