"""Accessibility feedback: what a citizen reports through the form of the accessibility
statement, tracked in the back office until it is answered (BITV 2.0 § 7, the states' laws)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import db
from app.tenancy.scope import TenantRow, tenant_key


class AccessibilityFeedback(TenantRow, db.Model):
    __tablename__ = "accessibility_feedback"
    __table_args__ = (
        tenant_key(),
        CheckConstraint("status IN ('received', 'answered')", name="status"),
        Index("ix_accessibility_feedback_tenant_status", "tenant_id", "status", "due_on"),
    )

    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    page: Mapped[str] = mapped_column(String(300), default="")
    message: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(5), default="de")
    status: Mapped[str] = mapped_column(String(20), default="received")
    received_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    due_on: Mapped[date] = mapped_column()
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column()
    answered_by: Mapped[str] = mapped_column(String(254), default="")
