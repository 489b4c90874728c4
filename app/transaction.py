"""One commit per unit of work; jobs registered during it run only after it commits."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.jobs.queue import dispatch

log = logging.getLogger(__name__)
_KEY = "after_commit_jobs"
_MARKS = "after_commit_savepoints"  # per open savepoint: how many jobs were registered before it


def after_commit(func_path: str, *args: Any) -> None:
    """Run `func_path(*args)` once the current transaction has committed (never before)."""
    db.session.info.setdefault(_KEY, []).append((func_path, args))


def claim(statement):
    """The row of `statement` for this worker alone, or None.

    PostgreSQL: locked, skipping a row another transaction already holds. SQLite: the
    database's write lock is taken first, so the statement's re-check sees every commit
    and no second worker gets past it until this transaction ends.
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(statement.with_for_update(skip_locked=True))
    # A write statement takes SQLite's write lock even when it matches nothing.
    session.execute(text("UPDATE tenants SET id = id WHERE 0"))
    return session.scalar(statement)


def claim_all(statement) -> list:
    """The rows of `statement` for this worker alone (as `claim`): rows another transaction
    holds are skipped on PostgreSQL."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(statement.with_for_update(skip_locked=True)))
    session.execute(text("UPDATE tenants SET id = id WHERE 0"))
    return list(session.scalars(statement))


def commit() -> None:
    session = db.session
    session.commit()
    jobs = session.info.pop(_KEY, [])
    if jobs:
        for func_path, args in jobs:
            dispatch(func_path, *args)


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction) -> None:
    if transaction.nested:  # what was registered before it survives its rollback
        session.info.setdefault(_MARKS, []).append(len(session.info.get(_KEY, [])))


@event.listens_for(Session, "after_transaction_end")
def _unmark_savepoint(session: Session, transaction) -> None:
    if transaction.nested and session.info.get(_MARKS):
        session.info[_MARKS].pop()


@event.listens_for(Session, "after_rollback")
def _forget_jobs(session: Session) -> None:
    marks = session.info.get(_MARKS)
    if session.in_nested_transaction() and marks:
        # A savepoint rolled back: only the jobs registered inside it are forgotten.
        del session.info.get(_KEY, [])[marks[-1]:]
        return
    session.info.pop(_KEY, None)
    session.info.pop(_MARKS, None)
