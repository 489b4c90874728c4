"""The current time, in one place so tests can move it (monkeypatch `app.clock.now`)."""
from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)


def column_now() -> datetime:
    """For column defaults: `now` looked up at each call, so a test that moves the clock
    moves the defaults too (a default bound to `now` itself would keep the real clock)."""
    return now()
