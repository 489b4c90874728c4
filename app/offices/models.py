"""Offices, their entrances and counters, opening hours and closures."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.i18n import Localized, pick, pick_list
from app.tenancy.scope import TenantRow, tenant_key, tenant_ref


class Office(TenantRow, db.Model):
    __tablename__ = "offices"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("tenant_id", "slug"),
        CheckConstraint("slug <> ''", name="slug_not_empty"),
    )

    slug: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    notices: Mapped[list] = mapped_column(JSON, default=list)
    notices_en: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # empty: German
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Raised in the same transaction as any change to the office's bookable time
    # (appointments, hours, closures, counters); keys the slot cache.
    schedule_version: Mapped[int] = mapped_column(default=0, server_default="0")

    entrances: Mapped[list[Entrance]] = relationship(
        back_populates="office", order_by="Entrance.position", cascade="all, delete-orphan",
        foreign_keys="Entrance.office_id",
    )
    counters: Mapped[list[Counter]] = relationship(
        back_populates="office", order_by="Counter.position", cascade="all, delete-orphan",
        foreign_keys="Counter.office_id",
    )

    def notices_for(self, lang: str = "de") -> list[Localized]:
        """The office's notices, in English when asked and set (else German)."""
        return pick_list(lang, self.notices_en, self.notices)

    @property
    def main_entrance(self) -> Entrance | None:
        return self.entrances[0] if self.entrances else None


class Entrance(TenantRow, db.Model):
    __tablename__ = "entrances"
    __table_args__ = (
        tenant_key(),
    )

    office_id: Mapped[int] = tenant_ref("offices", "CASCADE", index=True)
    name: Mapped[str] = mapped_column(String(200))
    directions: Mapped[str] = mapped_column(Text, default="")
    directions_en: Mapped[str] = mapped_column(Text, default="", server_default="")  # empty: German
    position: Mapped[int] = mapped_column(default=0)

    office: Mapped[Office] = relationship(back_populates="entrances", foreign_keys=[office_id])

    def directions_for(self, lang: str = "de") -> Localized:
        return pick(lang, self.directions_en, self.directions)


class Counter(TenantRow, db.Model):
    """A clerk's desk. Capacity at any moment is the number of counters open."""

    __tablename__ = "counters"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("tenant_id", "office_id", "slug"),
    )

    office_id: Mapped[int] = tenant_ref("offices", "CASCADE", index=True)
    slug: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    office: Mapped[Office] = relationship(back_populates="counters", foreign_keys=[office_id])


# The weekday keys of tenant files and the hours form, Monday first (OpeningHours.weekday is the index).
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class OpeningHours(TenantRow, db.Model):
    """A weekly rule: on `weekday`, open from `opens` to `closes`, while valid.

    A rule with a counter applies to that counter only; a counter without rules of its
    own for a day follows its office's rules (counter_id NULL).
    """

    __tablename__ = "opening_hours"
    __table_args__ = (
        tenant_key(),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
        CheckConstraint("valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until", name="validity"),
        Index("ix_opening_hours_office_weekday", "tenant_id", "office_id", "weekday"),
    )

    office_id: Mapped[int] = tenant_ref("offices", "CASCADE")
    counter_id: Mapped[int | None] = tenant_ref("counters", "CASCADE", index=True)
    weekday: Mapped[int] = mapped_column()  # Monday = 0
    opens: Mapped[time] = mapped_column()
    closes: Mapped[time] = mapped_column()
    valid_from: Mapped[date | None] = mapped_column()
    valid_until: Mapped[date | None] = mapped_column()

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class Closure(TenantRow, db.Model):
    """Time an office (counter_id NULL) or one counter is closed: a closed day, blocked time."""

    __tablename__ = "closures"
    __table_args__ = (
        tenant_key(),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        Index("ix_closures_office_time", "tenant_id", "office_id", "ends_at", "starts_at"),
    )

    office_id: Mapped[int] = tenant_ref("offices", "CASCADE")
    counter_id: Mapped[int | None] = tenant_ref("counters", "CASCADE")
    starts_at: Mapped[datetime] = mapped_column()  # UTC
    ends_at: Mapped[datetime] = mapped_column()  # UTC
    reason: Mapped[str] = mapped_column(String(300), default="")
