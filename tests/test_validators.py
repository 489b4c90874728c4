"""The input checks every surface shares (app/validators.py): here the one start parser
the citizen links and the back office's slot lists go through."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from app.validators import parse_start

BERLIN = ZoneInfo("Europe/Berlin")
NINE_IN_WINTER = datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc)  # 09:00 in Berlin


def test_a_start_with_its_offset_is_read_as_that_instant_in_utc():
    for value in ("2026-12-03T09:00:00+01:00", "2026-12-03T08:00:00+00:00", " 2026-12-03T09:00+01:00 "):
        assert parse_start(value) == NINE_IN_WINTER
        assert parse_start(value).tzinfo == timezone.utc


def test_a_plus_turned_into_a_space_is_put_back():
    assert parse_start("2026-12-03T09:00:00 01:00") == NINE_IN_WINTER


def test_without_an_offset_the_local_zone_decides_or_it_is_refused():
    assert parse_start("2026-12-03T09:00:00", BERLIN) == NINE_IN_WINTER
    assert parse_start("2026-07-03T09:00:00", BERLIN) == datetime(2026, 7, 3, 7, 0, tzinfo=timezone.utc)
    assert parse_start("2026-12-03T09:00:00") is None


def test_anything_else_is_none():
    for value in (None, "", "soon", "2026-13-03T09:00:00+01:00", "2026-12-03T09:00:00+01:00" + " " * 20):
        assert parse_start(value, BERLIN) is None
