"""Queue tables. Only a ticket number, its service and an optional first name are kept of
a walk-in; of an appointment, the link to it. The timestamps (checked in, called,
finished, missed) stay after retention for the statistics, without the name."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.extensions import db
from app.tenancy.scope import TenantRow, tenant_key, tenant_ref


class OfficeQueue(TenantRow, db.Model):
    """An office's queue set-up; an office without an enabled row keeps no queue."""

    __tablename__ = "office_queues"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("tenant_id", "office_id"),
        CheckConstraint("ticket_prefix <> ''", name="prefix_not_empty"),
    )

    office_id: Mapped[int] = tenant_ref("offices", "CASCADE")
    enabled: Mapped[bool] = mapped_column(default=False)
    ticket_prefix: Mapped[str] = mapped_column(String(3), default="A")  # walk-ins: A-017
    appointment_prefix: Mapped[str] = mapped_column(String(3), default="T")  # appointments: T-004
    # Part of every kiosk link; raising it makes every kiosk link of the office invalid.
    kiosk_version: Mapped[int] = mapped_column(default=1)

    office = relationship("Office", foreign_keys=[office_id])


class WalkInQuota(TenantRow, db.Model):
    """How many walk-in tickets a service of an office takes per day (no row: none)."""

    __tablename__ = "walk_in_quotas"
    __table_args__ = (
        UniqueConstraint("tenant_id", "office_id", "service_id"),
        CheckConstraint("per_day BETWEEN 0 AND 999", name="per_day_range"),
    )

    office_id: Mapped[int] = tenant_ref("offices", "CASCADE")
    service_id: Mapped[int] = tenant_ref("services", "CASCADE")
    per_day: Mapped[int] = mapped_column()

    service = relationship("Service", foreign_keys=[service_id])


class QueueDay(TenantRow, db.Model):
    """The last ticket number an office gave out on a day. Its row lock orders the
    tickets (and the quota count) of one office and day."""

    __tablename__ = "queue_days"
    __table_args__ = (
        UniqueConstraint("tenant_id", "office_id", "day"),
    )

    office_id: Mapped[int] = tenant_ref("offices", "CASCADE")
    day: Mapped[date] = mapped_column(Date)
    last_number: Mapped[int] = mapped_column(default=0)


class QueueEntry(TenantRow, db.Model):
    """One person (or family) waiting: a checked-in appointment or a walk-in ticket.

    `status` moves waiting → called → finished | missed, with parked (set aside by a
    clerk) and back to waiting (passed on, or resumed). Calling is a conditional update
    from `waiting`, and a counter holds at most one called entry (partial unique index),
    so nobody is called twice.
    """

    __tablename__ = "queue_entries"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("tenant_id", "office_id", "day", "number"),
        UniqueConstraint("tenant_id", "appointment_id"),
        CheckConstraint("status IN ('waiting', 'called', 'parked', 'finished', 'missed')", name="status"),
        CheckConstraint("kind IN ('appointment', 'walk_in')", name="kind"),
        CheckConstraint("(kind = 'appointment') = (appointment_id IS NOT NULL)", name="appointment_kind"),
        CheckConstraint("status <> 'called' OR counter_id IS NOT NULL", name="called_at_counter"),
        Index("uq_queue_entries_one_called_per_counter", "tenant_id", "counter_id", unique=True,
              postgresql_where=text("status = 'called'"), sqlite_where=text("status = 'called'")),
        Index("ix_queue_entries_office_day_status", "tenant_id", "office_id", "day", "status"),
    )

    office_id: Mapped[int] = tenant_ref("offices", "CASCADE")
    day: Mapped[date] = mapped_column(Date)  # the office's local day
    number: Mapped[int] = mapped_column()
    ticket: Mapped[str] = mapped_column(String(8))  # "A-017"
    kind: Mapped[str] = mapped_column(String(12))
    appointment_id: Mapped[int | None] = tenant_ref("appointments", "CASCADE")
    service_id: Mapped[int] = tenant_ref("services", "RESTRICT")
    name: Mapped[str] = mapped_column(String(100), default="")  # optional, walk-ins only; erased by retention
    emergency: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    due_at: Mapped[datetime | None] = mapped_column()  # the appointment's start (UTC)
    counter_id: Mapped[int | None] = tenant_ref("counters", "RESTRICT")  # the counter that called it
    target_counter_id: Mapped[int | None] = tenant_ref("counters", "RESTRICT")  # passed on to this counter only
    call_count: Mapped[int] = mapped_column(default=0)
    # For the statistics: waiting time = called_at − checked_in_at, service time = finished_at − last_called_at.
    checked_in_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    called_at: Mapped[datetime | None] = mapped_column()
    last_called_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    missed_at: Mapped[datetime | None] = mapped_column()
    anonymized_at: Mapped[datetime | None] = mapped_column()

    service = relationship("Service", foreign_keys=[service_id])
    appointment = relationship("Appointment", foreign_keys=[appointment_id])

    def services_with_counts(self) -> list[tuple]:
        """[(Service, count)]: every service of an appointment's visit; a ticket's one service."""
        if self.appointment is not None:
            return self.appointment.services_with_counts()
        return [(self.service, 1)]
    counter = relationship("Counter", foreign_keys=[counter_id])


class QueueCall(TenantRow, db.Model):
    """Every call and recall, for the waiting room's screen (ticket → counter) and the statistics."""

    __tablename__ = "queue_calls"
    __table_args__ = (
        Index("ix_queue_calls_office_at", "tenant_id", "office_id", "called_at"),
    )

    office_id: Mapped[int] = tenant_ref("offices", "CASCADE")
    entry_id: Mapped[int] = tenant_ref("queue_entries", "CASCADE")
    counter_id: Mapped[int] = tenant_ref("counters", "CASCADE")
    called_at: Mapped[datetime] = mapped_column(default=clock.column_now)

    entry = relationship("QueueEntry", foreign_keys=[entry_id])
    counter = relationship("Counter", foreign_keys=[counter_id])
