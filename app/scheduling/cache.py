"""Reuse computed slots until the office's bookable time changes.

Every flush that adds, removes or reschedules an appointment, or changes opening hours,
closures, counters or which counters serve a service, raises the office's
`schedule_version` in the same transaction. Computed slots are kept per process under
a key that holds that version, the policy, the service's duration and the day window;
a hit only drops the starts that the passing of time has made too early. The booking
itself never reads from here: it re-checks under its lock.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from app.booking.models import Appointment
from app.catalog.models import ServiceCounter
from app.offices.models import Closure, Counter, OpeningHours, Office

MAX_ENTRIES = 2048
_entries: OrderedDict = OrderedDict()
_lock = threading.Lock()
_offices = Office.__table__

# Appointment changes that move bookable time (not reminders, holds, names).
_APPOINTMENT_FIELDS = ("starts_at", "ends_at", "counter_id", "status", "overbooked")


_DIRTY = "schedule_changed_in_transaction"


def usable(session: Session) -> bool:
    """False while the session's transaction holds schedule changes of its own."""
    return not session.info.get(_DIRTY)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_over(session: Session) -> None:
    session.info.pop(_DIRTY, None)


def version(connection, office_id: int) -> int:
    return connection.execute(select(_offices.c.schedule_version).where(_offices.c.id == office_id)).scalar_one()


def get(key):
    with _lock:
        hit = _entries.get(key)
        if hit is not None:
            _entries.move_to_end(key)
        return hit


def put(key, value) -> None:
    with _lock:
        _entries[key] = value
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


def clear() -> None:
    with _lock:
        _entries.clear()


def _touches_schedule(obj, is_dirty: bool) -> bool:
    if not is_dirty or not isinstance(obj, Appointment):
        return True
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in _APPOINTMENT_FIELDS)


@event.listens_for(Session, "before_flush")
def _raise_versions(session: Session, flush_context, instances) -> None:
    office_ids: set[int] = set()
    tenants: set[int] = set()
    for objs, dirty in ((session.new, False), (session.dirty, True), (session.deleted, False)):
        for obj in objs:
            if isinstance(obj, (Appointment, Closure, OpeningHours, Counter)) and _touches_schedule(obj, dirty):
                if obj.office_id is not None:
                    office_ids.add(obj.office_id)
            elif isinstance(obj, ServiceCounter) and obj.tenant_id is not None:
                tenants.add(obj.tenant_id)  # rare: a service's counters changed
    if not office_ids and not tenants:
        return
    # Until this transaction ends, what it computes includes its own uncommitted changes
    # under a version that a rollback takes back: such results are never shared.
    session.info[_DIRTY] = True
    condition = _offices.c.id.in_(sorted(office_ids))
    if tenants:
        condition = condition | _offices.c.tenant_id.in_(sorted(tenants))
    session.connection().execute(
        update(_offices).where(condition).values(schedule_version=_offices.c.schedule_version + 1)
    )
