"""Appointments: the one table the no-double-booking promise rests on.

The database refuses two active, not explicitly overbooked appointments that overlap
on one counter: on PostgreSQL an exclusion constraint over (tenant, counter,
[starts_at, ends_at)), on SQLite triggers (see the migration `0002`).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app import clock
from app.extensions import db
from app.tenancy.scope import TenantRow, tenant_key, tenant_ref
from app.validators import phone_key

ACTIVE_STATUSES = ("booked", "checked_in")
def mailbox_key(email: str) -> str:
    """The mailbox an address reaches, for the per-e-mail cap: case and a `+tag` in the
    local part do not make another person (erika+1@… is erika@…)."""
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    return f"{local.split('+', 1)[0]}@{domain}"


class CapKeys:
    """Keeps `email_key` and `phone_key`, what the per-e-mail and per-phone caps compare,
    in step with `email` and `phone`."""

    @validates("email")
    def _keep_email_key(self, _key: str, value: str) -> str:
        self.email_key = mailbox_key(value)
        return value

    @validates("phone")
    def _keep_phone_key(self, _key: str, value: str) -> str:
        self.phone_key = phone_key(value)
        return value


# The longest service; bounds the index range of overlap queries.
MAX_DURATION_MINUTES = 480


class Appointment(CapKeys, TenantRow, db.Model):
    __tablename__ = "appointments"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("tenant_id", "code"),
        UniqueConstraint("manage_token"),
        CheckConstraint("status IN ('booked', 'cancelled', 'checked_in', 'completed', 'no_show')", name="status"),
        CheckConstraint("source IN ('online', 'phone', 'emergency')", name="source"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        CheckConstraint("persons BETWEEN 1 AND 10", name="persons_range"),
        CheckConstraint("NOT overbooked OR (source = 'emergency' AND overbook_reason <> '')", name="overbook_reason"),
        Index("ix_appointments_tenant_counter_start", "tenant_id", "counter_id", "starts_at"),
        Index("ix_appointments_tenant_email", "tenant_id", "email"),
        Index("ix_appointments_tenant_email_key", "tenant_id", "email_key"),
        Index("ix_appointments_tenant_phone_key", "tenant_id", "phone_key"),
        Index("ix_appointments_tenant_start", "tenant_id", "starts_at"),
    )

    code: Mapped[str] = mapped_column(String(16))
    manage_token: Mapped[str] = mapped_column(String(64))
    service_id: Mapped[int] = tenant_ref("services", "RESTRICT")
    office_id: Mapped[int] = tenant_ref("offices", "RESTRICT")
    counter_id: Mapped[int] = tenant_ref("counters", "RESTRICT")
    entrance_id: Mapped[int | None] = tenant_ref("entrances", "RESTRICT")
    starts_at: Mapped[datetime] = mapped_column()  # UTC
    ends_at: Mapped[datetime] = mapped_column()  # UTC
    status: Mapped[str] = mapped_column(String(20), default="booked")
    source: Mapped[str] = mapped_column(String(20), default="online")
    # Personal data: the least needed, deleted by retention after the appointment.
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    email_key: Mapped[str] = mapped_column(String(254), default="", server_default="")  # mailbox_key(email)
    phone: Mapped[str] = mapped_column(String(64), default="")
    phone_key: Mapped[str] = mapped_column(String(64), default="", server_default="")  # phone_key(phone)
    note: Mapped[str] = mapped_column(Text, default="")
    persons: Mapped[int] = mapped_column(default=1)
    lang: Mapped[str] = mapped_column(String(5), default="de")
    overbooked: Mapped[bool] = mapped_column(default=False)
    overbook_reason: Mapped[str] = mapped_column(String(300), default="")
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE, raised on each change
    hold_expires_at: Mapped[datetime | None] = mapped_column()  # confirm-by-e-mail holds
    reminder_sent_at: Mapped[datetime | None] = mapped_column()
    # Reconfirmation ("Kommen Sie?", tenant setting reconfirm_days_before): asked, answered
    # "Ja, ich komme", or released by the system because nobody answered in time.
    reconfirm_sent_at: Mapped[datetime | None] = mapped_column()
    reconfirmed_at: Mapped[datetime | None] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column()
    anonymized_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.column_now, onupdate=clock.column_now)
    cancelled_at: Mapped[datetime | None] = mapped_column()
    # A citizen's cancellation with `release_cancelled_after_minutes`: until this moment the
    # freed start is held back from online booking (the waiting list's offer may take it).
    online_again_at: Mapped[datetime | None] = mapped_column()

    service = relationship("Service", foreign_keys=[service_id])
    office = relationship("Office", foreign_keys=[office_id])
    counter = relationship("Counter", foreign_keys=[counter_id])
    entrance = relationship("Entrance", foreign_keys=[entrance_id])

    # The services of the visit with their counts, first service first. `service_id` and
    # `persons` repeat the first of them, so one-service readers keep working.
    visit_items: Mapped[list[AppointmentService]] = relationship(
        cascade="all, delete-orphan", order_by="AppointmentService.position",
        foreign_keys="AppointmentService.appointment_id", back_populates="appointment",
    )

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def services_with_counts(self) -> list[tuple]:
        """[(Service, count)] of the visit, in the order booked: what mails, pages, the
        back office and statistics read (an appointment without rows is its one service)."""
        if self.visit_items:
            return [(item.service, item.count) for item in self.visit_items]
        return [(self.service, self.persons or 1)]

    def set_services(self, items) -> None:
        """Make the visit exactly `items` [(Service, count)]; the first is `service_id`."""
        self.visit_items = [AppointmentService(tenant_id=self.tenant_id, service_id=svc.id, service=svc,
                                               count=count, position=i)
                            for i, (svc, count) in enumerate(items)]
        self.service_id = items[0][0].id
        self.service = items[0][0]
        self.persons = items[0][1]


class AppointmentService(TenantRow, db.Model):
    """One service of a visit, with how many persons it is for."""

    __tablename__ = "appointment_services"
    __table_args__ = (
        UniqueConstraint("tenant_id", "appointment_id", "service_id"),
        CheckConstraint("count BETWEEN 1 AND 10", name="count_range"),
        Index("ix_appointment_services_tenant_service", "tenant_id", "service_id"),
    )

    appointment_id: Mapped[int] = tenant_ref("appointments", "CASCADE")
    service_id: Mapped[int] = tenant_ref("services", "RESTRICT")
    count: Mapped[int] = mapped_column(default=1)
    position: Mapped[int] = mapped_column(default=0)

    appointment = relationship("Appointment", foreign_keys=[appointment_id], back_populates="visit_items")
    service = relationship("Service", foreign_keys=[service_id])


class EmergencyRequest(TenantRow, db.Model):
    """A citizen's emergency request from the calendar-full page, answered by a clerk."""

    __tablename__ = "emergency_requests"
    __table_args__ = (
        tenant_key(),
        CheckConstraint("status IN ('open', 'booked', 'answered', 'closed')", name="status"),
        Index("ix_emergency_requests_tenant_status", "tenant_id", "status", "created_at"),
    )

    service_id: Mapped[int | None] = tenant_ref("services", "RESTRICT")
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(5), default="de")
    status: Mapped[str] = mapped_column(String(20), default="open")
    appointment_id: Mapped[int | None] = tenant_ref("appointments", "RESTRICT")
    answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    answered_at: Mapped[datetime | None] = mapped_column()
    anonymized_at: Mapped[datetime | None] = mapped_column()

    service = relationship("Service", foreign_keys=[service_id])


