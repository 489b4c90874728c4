"""Back-office users and their role in each tenant."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.tenancy.scope import TenantRow

ROLES = ("staff", "admin", "district-it")


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    last_login_at: Mapped[datetime | None] = mapped_column()
    # Second factor (TOTP, app/accounts/second_factor.py): the shared secret once enrolled,
    # and the last time step used, so a code cannot be replayed.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column()
    totp_last_step: Mapped[int | None] = mapped_column()


class Membership(TenantRow, db.Model):
    """A user's role in one tenant; district-it on a district acts in all its towns."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        CheckConstraint("role IN ('staff', 'admin', 'district-it')", name="role"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship()


class Invitation(TenantRow, db.Model):
    """A set-password link for a new back-office user; only its hash is stored."""

    __tablename__ = "invitations"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)

    user: Mapped[User] = relationship()


class UserSession(TenantRow, db.Model):
    """A back-office login on one tenant's host, held on the server so that logout, a
    password change or the clerk herself can end it; the cookie carries only a random
    token whose hash is stored here."""

    __tablename__ = "user_sessions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    ended_at: Mapped[datetime | None] = mapped_column()
    # A short browser label ("Firefox on Windows") so a clerk recognises her sessions.
    agent: Mapped[str] = mapped_column(String(100), default="")


class LoginFailure(db.Model):
    """One failed back-office login, for the throttle. Only hashes of the e-mail address
    tried and of the client address are kept; rows older than a day are deleted."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), index=True)
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=clock.column_now, index=True)


class RecoveryCode(db.Model):
    """A single-use code that stands in for the authenticator app; only its hash is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column()


class SpentChallenge(db.Model):
    """A proof-of-work challenge already used once (app/proof_of_work.py); kept until it
    would have expired anyway."""

    __tablename__ = "spent_challenges"

    challenge: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
