"""Keeping the figures up to date, whichever code path changes an appointment.

After every flush, each changed appointment, queue entry (check-in, call, finish),
waiting-list entry and emergency request is
compared with its state before the flush: what it contributes to the figures now minus
what it contributed before is written as anonymous delta rows, on the same connection and
so in the same transaction as the change (rolled back with it; never counted for a booking
that did not happen). Summed over flushes the differences telescope, so however many
times a transaction flushes, an appointment counts once, in its final state.

Deltas are append-only: a rush of bookings never waits on one hot statistics row. The
fold (`fold_deltas`) adds them into `statistics_days` and deletes them in one
transaction, so each delta is counted exactly once even when the fold runs twice; it
runs right after each such commit as a job and in every sweep of the due work.

Deletions are not subtracted: retention deletes waiting-list entries and anonymises the
rest, and the figures of those days stay.
"""
from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import changes, clock
from app.booking.models import Appointment, EmergencyRequest, WaitlistEntry
from app.queue.models import QueueEntry
from app.catalog.models import Service
from app.extensions import db
from app.scheduling.calendar import zone
from app.statistics.models import FIGURES, StatisticsDay, StatisticsDelta
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants
from app.transaction import after_commit

log = logging.getLogger(__name__)

_OFFICE_CANCELLED = "statistics_cancelled_by_office"
_FOLD_QUEUED = "statistics_fold_queued"
FOLD_JOB = "app.statistics.tracking.fold_deltas"
FOLD_LOCK = int.from_bytes(hashlib.blake2b(b"statistics-fold", digest_size=8).digest(), "big", signed=True)

# The attributes a contribution reads (followed through app/changes.py, which knows each
# one's value before a flush).
APPOINTMENT_ATTRS = ("status", "source", "office_id", "service_id", "starts_at", "ends_at", "created_at",
                     "cancelled_at", "persons", "hold_expires_at", "sequence", "reconfirm_sent_at",
                     "reconfirmed_at", "released_at")
QUEUE_ATTRS = ("kind", "status", "day", "office_id", "service_id", "appointment_id", "checked_in_at", "called_at",
               "last_called_at", "finished_at")
WAITLIST_ATTRS = ("service_id", "status", "created_at", "offered_at")
EMERGENCY_ATTRS = ("service_id", "created_at", "answered_at", "status")

Key = tuple  # (tenant_id, day, office_id, service_id, source)
RECONFIRM_FIGURES = (("reconfirm_sent_at", "reconfirm_sent"), ("reconfirmed_at", "reconfirm_confirmed"),
                     ("released_at", "reconfirm_released"))


def mark_cancelled_by_office(appt: Appointment) -> None:
    """Called by `cancel()` when the office, not the citizen, cancels."""
    db.session.info.setdefault(_OFFICE_CANCELLED, set()).add(id(appt))


# --- what one row contributes ------------------------------------------------------------

def _day(moment: datetime | None, tz) -> Any:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(tz).date()


def _minutes(a: datetime, b: datetime) -> int:
    return max(0, round((b - a).total_seconds() / 60))


def appointment_contribution(s: dict, tz) -> dict[tuple, dict[str, int]]:
    """What an appointment in state `s` adds to the figures, per (day, office, service, source)."""
    out: dict[tuple, dict[str, int]] = defaultdict(dict)
    if s["status"] == "booked" and s["hold_expires_at"] is not None:
        return out  # held until the citizen confirms: not yet a booking
    if s["status"] == "cancelled" and not s["sequence"]:
        return out  # a hold that lapsed unconfirmed (cancel() always raises the sequence)
    dims = (s["office_id"], s["service_id"], s["source"])
    made = out[(_day(s["created_at"], tz), *dims)]
    made["bookings"] = 1
    made["lead_minutes"] = _minutes(s["created_at"], s["starts_at"])
    # Reconfirmation: asked, answered "Ja, ich komme", released unanswered (each on its day).
    for attr, figure in RECONFIRM_FIGURES:
        if s.get(attr) is not None:
            out[(_day(s[attr], tz), *dims)][figure] = 1
    if s["status"] == "cancelled":
        out[(_day(s["cancelled_at"] or s["starts_at"], tz), *dims)]["cancelled"] = 1
        return out
    held = out[(_day(s["starts_at"], tz), *dims)]
    held["appointments"] = 1
    held["booked_minutes"] = _minutes(s["starts_at"], s["ends_at"])
    held["persons"] = s["persons"] or 1
    # A visit counts each of its services with its count, under that service.
    for service_id, count in s.get("items") or ((s["service_id"], 1),):
        out[(_day(s["starts_at"], tz), s["office_id"], service_id, s["source"])]["services"] = count
    if s["status"] == "no_show":
        held["no_shows"] = 1
    if s["status"] in ("checked_in", "completed"):
        held["checked_in"] = 1
    if s["status"] == "completed":
        held["completed"] = 1
    return out


