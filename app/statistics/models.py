"""The statistics tables. Anonymous by construction: no names, contacts, tokens, codes,
counters or clerks, only counts and sums per tenant, office, service, source and day.
Retention deletes personal data from appointments; these rows stay as they are."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import db
from app.tenancy.scope import TenantOwned, tenant_ref

# Which day each figure is counted on (the local day in the tenant's time zone):
#   bookings, lead_minutes                      the day the booking was made
#   appointments … completed                    the day of the appointment
#   waited … queue_missed                       the day at the office's queue (check-in)
#   cancelled, cancelled_by_office              the day of the cancellation
#   moves                                       the day of the move
#   waitlist_entries, waitlist_offers, _taken   the day of joining / of the offer
#   emergency_*                                 the day of the request
#   reconfirm_sent, _confirmed, _released       the day the "Kommen Sie?" mail went out,
#                                               was answered, the appointment was released
FIGURES = (
    "bookings", "lead_minutes",
    "appointments", "booked_minutes", "services", "persons", "no_shows", "checked_in", "completed",
    "waited", "wait_seconds", "served", "service_seconds",
    "cancelled", "cancelled_by_office", "moves",
    "waitlist_entries", "waitlist_offers", "waitlist_taken",
    "emergency_requests", "emergency_answered", "emergency_answer_minutes",
    "walk_ins_served", "queue_missed",
    "reconfirm_sent", "reconfirm_confirmed", "reconfirm_released",
)


class _Figures:
    """The counted figures, the same columns in the daily table and in the deltas."""

    bookings: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    lead_minutes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    appointments: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    booked_minutes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    services: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    persons: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    no_shows: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    checked_in: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    completed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    waited: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    wait_seconds: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    served: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    service_seconds: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cancelled: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cancelled_by_office: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    moves: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    waitlist_entries: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    waitlist_offers: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    waitlist_taken: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    emergency_requests: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    emergency_answered: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    emergency_answer_minutes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    walk_ins_served: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    queue_missed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reconfirm_sent: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reconfirm_confirmed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reconfirm_released: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class _PerTenantDay:
    """The key's first part in every table of days: the tenant and the local day (first in
    the key, as the migrations made it)."""

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True,
                                           sort_order=-1)
    day: Mapped[date] = mapped_column(Date, primary_key=True, sort_order=-1)


class StatisticsDay(_PerTenantDay, TenantOwned, _Figures, db.Model):
    """The figures of one day, office, service and source (online, phone, emergency, …)."""

    __tablename__ = "statistics_days"

    office_id: Mapped[int] = tenant_ref("offices", "CASCADE", primary_key=True)
    service_id: Mapped[int] = tenant_ref("services", "CASCADE", primary_key=True)
    # Free text, no check: the walk-in source of the office queue plugs in without a migration.
    source: Mapped[str] = mapped_column(String(20), primary_key=True)  # walk_in: a ticket at the office


class StatisticsDelta(TenantOwned, _Figures, db.Model):
    """A change not yet folded into `statistics_days`. Written in the transaction of the
    change itself (append-only, so concurrent bookings never wait on one hot row), folded
    and deleted by the jobs; each row is folded exactly once."""

    __tablename__ = "statistics_deltas"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    office_id: Mapped[int] = tenant_ref("offices", "CASCADE")
    service_id: Mapped[int] = tenant_ref("services", "CASCADE")
    source: Mapped[str] = mapped_column(String(20))


class StatisticsOfficeDay(_PerTenantDay, TenantOwned, db.Model):
    """Open counter minutes of an office on a day, recorded from the opening hours,
    closures and counters the slot engine uses; and the part held back for staff."""

    __tablename__ = "statistics_office_days"

    office_id: Mapped[int] = tenant_ref("offices", "CASCADE", primary_key=True)
    open_minutes: Mapped[int] = mapped_column(default=0)
    held_back_minutes: Mapped[int] = mapped_column(default=0)


class StatisticsNextFree(_PerTenantDay, TenantOwned, db.Model):
    """Days from the recording day until the service's next free online slot; NULL when
    nothing was free within the booking horizon ("für die nächsten Wochen voll")."""

    __tablename__ = "statistics_next_free"

    service_id: Mapped[int] = tenant_ref("services", "CASCADE", primary_key=True)
    days: Mapped[int | None] = mapped_column()
    horizon_days: Mapped[int] = mapped_column()


class StatisticsRecording(_PerTenantDay, TenantOwned, db.Model):
    """That a tenant's daily recording ran for a day: once a day, also with several workers."""

    __tablename__ = "statistics_recordings"

    recorded_at: Mapped[datetime] = mapped_column(default=clock.column_now)
