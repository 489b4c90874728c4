"""Mail texts per tenant, and the outbox every mail passes through."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import db
from app.jobs.lease import Leased, lease_constraints
from app.tenancy.scope import TenantRow, tenant_ref

EVENTS = ("confirmation", "cancellation", "moved", "reminder", "waitlist_offer", "office_cancelled", "invitation",
          "confirm_request", "emergency_reply", "reconfirm_request", "reconfirm_released", "waitlist_joined",
          "link_resend", "draw_entered", "draw_lost")


class MailTemplate(TenantRow, db.Model):
    """A tenant's own text for one event and language; absent means inherited."""

    __tablename__ = "mail_templates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event", "lang"),
        CheckConstraint("lang IN ('de', 'en')", name="lang"),
    )

    event: Mapped[str] = mapped_column(String(30))
    lang: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    admin_edited: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=clock.column_now, onupdate=clock.column_now)


class OutboxMail(Leased, TenantRow, db.Model):
    """A mail written in the same transaction as the change it tells of.

    Delivery starts after the commit; a row marked sent is never sent again. While it is
    handed to the SMTP server it is `sending`, and `next_attempt_at` is the end of that lease.

    An appointment's mail is written unrendered (`subject` and the bodies NULL, `lang` and
    `context` set): the worker renders it from the current state when it first claims the
    row (`rendered_at`) and keeps the result, so a retry sends the same message; a mail the
    appointment no longer warrants then is `skipped`. Latency probe: `created_at` (queued,
    in the booking's transaction) to `sent_at` (the SMTP server took it).
    """

    __tablename__ = "outbox_mails"
    __table_args__ = (
        *lease_constraints("outbox_mails", extra_statuses=("skipped",)),
    )

    appointment_id: Mapped[int | None] = tenant_ref("appointments", "CASCADE", index=True)
    event: Mapped[str] = mapped_column(String(30))
    to_addr: Mapped[str] = mapped_column(String(254))
    from_addr: Mapped[str | None] = mapped_column(String(300))
    reply_to: Mapped[str] = mapped_column(String(254), default="")
    subject: Mapped[str | None] = mapped_column(String(300))
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(5))
    context: Mapped[dict | None] = mapped_column(JSON)  # an unrendered mail's own placeholders
    rendered_at: Mapped[datetime | None] = mapped_column()
    ics: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    sent_at: Mapped[datetime | None] = mapped_column()
