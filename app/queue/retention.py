"""Retention for the queue: after `retention_days`, a walk-in's name is erased; the
ticket, service and times stay, anonymous, for the statistics."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from app.extensions import db
from app.queue.models import QueueEntry


def anonymize_entries(cutoff: datetime, now: datetime) -> int:
    return db.session.execute(
        update(QueueEntry).where(QueueEntry.checked_in_at < cutoff, QueueEntry.anonymized_at.is_(None))
        .values(name="", anonymized_at=now).execution_options(synchronize_session=False)).rowcount
