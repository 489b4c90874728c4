"""One commit per unit of work; jobs registered during it run only after it commits."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)
_KEY = "after_commit_jobs"


def after_commit(func_path: str, *args: Any) -> None:
    """Run `func_path(*args)` once the current transaction has committed (never before)."""
    db.session.info.setdefault(_KEY, []).append((func_path, args))


def commit() -> None:
    session = db.session
    session.commit()
    jobs = session.info.pop(_KEY, [])
    if jobs:
        from app.jobs.queue import dispatch

        for func_path, args in jobs:
            dispatch(func_path, *args)


@event.listens_for(Session, "after_rollback")
def _forget_jobs(session: Session) -> None:
    session.info.pop(_KEY, None)
