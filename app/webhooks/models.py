"""A tenant's webhook endpoints and the deliveries waiting for or done to them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.jobs.lease import Leased, lease_constraints
from app.tenancy.scope import TenantRow, tenant_key, tenant_ref


class WebhookEndpoint(TenantRow, db.Model):
    """Where a town's other system wants to hear of appointment events; `events` empty means all."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        tenant_key(),
        CheckConstraint("url <> ''", name="url_not_empty"),
    )

    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    # The last attempt, for the back office: "" (none yet), "ok" or "failing".
    last_status: Mapped[str] = mapped_column(String(20), default="")
    last_response: Mapped[int | None] = mapped_column()
    last_attempt_at: Mapped[datetime | None] = mapped_column()

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or event in self.events)


class WebhookDelivery(Leased, TenantRow, db.Model):
    """One event for one endpoint, written in the event's transaction. Posted under a
    short lease (`status` 'sending', `next_attempt_at` its end; app/jobs/lease.py)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        *lease_constraints("webhook_deliveries"),
    )

    endpoint_id: Mapped[int] = tenant_ref("webhook_endpoints", "CASCADE", index=True)
    event: Mapped[str] = mapped_column(String(30))
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    last_response: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    sent_at: Mapped[datetime | None] = mapped_column()

    endpoint = relationship(WebhookEndpoint, foreign_keys=[endpoint_id],
                            primaryjoin="and_(WebhookDelivery.endpoint_id == WebhookEndpoint.id, "
                                        "WebhookDelivery.tenant_id == WebhookEndpoint.tenant_id)", viewonly=True)
