"""What happened to appointments in one transaction: booked, moved, cancelled, checked
in, completed, no-show — worked out at commit from each appointment's state before the
transaction and after it, whichever code path (API, pages, back office, jobs) changed it.

Subscribers get the events twice: `before_commit` inside the transaction (webhooks write
their outbox rows there, so an event and its delivery commit together) and
`after_commit` once it stands (metrics count only what really happened). The states come
from app/changes.py, the one follower of the session that the statistics use as well.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import g, has_request_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import changes
from app.booking.models import Appointment
from app.tenancy.models import Tenant

EVENTS = ("booked", "moved", "cancelled", "checked_in", "completed", "no_show")
_DONE = "appointment_events_done"


@dataclass(frozen=True)
class AppointmentEvent:
    event: str
    tenant_id: int
    tenant_slug: str
    appointment_id: int
    source: str


_before_commit: list[Callable[[Session, list[AppointmentEvent]], None]] = []
_after_commit: list[Callable[[list[AppointmentEvent]], None]] = []


def subscribe(*, before_commit=None, after_commit=None) -> None:
    if before_commit is not None and before_commit not in _before_commit:
        _before_commit.append(before_commit)
    if after_commit is not None and after_commit not in _after_commit:
        _after_commit.append(after_commit)


def events_of(before: dict | None, appt: Appointment) -> list[str]:
    """What happened to `appt` since the transaction began; `before` None for a new one."""
    held = appt.hold_expires_at is not None
    if before is None or before["hold_expires_at"] is not None:
        # Announced once the booking stands: at once, or when the citizen confirms a hold.
        return ["booked"] if appt.status == "booked" and not held else []
    if appt.status != before["status"]:
        return [appt.status] if appt.status in EVENTS else []
    if appt.status == "booked" and appt.starts_at != before["starts_at"]:
        return ["moved"]
    return []


def _tenant_slugs(session: Session, ids: set[int]) -> dict[int, str]:
    """Slugs by tenant id: a request's own tenant is known already (no statement for it)."""
    current = g.get("tenant") if has_request_context() else None
    known = {current.id: current.slug} if current is not None and current.id in ids else {}
    missing = ids - known.keys()
    if missing:
        known.update(session.execute(select(Tenant.id, Tenant.slug).where(Tenant.id.in_(missing))).all())
    return known


def _collect(session: Session, changed: list[changes.Change]) -> None:
    found = [(c.obj, name) for c in changed if isinstance(c.obj, Appointment) for name in events_of(c.before, c.obj)]
    if not found:
        return
    slugs = _tenant_slugs(session, {appt.tenant_id for appt, _ in found})
    events = [AppointmentEvent(name, appt.tenant_id, slugs.get(appt.tenant_id, ""), appt.id, appt.source)
              for appt, name in found]
    for handler in _before_commit:
        handler(session, events)
    session.info[_DONE] = events


def _publish(session: Session) -> None:
    events = session.info.pop(_DONE, None)
    for handler in _after_commit if events else ():
        handler(events)


def _forget(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_DONE, None)


changes.follow(Appointment, ("status", "starts_at", "hold_expires_at"))
changes.on_commit(before_commit=_collect, after_commit=_publish)
changes.on_end(_forget)