def queue_contribution(s: dict, source: str) -> dict[tuple, dict[str, int]]:
    """An entry of the office queue: a checked-in appointment or a walk-in's ticket.
    Waiting time = first call − check-in; service time = finish − the last call. Both are
    counted once the entry is done (finished or missed): the call itself is a bulk UPDATE
    (so two counters never call one person), which no flush sees."""
    out: dict[tuple, dict[str, int]] = defaultdict(dict)
    figures = out[(s["day"], s["office_id"], s["service_id"], source)]
    if s["kind"] == "walk_in":
        figures["bookings"] = 1  # a ticket is the walk-in's way in, counted among the bookings by source
        if s["status"] == "finished":
            figures["walk_ins_served"] = 1
    if s["status"] not in ("finished", "missed"):
        return out
    if s["called_at"] is not None:
        figures["waited"] = 1
        figures["wait_seconds"] = max(0, round((s["called_at"] - s["checked_in_at"]).total_seconds()))
    if s["finished_at"] is not None:
        figures["served"] = 1
        figures["service_seconds"] = max(0, round(
            (s["finished_at"] - (s["last_called_at"] or s["called_at"] or s["finished_at"])).total_seconds()))
    if s["status"] == "missed":
        figures["queue_missed"] = 1
    return out


def waitlist_contribution(s: dict, office_id: int, tz) -> dict[tuple, dict[str, int]]:
    out: dict[tuple, dict[str, int]] = defaultdict(dict)
    dims = (office_id, s["service_id"], "online")
    out[(_day(s["created_at"], tz), *dims)]["waitlist_entries"] = 1
    if s["offered_at"] is not None:
        offered = out[(_day(s["offered_at"], tz), *dims)]
        offered["waitlist_offers"] = 1
        if s["status"] == "booked":
            offered["waitlist_taken"] = 1
    return out


def emergency_contribution(s: dict, office_id: int, tz) -> dict[tuple, dict[str, int]]:
    out: dict[tuple, dict[str, int]] = defaultdict(dict)
    asked = out[(_day(s["created_at"], tz), office_id, s["service_id"], "emergency")]
    asked["emergency_requests"] = 1
    if s["answered_at"] is not None:
        asked["emergency_answered"] = 1
        asked["emergency_answer_minutes"] = _minutes(s["created_at"], s["answered_at"])
    return out


# --- reading the state before and after a flush ---------------------------------------------

TRACKED = (Appointment, WaitlistEntry, EmergencyRequest, QueueEntry)


def visit_items(appt: Appointment) -> tuple[tuple[int, int], ...]:
    """A visit's (service, count) pairs; they do not change once booked (a move keeps them)."""
    return tuple((item.service_id, item.count) for item in appt.visit_items)


def _with_items(obj, state: dict | None) -> dict | None:
    if state is not None and isinstance(obj, Appointment):
        state = {**state, "items": visit_items(obj)}
    return state


def state_of(obj) -> dict:
    return _with_items(obj, changes.state_now(obj))


def _subtract(into: dict, contribution: dict, sign: int) -> None:
    for key, figures in contribution.items():
        for name, value in figures.items():
            if value:
                into.setdefault(key, defaultdict(int))[name] += sign * value


_tz_cache: dict[int, str] = {}


def _tz(conn, tenant_id: int):
    name = _tz_cache.get(tenant_id)
    if name is None:
        name = conn.execute(select(Tenant.timezone).where(Tenant.id == tenant_id)).scalar() or "Europe/Berlin"
        _tz_cache[tenant_id] = name
    return zone(name)


def _office_of(conn, tenant_id: int, service_id: int | None) -> int | None:
    if service_id is None:
        return None  # an emergency request without a service: no office to count it for
    return conn.execute(select(Service.office_id).where(Service.tenant_id == tenant_id,
                                                        Service.id == service_id)).scalar()


def queue_source(conn, tenant_id: int, s: dict) -> str:
    if s["kind"] == "walk_in" or s["appointment_id"] is None:
        return "walk_in"
    return conn.execute(select(Appointment.source).where(Appointment.tenant_id == tenant_id,
                                                         Appointment.id == s["appointment_id"])).scalar() or "online"


def _contribution(conn, obj, s: dict | None) -> dict:
    if s is None:
        return {}
    tz = _tz(conn, obj.tenant_id)
    if isinstance(obj, Appointment):
        return appointment_contribution(s, tz)
    if isinstance(obj, QueueEntry):
        return queue_contribution(s, queue_source(conn, obj.tenant_id, s))
    office_id = _office_of(conn, obj.tenant_id, s["service_id"])
    if office_id is None:
        return {}
    if isinstance(obj, WaitlistEntry):
        return waitlist_contribution(s, office_id, tz)
    return emergency_contribution(s, office_id, tz)