class WaitlistEntry(TenantRow, db.Model):
    """A citizen waiting for a freed slot of a service; offers go out first come, first served."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("tenant_id", "service_id", "email"),
        CheckConstraint("status IN ('waiting', 'offered', 'booked', 'expired', 'withdrawn')", name="status"),
        Index("ix_waitlist_entries_service_status", "tenant_id", "service_id", "status", "created_at"),
    )

    service_id: Mapped[int] = tenant_ref("services", "CASCADE")
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    lang: Mapped[str] = mapped_column(String(5), default="de")
    token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="waiting")
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)
    offered_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    # The cancelled appointment whose slot was offered; passed on if the offer lapses.
    offer_appointment_id: Mapped[int | None] = tenant_ref("appointments", "RESTRICT")
    # Preferences: weekdays as digits (0 = Monday; empty: any), "morning"/"afternoon"
    # (empty: any time), and the local days offers may fall on (None: open end).
    weekdays: Mapped[str] = mapped_column(String(7), default="", server_default="")
    daypart: Mapped[str] = mapped_column(String(10), default="", server_default="")
    date_from: Mapped[date | None] = mapped_column()
    date_until: Mapped[date | None] = mapped_column()

    service = relationship("Service", foreign_keys=[service_id])


class FairDraw(TenantRow, db.Model):
    """The fair draw of one service's newly released day (tenant setting `fair_draw_services`,
    app/booking/draw.py): requests during [opens_at, closes_at) are entries; at `closes_at`
    places go by lot. `seed`, `entry_ids` (the draw's input, ascending) and `ranking` (the
    drawn order with each entry's result) stay when the entries' personal data is deleted,
    so the office can show the draw was fair."""

    __tablename__ = "fair_draws"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("tenant_id", "service_id", "day"),
        CheckConstraint("status IN ('collecting', 'drawn')", name="status"),
        CheckConstraint("opens_at < closes_at", name="window"),
        Index("ix_fair_draws_tenant_status_closes", "tenant_id", "status", "closes_at"),
    )

    service_id: Mapped[int] = tenant_ref("services", "CASCADE")
    day: Mapped[date] = mapped_column()  # the released local day
    opens_at: Mapped[datetime] = mapped_column()  # the release
    closes_at: Mapped[datetime] = mapped_column()  # the draw
    status: Mapped[str] = mapped_column(String(20), default="collecting")
    seed: Mapped[str] = mapped_column(String(64), default="")
    drawn_at: Mapped[datetime | None] = mapped_column()
    entry_ids: Mapped[list] = mapped_column(JSON, default=list)
    # [{"entry": id, "reference": …, "result": "booked" | "waitlist", "code": booking code or None}]
    ranking: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)

    service = relationship("Service", foreign_keys=[service_id])


class DrawEntry(CapKeys, TenantRow, db.Model):
    """A citizen's request during a draw's collecting window: one per mailbox per draw."""

    __tablename__ = "draw_entries"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("tenant_id", "draw_id", "email_key"),
        UniqueConstraint("tenant_id", "reference"),
        UniqueConstraint("token"),
        CheckConstraint("result IN ('entered', 'booked', 'waitlist')", name="result"),
        Index("ix_draw_entries_tenant_draw", "tenant_id", "draw_id"),
    )

    draw_id: Mapped[int] = tenant_ref("fair_draws", "CASCADE")
    reference: Mapped[str] = mapped_column(String(16))  # shown to the citizen and in the back office
    token: Mapped[str] = mapped_column(String(64))  # the entry's page link
    # Personal data: deleted by retention once the day is `retention_days` past.
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(64), default="")
    phone_key: Mapped[str] = mapped_column(String(64), default="")
    lang: Mapped[str] = mapped_column(String(5), default="de")
    starts_at: Mapped[datetime] = mapped_column()  # the start asked for (UTC)
    items: Mapped[list] = mapped_column(JSON, default=list)  # the visit: [[service_id, count], …]
    position: Mapped[int | None] = mapped_column()  # 1-based place in the drawn order
    result: Mapped[str] = mapped_column(String(20), default="entered")
    appointment_id: Mapped[int | None] = tenant_ref("appointments", "RESTRICT")
    created_at: Mapped[datetime] = mapped_column(default=clock.column_now)

    draw = relationship("FairDraw", foreign_keys=[draw_id])
    appointment = relationship("Appointment", foreign_keys=[appointment_id])
