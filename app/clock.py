"""The current time, in one place so tests can move it (monkeypatch `app.clock.now`)."""
from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)
