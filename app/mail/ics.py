"""iCalendar files (RFC 5545): one event with its time zone, published or cancelled (RFC 5546)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress, vText

from app import clock
from app.scheduling.calendar import zone

# The VTIMEZONE lists the zone's real transitions in these years: every appointment lies in them.
TZ_YEARS = (2020, 2045)


def build_ics(*, uid: str, sequence: int, start: datetime, end: datetime, tz_name: str, summary: str,
              location: str, description: str, organizer_email: str, organizer_name: str, url: str = "",
              cancelled: bool = False) -> str:
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
    # Outlook and others match a cancellation to its event by UID *and* organizer.
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText(organizer_name)
    ev.add("organizer", organizer)
    if url:
        ev.add("url", url)
    ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    cal.add_component(ev)
    # The VTIMEZONE (fifty-odd onsets) goes in before the event as text serialized once per
    # zone: the same file as with the component added, without folding it again per mail.
    head, sep, tail = cal.to_ical().decode().partition("BEGIN:VEVENT\r\n")
    return head + _vtimezone_ical(tz_name) + sep + tail


def _transitions(tz_name: str) -> list[tuple[datetime, timedelta, timedelta, bool]]:
    """(UTC instant, offset before, offset after, is daylight time after) of every change of
    the zone's UTC offset in TZ_YEARS, found day by day and then to the minute."""
    tz = zone(tz_name)

    def offset(at: datetime) -> timedelta:
        return at.astimezone(tz).utcoffset()

    found = []
    day = datetime(TZ_YEARS[0], 1, 1, tzinfo=timezone.utc)
    last = datetime(TZ_YEARS[1], 12, 31, tzinfo=timezone.utc)
    while day < last:
        nxt = day + timedelta(days=1)
        before, after = offset(day), offset(nxt)
        if before != after:
            low, high = day, nxt  # offset(low) == before, offset(high) == after
            while high - low > timedelta(minutes=1):
                mid = low + (high - low) / 2
                low, high = (mid, high) if offset(mid) == before else (low, mid)
            moment = high.replace(second=0, microsecond=0)
            found.append((moment, before, after, bool(moment.astimezone(tz).dst())))
        day = nxt
    return found


@lru_cache(maxsize=16)
def _vtimezone_ical(tz_name: str) -> str:
    return _vtimezone(tz_name).to_ical().decode()


@lru_cache(maxsize=16)
def _vtimezone(tz_name: str) -> Timezone:
    """The VTIMEZONE of a zone, built once. Each onset is written, as RFC 5545 §3.6.5 asks, in
    the local time *before* the change: in Berlin summer time begins at 02:00, ends at 03:00."""
    vtz = Timezone()
    vtz.add("tzid", tz_name)
    changes = _transitions(tz_name)
    if not changes:  # a zone without changes: one standard time from the start
        tz = zone(tz_name)
        part = TimezoneStandard()
        off = datetime(TZ_YEARS[0], 1, 1, tzinfo=timezone.utc).astimezone(tz).utcoffset()
        part.add("dtstart", datetime(1970, 1, 1))
        part.add("tzoffsetfrom", off)
        part.add("tzoffsetto", off)
        vtz.add_component(part)
        return vtz
    groups: dict[tuple, list[datetime]] = {}
    for moment, before, after, daylight in changes:
        local_before = (moment + before).replace(tzinfo=None)
        groups.setdefault((daylight, before, after), []).append(local_before)
    tz = zone(tz_name)
    for (daylight, before, after), onsets in groups.items():
        part = TimezoneDaylight() if daylight else TimezoneStandard()
        part.add("dtstart", onsets[0])
        if onsets[1:]:
            part.add("rdate", onsets[1:])
        part.add("tzoffsetfrom", before)
        part.add("tzoffsetto", after)
        name = (onsets[0] + timedelta(hours=12)).replace(tzinfo=timezone.utc).astimezone(tz).tzname()
        if name:
            part.add("tzname", name)
        vtz.add_component(part)
    return vtz

