""""Something changed in this office's queue", told to every web process.

On PostgreSQL the signal is a NOTIFY sent inside the transaction that made the change,
so it is delivered when (and only if) that commits; a waiting screen's request LISTENs
for it on a connection of its own. On SQLite (one machine, the embedded default) the
waiting request looks at the database twice a second instead. Either way a screen hears
of a call within about a second, and a screen without JavaScript refreshes itself.
"""
from __future__ import annotations

import time
from typing import Callable

from sqlalchemy import text

from app.extensions import db

CHANNEL = "amtstermin_queue"
POLL_SECONDS = 0.5


def _payload(tenant_id: int, office_id: int) -> str:
    return f"{tenant_id}:{office_id}"


def changed(office) -> None:
    """Signal a change of `office`'s queue once the current transaction commits."""
    if office is None or db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(text("SELECT pg_notify(:channel, :payload)"),
                       {"channel": CHANNEL, "payload": _payload(office.tenant_id, office.id)})


def wait_for_change(tenant_id: int, office_id: int, version: Callable[[], object], seen: object,
                    timeout: float) -> bool:
    """Block until the office's queue differs from `seen` (as `version()` tells) or
    `timeout` seconds passed; True when it changed. `version` runs in its own short
    transaction each time, so no snapshot or lock is held while waiting."""
    deadline = time.monotonic() + timeout
    if version() != seen:
        return True
    if db.engine.dialect.name == "postgresql":
        return _listen(tenant_id, office_id, version, seen, deadline)
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        if version() != seen:
            return True
    return False


def _listen(tenant_id: int, office_id: int, version, seen, deadline: float) -> bool:
    wanted = _payload(tenant_id, office_id)
    raw = db.engine.raw_connection()
    try:
        pg = raw.driver_connection  # psycopg 3
        pg.autocommit = True
        pg.execute(f"LISTEN {CHANNEL}")
        # A change committed between the first look and LISTEN: look once more.
        if version() != seen:
            return True
        while (left := deadline - time.monotonic()) > 0:
            for note in pg.notifies(timeout=min(left, 5.0), stop_after=1):
                if note.payload == wanted:
                    return True
            # Every few seconds (and on a stray notification) the database is asked:
            # a notification lost with a dropped connection costs at most that.
            if version() != seen:
                return True
        return False
    finally:
        try:
            pg.execute(f"UNLISTEN {CHANNEL}")
            pg.autocommit = False
        except Exception:  # a broken connection is thrown away by the pool
            pass
        raw.close()