def _record_deltas(session: Session, changed: list[changes.Change]) -> None:
    conn = session.connection()
    by_office = session.info.get(_OFFICE_CANCELLED, set())
    deltas: dict[Key, dict[str, int]] = {}
    for change in changed:
        obj = change.obj
        if not isinstance(obj, TRACKED):
            continue
        before, after = _with_items(obj, change.before), _with_items(obj, change.after)
        by_key: dict[tuple, dict[str, int]] = {}
        _subtract(by_key, _contribution(conn, obj, after), +1)
        _subtract(by_key, _contribution(conn, obj, before), -1)
        if isinstance(obj, Appointment) and before is not None:
            _events(conn, obj, before, after, by_office, by_key)
        for (day, office_id, service_id, source), figures in by_key.items():
            if office_id is None or service_id is None:
                continue
            row = deltas.setdefault((obj.tenant_id, day, office_id, service_id, source), defaultdict(int))
            for name, value in figures.items():
                row[name] += value
    rows = [{"tenant_id": k[0], "day": k[1], "office_id": k[2], "service_id": k[3], "source": k[4],
             **{f: figures.get(f, 0) for f in FIGURES}}
            for k, figures in deltas.items() if any(figures.values())]
    if not rows:
        return
    conn.execute(insert(StatisticsDelta.__table__), rows)
    if not session.info.get(_FOLD_QUEUED):
        session.info[_FOLD_QUEUED] = True
        after_commit(FOLD_JOB)


def _events(conn, appt: Appointment, before: dict, after: dict, by_office: set, into: dict) -> None:
    """What the states alone do not tell: a move, and who cancelled."""
    tz = _tz(conn, appt.tenant_id)
    dims = (after["office_id"], after["service_id"], after["source"])
    if before["status"] != "cancelled" and after["status"] == "cancelled" and id(appt) in by_office:
        by_office.discard(id(appt))
        into.setdefault((_day(after["cancelled_at"] or clock.now(), tz), *dims), defaultdict(int))[
            "cancelled_by_office"] += 1
    if (before["starts_at"] is not None and before["starts_at"] != after["starts_at"]
            and before["status"] != "cancelled" and after["status"] != "cancelled"):
        into.setdefault((_day(clock.now(), tz), *dims), defaultdict(int))["moves"] += 1


def _forget(session: Session) -> None:
    session.info.pop(_FOLD_QUEUED, None)
    session.info.pop(_OFFICE_CANCELLED, None)


for _model, _attrs in zip(TRACKED, (APPOINTMENT_ATTRS, WAITLIST_ATTRS, EMERGENCY_ATTRS, QUEUE_ATTRS)):
    changes.follow(_model, _attrs)
changes.on_flush(_record_deltas)
changes.on_end(_forget)


# --- folding the deltas into the daily rows ------------------------------------------------

def _lock_for_fold(session) -> bool:
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": FOLD_LOCK}))
    session.execute(text("UPDATE tenants SET id = id WHERE 0"))  # SQLite's write lock
    return True


def upsert_days(session, rows: list[dict]) -> None:
    """Add `rows` (full figure dicts with their keys) onto `statistics_days`."""
    if not rows:
        return
    table = StatisticsDay.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for i in range(0, len(rows), 500):
        stmt = dialect.insert(table).values(rows[i:i + 500])
        stmt = stmt.on_conflict_do_update(
            index_elements=["tenant_id", "day", "office_id", "service_id", "source"],
            set_={f: table.c[f] + stmt.excluded[f] for f in FIGURES})
        session.execute(stmt)


FOLD_BATCH = 5000  # deltas folded per transaction


def fold_deltas() -> int:
    """Fold pending deltas into the daily rows; returns how many were folded. Only one fold
    runs at a time; another that finds the lock taken leaves the rest to the next run."""
    session = db.session
    table = StatisticsDelta.__table__
    folded = 0
    with all_tenants():
        while True:
            if not _lock_for_fold(session):
                session.rollback()
                return folded
            rows = session.execute(select(table).order_by(table.c.id).limit(FOLD_BATCH)).mappings().all()
            if not rows:
                session.rollback()
                return folded
            sums: dict[Key, dict[str, int]] = {}
            for r in rows:
                key = (r["tenant_id"], r["day"], r["office_id"], r["service_id"], r["source"])
                acc = sums.setdefault(key, dict.fromkeys(FIGURES, 0))
                for f in FIGURES:
                    acc[f] += r[f]
            upsert_days(session, [{"tenant_id": k[0], "day": k[1], "office_id": k[2], "service_id": k[3],
                                   "source": k[4], **v} for k, v in sorted(sums.items())])
            ids = [r["id"] for r in rows]
            for i in range(0, len(ids), 1000):
                session.execute(delete(table).where(table.c.id.in_(ids[i:i + 1000])))
            session.commit()
            folded += len(rows)
            if len(rows) < FOLD_BATCH:
                return folded
