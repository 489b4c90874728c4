"""What happened to appointments in one transaction: booked, moved, cancelled, checked
in, completed, no-show — worked out at commit from each appointment's state before the
transaction and after it, whichever code path (API, pages, back office, jobs) changed it.

Subscribers get the events twice: `before_commit` inside the transaction (webhooks write
their outbox rows there, so an event and its delivery commit together) and
`after_commit` once it stands (metrics count only what really happened).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import event as sa_event
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.booking.models import Appointment
from app.tenancy.models import Tenant

EVENTS = ("booked", "moved", "cancelled", "checked_in", "completed", "no_show")
_SEEN = "appointment_events_seen"
_DONE = "appointment_events_done"


@dataclass(frozen=True)
class AppointmentEvent:
    event: str
    tenant_id: int
    tenant_slug: str
    appointment_id: int
    source: str


@dataclass
class _Before:
    new: bool
    status: str | None
    starts_at: object
    held: bool


_before_commit: list[Callable[[Session, list[AppointmentEvent]], None]] = []
_after_commit: list[Callable[[list[AppointmentEvent]], None]] = []


def subscribe(*, before_commit=None, after_commit=None) -> None:
    if before_commit is not None and before_commit not in _before_commit:
        _before_commit.append(before_commit)
    if after_commit is not None and after_commit not in _after_commit:
        _after_commit.append(after_commit)


def _committed(appt: Appointment, attr: str):
    history = inspect(appt).attrs[attr].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(appt, attr)


def _remember(session: Session) -> None:
    """The state each appointment had when this transaction first touched it."""
    seen = session.info.setdefault(_SEEN, {})
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, Appointment) or id(obj) in seen:
            continue
        if obj in session.new:
            seen[id(obj)] = (obj, _Before(new=True, status=None, starts_at=None, held=False))
        else:
            seen[id(obj)] = (obj, _Before(new=False, status=_committed(obj, "status"),
                                          starts_at=_committed(obj, "starts_at"),
                                          held=_committed(obj, "hold_expires_at") is not None))


def events_of(before: _Before, appt: Appointment) -> list[str]:
    held = appt.hold_expires_at is not None
    if before.new or before.held:
        # Announced once the booking stands: at once, or when the citizen confirms a hold.
        return ["booked"] if appt.status == "booked" and not held else []
    if appt.status != before.status:
        return [appt.status] if appt.status in EVENTS else []
    if appt.status == "booked" and appt.starts_at != before.starts_at:
        return ["moved"]
    return []


def _tenant_slugs(session: Session, ids: set[int]) -> dict[int, str]:
    return dict(session.execute(select(Tenant.id, Tenant.slug).where(Tenant.id.in_(ids))).all())


@sa_event.listens_for(Session, "before_flush")
def _before_flush(session, flush_context, instances) -> None:
    _remember(session)


@sa_event.listens_for(Session, "before_commit")
def _collect(session: Session) -> None:
    if session.in_nested_transaction():
        return
    _remember(session)
    seen = session.info.pop(_SEEN, {})
    if not seen:
        return
    session.flush()  # ids for new appointments
    found = [(appt, name) for appt, before in seen.values() for name in events_of(before, appt)]
    if not found:
        return
    slugs = _tenant_slugs(session, {appt.tenant_id for appt, _ in found})
    events = [AppointmentEvent(name, appt.tenant_id, slugs.get(appt.tenant_id, ""), appt.id, appt.source)
              for appt, name in found]
    for handler in _before_commit:
        handler(session, events)
    session.info[_DONE] = events


@sa_event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    if session.in_nested_transaction():
        return
    events = session.info.pop(_DONE, None)
    for handler in _after_commit if events else ():
        handler(events)


@sa_event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_SEEN, None)
        session.info.pop(_DONE, None)
