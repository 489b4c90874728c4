"""Audit log of every change made in the back office or by district IT."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import db
from app.tenancy.scope import TenantRow


class AuditEntry(TenantRow, db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_tenant_at", "tenant_id", "at"),)

    at: Mapped[datetime] = mapped_column(default=clock.column_now)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254))  # e-mail of the user, or "cli"
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str] = mapped_column(String(50), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


def record(action: str, obj_type: str, obj_id, *, actor: str, user_id: int | None = None,
           before: dict | None = None, after: dict | None = None) -> AuditEntry:
    entry = AuditEntry(action=action, object_type=obj_type, object_id=str(obj_id or ""), actor=actor,
                       user_id=user_id, before=before, after=after)
    db.session.add(entry)
    return entry


def entries(*, action: str | None = None, offset: int = 0, limit: int = 100) -> list[AuditEntry]:
    """The tenant's audit entries, newest first (only `action`'s when given), `limit` from `offset`."""
    q = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if action:
        q = q.where(AuditEntry.action == action)
    return list(db.session.scalars(q.offset(offset).limit(limit)))
