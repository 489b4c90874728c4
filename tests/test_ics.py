"""The calendar file in every mail follows RFC 5545/5546 (CONTRACT §7): an organizer, a UID
nobody can guess, a charset, the same UID on the cancellation, and a time zone whose summer
time begins at 02:00. A second, independent parser (`ical`) reads it besides icalendar."""
from __future__ import annotations

import re

from ical.calendar_stream import IcsCalendarStream

from tests.conftest import at, mails, next_weekday


def book(client, start, i=0):
    return client.post("/api/v1/appointments", json={
        "service": "personalausweis", "start": start.isoformat(), "name": "Erika Mustermann",
        "email": f"ics{i}@example.org"})


def calendar_part(mail):
    [part] = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    return part


def unfold(ics: str) -> str:
    return re.sub(r"\r?\n[ \t]", "", ics)


def test_the_confirmation_calendar_names_the_organizer_and_declares_its_charset(app, steinfurt):
    assert book(steinfurt, at(next_weekday(1), 9)).status_code == 201
    part = calendar_part(mails(app)[-1])
    assert part.get_content_charset() == "utf-8"
    assert part.get_param("method") == "PUBLISH"
    ics = unfold(part.get_content())
    organizer = next(line for line in ics.splitlines() if line.startswith("ORGANIZER"))
    assert organizer.endswith(":mailto:buergerbuero@steinfurt.example")
    assert "Stadt Steinfurt" in organizer


def test_uids_cannot_be_guessed_from_one_another(app, steinfurt):
    day = next_weekday(1)
    book(steinfurt, at(day, 9), 0)
    book(steinfurt, at(day, 10), 1)
    uids = [re.search(r"^UID:(.+)$", unfold(calendar_part(m).get_content()), re.M).group(1).strip()
            for m in mails(app)]
    assert len(set(uids)) == 2
    for uid in uids:
        local = uid.split("@")[0]
        assert len(local) >= 32 and not re.search(r"appointment|steinfurt|\b[12]\b", local)


def test_a_cancellation_cancels_the_same_event(app, steinfurt):
    made = book(steinfurt, at(next_weekday(1), 9)).get_json()
    assert steinfurt.delete(f"/api/v1/appointments/{made['manage_token']}").status_code == 204
    first, cancelled = (calendar_part(m) for m in mails(app))
    assert cancelled.get_param("method") == "CANCEL"
    uid = re.search(r"^UID:.+$", unfold(first.get_content()), re.M).group(0)
    assert uid in unfold(cancelled.get_content())
    assert "METHOD:CANCEL" in cancelled.get_content() and "STATUS:CANCELLED" in cancelled.get_content()


def test_summer_time_begins_at_two_and_ends_at_three_in_the_time_zone(app, steinfurt):
    book(steinfurt, at(next_weekday(1), 9))
    ics = unfold(calendar_part(mails(app)[-1]).get_content())
    daylight = ics.split("BEGIN:DAYLIGHT", 1)[1].split("END:DAYLIGHT", 1)[0]
    standard = ics.split("BEGIN:STANDARD", 1)[1].split("END:STANDARD", 1)[0]
    assert re.search(r"DTSTART:\d{8}T020000", daylight) and "TZOFFSETFROM:+0100" in daylight
    assert re.search(r"DTSTART:\d{8}T030000", standard) and "TZOFFSETFROM:+0200" in standard


def test_an_independent_parser_reads_the_same_event(app, steinfurt):
    start = at(next_weekday(1), 9, 30)
    made = book(steinfurt, start).get_json()
    steinfurt.delete(f"/api/v1/appointments/{made['manage_token']}")
    for mail in mails(app):
        stream = IcsCalendarStream.from_ics(calendar_part(mail).get_content())
        [cal] = stream.calendars
        [event] = cal.events
        assert event.dtstart == start and event.organizer is not None
        assert event.uid and event.sequence is not None
        assert [tz.tz_id for tz in cal.timezones] == ["Europe/Berlin"]
