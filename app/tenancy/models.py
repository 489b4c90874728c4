"""Tenants (the district and its towns) and the hosts they are reached on."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.i18n import Localized, pick

TENANT_STATUSES = ("draft", "pilot", "live", "disabled")
# Statuses in which citizens may book online.
BOOKABLE_STATUSES = ("pilot", "live")


class Tenant(db.Model):
    __tablename__ = "tenants"
    __table_args__ = (
        CheckConstraint("kind IN ('district', 'municipality')", name="kind"),
        CheckConstraint("status IN ('draft', 'pilot', 'live', 'disabled')", name="status"),
        # A district stands alone; a municipality always belongs to one.
        CheckConstraint(
            "(kind = 'district' AND parent_id IS NULL) OR (kind = 'municipality' AND parent_id IS NOT NULL)",
            name="parent_matches_kind",
        ),
        CheckConstraint("slug <> ''", name="slug_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    state: Mapped[str] = mapped_column(String(8), default="NW")
    contact_phone: Mapped[str] = mapped_column(String(64), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_hours: Mapped[str] = mapped_column(String(200), default="")
    contact_hours_en: Mapped[str] = mapped_column(String(200), default="", server_default="")  # empty: German
    # The authority's postal address as citizens read it (Impressum, privacy notice, footer).
    address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    status: Mapped[str] = mapped_column(String(20), default="pilot")
    # Only the values this tenant sets itself; the rest is inherited (see settings.py).
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # Texts a tenant may set (privacy notice, emergency info, branding); inherited like settings.
    texts: Mapped[dict] = mapped_column(JSON, default=dict)
    # Fields of the legal pages (Impressum, privacy notice, accessibility statement, Leichte
    # Sprache, sign language); inherited district → town except a tenant's own (app/legal).
    legal: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    # A district's template for new towns (office, entrance, counters, hours).
    template: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=clock.column_now, onupdate=clock.column_now,
                                                 server_default=func.now())

    parent: Mapped[Tenant | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Tenant]] = relationship(back_populates="parent", order_by="Tenant.slug")
    hosts: Mapped[list[TenantHost]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantHost.host"
    )

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"

    def contact_hours_for(self, lang: str = "de") -> Localized:
        return pick(lang, self.contact_hours_en, self.contact_hours)


class TenantHost(db.Model):
    """A custom domain of a tenant; `<slug>.<BASE_DOMAIN>` needs no row."""

    __tablename__ = "tenant_hosts"
    __table_args__ = (CheckConstraint("host = lower(host)", name="host_lowercase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    host: Mapped[str] = mapped_column(String(253), unique=True)
    # Origins allowed to frame the booking pages (frame-ancestors), beside the host itself.
    note: Mapped[str] = mapped_column(Text, default="")

    tenant: Mapped[Tenant] = relationship(back_populates="hosts")
