"""A tenant's own identity provider (OpenID Connect: Keycloak, Entra ID, …) and the
accounts of its users there, linked to back-office users."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import db
from app.tenancy.scope import TenantRow


class IdentityProvider(TenantRow, db.Model):
    """At most one per tenant. `role_map` maps a value of `role_claim` (a group, an app
    role) to a back-office role; the highest role a user's values map to wins."""

    __tablename__ = "identity_providers"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("issuer <> ''", name="issuer_not_empty"),
    )

    issuer: Mapped[str] = mapped_column(String(300))
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret: Mapped[str] = mapped_column(String(500))
    scopes: Mapped[str] = mapped_column(String(200), default="openid email profile")
    role_claim: Mapped[str] = mapped_column(String(100), default="groups")
    role_map: Mapped[dict] = mapped_column(JSON, default=dict)
    local_passwords: Mapped[bool] = mapped_column(default=True)
    label: Mapped[str] = mapped_column(String(100), default="Dienstkonto der Verwaltung")
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)


class ExternalIdentity(db.Model):
    """A user's account at an identity provider (issuer + subject), once it signed in."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    last_login_at: Mapped[datetime | None] = mapped_column()
