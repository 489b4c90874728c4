"""Refused online bookings, counted per tenant, day and reason (issue 16 point 6), so the
office sees when scripts press on the calendar: by the rate limit, by a cap (per e-mail or
per phone) or by the proof of work. Only counters: no address, no mailbox, no number — the
limiter keeps client addresses for its one-minute window and nothing here keeps any.

A refusal is counted in its own small transaction after the request's work is rolled back,
so the count stands although the booking did not."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Date, String, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import db
from app.scheduling.calendar import zone
from app.tenancy.scope import TenantRow
from app.transaction import commit

REASONS = ("ratelimit", "cap_email", "cap_phone", "proof_of_work")


class RefusalCount(TenantRow, db.Model):
    __tablename__ = "refusal_counts"
    __table_args__ = (UniqueConstraint("tenant_id", "day", "reason"),)

    day: Mapped[date] = mapped_column(Date)  # the tenant's local day
    reason: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(default=0)


def local_today(tenant) -> date:
    """The tenant's day now (Europe/Berlin): a refusal at 00:30 there counts for that day,
    although it is still yesterday in UTC."""
    return clock.now().astimezone(zone(tenant.timezone)).date()


def count_refusal(tenant, reason: str) -> None:
    """Add one refusal of `reason` to today's counter (flushes; the caller commits).
    Raises ValueError for a reason not in REASONS (a counter nobody would see)."""
    if reason not in REASONS:
        raise ValueError(f"unknown refusal reason {reason!r}; one of {', '.join(REASONS)}")
    today = local_today(tenant)
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(RefusalCount).values(tenant_id=tenant.id, day=today, reason=reason, count=1)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["tenant_id", "day", "reason"],
                                                  set_={"count": RefusalCount.count + 1}))


def refused(tenant, reason: str) -> None:
    """A booking refused for `reason`: its work is rolled back and the refusal counted in
    its own small transaction (committed here), so the count stands although the booking
    did not. The API, the booking form and the rate limit's answer all call this."""
    db.session.rollback()
    count_refusal(tenant, reason)
    commit()


def daily_refusals(tenant, days: int = 14) -> list[tuple[date, dict[str, int]]]:
    """The days with refusals among the tenant's last `days` local days (today and the
    `days` − 1 before it), newest first: [(day, {reason: count})]."""
    since = local_today(tenant) - timedelta(days=days - 1)
    rows = db.session.execute(select(RefusalCount.day, RefusalCount.reason, RefusalCount.count)
                              .where(RefusalCount.day >= since).order_by(RefusalCount.day.desc()))
    by_day: dict[date, dict[str, int]] = {}
    for day, reason, count in rows:
        by_day.setdefault(day, dict.fromkeys(REASONS, 0))[reason] = count
    return list(by_day.items())
