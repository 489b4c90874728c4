"""Reuse computed slots until the office's bookable time changes.

Every flush that adds, removes or reschedules an appointment, or changes opening hours,
closures, counters or which counters serve a service, raises the office's
`schedule_version` in the same transaction, at the end of that flush (its row lock is
held for the fewest statements). Computed slots are kept per process under a key that
holds that version, the policy, the service's duration and the day window; a hit only
drops the starts that the passing of time has made too early. The booking itself never
reads from here: it re-checks under its lock.

The same flush also collects what the shared cache in Redis must hear of (app/shared_cache.py):
the offices whose version it raised, and whether a tenant, an office, a service or a
service's counters changed; they are published after the commit, never before.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from app import shared_cache
from app.booking.models import Appointment
from app.catalog.models import Service, ServiceCounter
from app.offices.models import Closure, Counter, Entrance, OpeningHours, Office
from app.tenancy.models import Tenant, TenantHost

MAX_ENTRIES = 2048
_entries: OrderedDict = OrderedDict()
_lock = threading.Lock()
_offices = Office.__table__

# Appointment changes that move bookable time (not reminders, holds, names).
_APPOINTMENT_FIELDS = ("starts_at", "ends_at", "counter_id", "status", "overbooked")


_DIRTY = "schedule_changed_in_transaction"
_PUBLISH = "shared_cache_raises"  # (office ids, tenants changed) to publish after commit
# Changes every process must see at once: the tenants version of app/shared_cache.py.
_TENANT_WIDE = (Tenant, TenantHost, Office, Entrance, Service, ServiceCounter)  # entrances: the service page


def usable(session: Session) -> bool:
    """False while the session's transaction holds schedule changes of its own."""
    return not session.info.get(_DIRTY)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_over(session: Session) -> None:
    session.info.pop(_DIRTY, None)


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    # Only after a commit: a rolled-back savepoint's raises wait for the outer commit
    # (published then, harmless if nothing of them was kept).
    raised = session.info.pop(_PUBLISH, None)
    if raised is not None:
        shared_cache.publish(raised[0], raised[1][0])


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


@event.listens_for(Session, "after_flush")
def _raise_versions(session: Session, flush_context) -> None:
    # After the flush's own statements, still inside it (new/dirty/deleted and their history
    # still show what it wrote): the office row's lock is taken as late as the flush allows,
    # so it is held for the fewest statements until the commit; a flush that fails (a lost
    # race on the overlap guard) takes no lock at all.
    office_ids: set[int] = set()
    tenants: set[int] = set()
    tenant_wide = False
    for objs, dirty in ((session.new, False), (session.dirty, True), (session.deleted, False)):
        for obj in objs:
            if isinstance(obj, (Appointment, Closure, OpeningHours, Counter)) and _touches_schedule(obj, dirty):
                if obj.office_id is not None:
                    office_ids.add(obj.office_id)
            elif isinstance(obj, ServiceCounter) and obj.tenant_id is not None:
                tenants.add(obj.tenant_id)  # rare: a service's counters changed
            if isinstance(obj, _TENANT_WIDE) and (not dirty or session.is_modified(obj, include_collections=False)):
                tenant_wide = True
    if tenant_wide:
        raised = session.info.setdefault(_PUBLISH, (set(), [False]))
        raised[1][0] = True
    if not office_ids and not tenants:
        return
    # Until this transaction ends, what it computes includes its own uncommitted changes
    # under a version that a rollback takes back: such results are never shared.
    session.info[_DIRTY] = True
    condition = _offices.c.id.in_(sorted(office_ids))
    if tenants:
        condition = condition | _offices.c.tenant_id.in_(sorted(tenants))
    changed = session.connection().execute(
        update(_offices).where(condition).values(schedule_version=_offices.c.schedule_version + 1)
        .returning(_offices.c.id)
    ).scalars().all()
    session.info.setdefault(_PUBLISH, (set(), [False]))[0].update(changed)
