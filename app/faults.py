"""A dependency that is away: which errors mean "the database is not there right now",
and how a unit of work leaves nothing broken behind it.

Such an error is no bug of ours and no fault of the client's: the answer is a 503 with
`Retry-After`, the session is rolled back and its connection discarded, and the next
unit of work starts on a fresh connection.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

from flask import Flask, request
from sqlalchemy import exc as sa_exc

from app.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

# Connection refused or lost, a lock not granted within lock_timeout, a statement
# cancelled by the server, the pool exhausted.
DB_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError,
)


def db_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, DB_UNAVAILABLE):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    # A session left failed by such an error (a job that did not clean up after itself).
    return isinstance(exc, sa_exc.PendingRollbackError)


def retry_safe(exc: BaseException) -> bool:
    """The connection broke under the statement (cut, server restarted): a read may run
    again at once on a fresh one. A lock not granted in time is not retried: it would
    only wait as long again."""
    return isinstance(exc, sa_exc.InterfaceError) or (
        isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated)


def discard_session() -> None:
    """Roll back and let go of the session's connection; a broken connection is dropped
    from the pool (SQLAlchemy invalidates it), a healthy one goes back to it clean."""
    session = db.session
    try:
        session.rollback()
    except Exception:  # the connection is gone: nothing left to roll back
        log.debug("rollback failed on a lost connection")
    try:
        session.close()
    except Exception:
        log.debug("close failed on a lost connection")


def with_db_retries(work: Callable[[], T], *, for_seconds: float = 90.0) -> T:
    """Run `work` (which commits) until the database takes it, on a fresh connection
    each time; gives up after `for_seconds` and raises the last error."""
    deadline = time.monotonic() + for_seconds
    delay = 0.1  # doubled after each try, up to 2 s
    while True:
        try:
            return work()
        except Exception as exc:
            if not db_unavailable(exc):
                raise
            discard_session()
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database unavailable; retrying", extra={"job": getattr(work, "__name__", "work")})
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def init_app(app: Flask) -> None:
    """Reads (GET, HEAD) whose connection broke under them run once more on a fresh one."""
    dispatch = app.dispatch_request

    def dispatch_with_one_retry():
        if request.method not in ("GET", "HEAD"):
            return dispatch()
        try:
            return dispatch()
        except Exception as exc:
            if not retry_safe(exc):
                raise
            log.info("connection lost under a read; retrying once",
                     extra={"path": request.url_rule.rule if request.url_rule else "-"})
            discard_session()
            return dispatch()

    app.dispatch_request = dispatch_with_one_retry
