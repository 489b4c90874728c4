"""Back-office sessions held on the server.

The signed cookie carries a random token; its hash is a row in `user_sessions`. A
request is logged in only while that row is open, younger than the absolute limit and
used within the idle limit — so logout, a password change or "end this session" on
another device take effect at once, and a copied cookie is worth nothing afterwards.
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.exc import OperationalError

from app import clock
from app.accounts.models import UserSession
from app.extensions import SQLITE_BUSY_MS, db
from app.tenancy.scope import all_tenants, tenant_scope

log = logging.getLogger(__name__)
IDLE = timedelta(minutes=60)  # BACKOFFICE_IDLE_MINUTES overrides
ABSOLUTE = timedelta(hours=12)  # a working day; BACKOFFICE_MAX_HOURS overrides
# last_seen_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_limit() -> timedelta:
    minutes = current_app.config.get("BACKOFFICE_IDLE_MINUTES")
    return timedelta(minutes=minutes) if minutes else IDLE


def absolute_limit() -> timedelta:
    hours = current_app.config.get("BACKOFFICE_MAX_HOURS")
    return timedelta(hours=hours) if hours else ABSOLUTE


_BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"),
            ("Mac OS X", "macOS"), ("Linux", "Linux"))


def agent_label(user_agent: str | None) -> str:
    """"Firefox, Windows" — enough to recognise a device, nothing more is kept."""
    ua = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in ua), "")
    system = next((name for token, name in _SYSTEMS if re.search(re.escape(token), ua)), "")
    return ", ".join(p for p in (browser, system) if p) or "unbekanntes Gerät"


def open_session(user_id: int, user_agent: str | None = None) -> str:
    """A new session of `user_id` on the current tenant; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(UserSession(user_id=user_id, token_hash=_hash(token), created_at=now, last_seen_at=now,
                               agent=agent_label(user_agent)))
    db.session.flush()
    return token


def find_open(token: str | None, user_id: int) -> UserSession | None:
    """The open session of `user_id` on this tenant with `token`, within both time limits.
    Refreshes last_seen_at (at most once a minute) on a connection of its own, so a page
    that only reads still counts as activity."""
    if not token or len(token) > 100:
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token),
                                                      UserSession.user_id == user_id))
    now = clock.now()
    if row is None or row.ended_at is not None:
        return None
    if now - row.created_at > absolute_limit() or now - row.last_seen_at > idle_limit():
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        _touch(row.id, row.tenant_id, now)
        row.last_seen_at = now
    return row


def _touch(session_id: int, tenant_id: int, now: datetime) -> None:
    # Its own short ORM session under the tenant scope (the scoped select and the flush check,
    # as every write): the request's own transaction may be read-only and rolled back. It
    # must never wait for the request itself: on SQLite the request may already hold the one
    # write lock (a booking that renders a mail loads the user late), so the touch does not
    # wait for any lock and is skipped when it would; a missed touch costs a minute of idle time.
    try:
        with tenant_scope(tenant_id), db.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            conn.exec_driver_sql("PRAGMA busy_timeout=0" if sqlite else "SET LOCAL lock_timeout = '200ms'")
            try:
                with Session(bind=conn) as own:
                    row = own.get(UserSession, session_id)
                    if row is not None:
                        row.last_seen_at = now
                    own.commit()
                conn.commit()
            finally:
                if sqlite:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    except OperationalError:
        log.info("session refresh skipped: the database was busy")


def end(session_row: UserSession) -> None:
    if session_row.ended_at is None:
        session_row.ended_at = clock.now()
    db.session.flush()


def end_by_token(token: str | None) -> None:
    """Logout: the session behind this cookie token is over, whoever holds a copy."""
    if not token:
        return
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _hash(token)))
    if row is not None:
        end(row)


def end_all(user_id: int, *, keep: int | None = None) -> int:
    """End every open session of the user on every tenant (a password change, a reset),
    except `keep`; returns how many were ended."""
    with all_tenants():
        stmt = (update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
                .values(ended_at=clock.now()))
        if keep is not None:
            stmt = stmt.where(UserSession.id != keep)
        result = db.session.execute(stmt, execution_options={"synchronize_session": False})
    db.session.flush()
    return result.rowcount or 0


def open_sessions(user_id: int) -> list[UserSession]:
    """The user's sessions on this tenant that still count, newest first."""
    now = clock.now()
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user_id,
                                                        UserSession.ended_at.is_(None))
                              .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc()))
    return [r for r in rows if now - r.created_at <= absolute_limit() and now - r.last_seen_at <= idle_limit()]


def session_of(user_id: int, session_id: int) -> UserSession | None:
    """One of the user's own sessions on this tenant; another user's or tenant's is None."""
    return db.session.scalar(select(UserSession).where(UserSession.id == session_id,
                                                       UserSession.user_id == user_id))


def is_current(row: UserSession, token: str | None) -> bool:
    return bool(token) and row.token_hash == _hash(token)
