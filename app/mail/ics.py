"""iCalendar attachments: one UID per appointment, SEQUENCE raised on every change."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from icalendar import Calendar, Event, Timezone

from app.scheduling.calendar import zone


def appointment_uid(tenant_slug: str, appointment_id: int, base_domain: str) -> str:
    return f"appointment-{appointment_id}-{tenant_slug}@{base_domain}"


def build_ics(*, uid: str, sequence: int, start: datetime, end: datetime, tz_name: str, summary: str,
              location: str, description: str, url: str = "", cancelled: bool = False) -> str:
    cal = Calendar()
    cal.add("prodid", "-//Amtstermin//DE")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "PUBLISH")
    ev = Event()
    ev.add("uid", uid)
    ev.add("sequence", sequence)
    ev.add("dtstamp", datetime.now(timezone.utc))
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
