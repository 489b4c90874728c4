"""What a service page shows of the calendar: the proposal, the next free starts, a
month with its free days, and the free times of one chosen day.

One `next_slot` for the proposal and one `compute_slots` over the whole window shown."""
from __future__ import annotations

import calendar as cal
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.catalog.models import Service
from app.scheduling.calendar import zone
from app.scheduling.slots import Policy, Slot, bookable_window, compute_slots, next_slot
from app.validators import parse_date

NEXT_FEW = 6


@dataclass
class MonthView:
    proposal: Slot | None
    next_few: list[Slot]
    month: date  # first day of the month shown
    weeks: list[list[date]]
    free_days: dict[date, int]  # day -> number of free starts
    prev_month: date | None
    next_month: date | None
    day: date | None  # the chosen day
    day_slots: list[Slot] = field(default_factory=list)
    first_day: date | None = None
    last_day: date | None = None


def parse_month(value: str | None) -> date | None:
    return parse_date(f"{value}-01") if value and len(value) == 7 else None


def _add_month(month: date, n: int) -> date:
    y, m = divmod(month.month - 1 + n, 12)
    return date(month.year + y, m + 1, 1)


def month_view(service: Service, policy: Policy, now: datetime, *, month_arg: str | None = None,
               day_arg: str | None = None, exclude_appointment_id: int | None = None) -> MonthView:
    """Bad or out-of-range `month`/`day` arguments fall back to sensible ones, never an error."""
    tz = zone(policy.timezone)
    first, last, _ = bookable_window(policy, now, online=True)
    proposal = next_slot(service, policy, now=now, exclude_appointment_id=exclude_appointment_id)
    day = parse_date(day_arg)
    if day is not None and not first <= day <= last:
        day = None
    month = parse_month(month_arg) or (day or (proposal.start.astimezone(tz).date() if proposal else first))
    month = min(max(month.replace(day=1), first.replace(day=1)), last.replace(day=1))
    if day is not None and day.replace(day=1) != month:
        day = None
    month_end = _add_month(month, 1) - timedelta(days=1)
    window_end = month_end
    if proposal is not None:
        window_end = max(window_end, proposal.start.astimezone(tz).date() + timedelta(days=7))
    slots = compute_slots(service, policy, first, window_end, now=now,
                          exclude_appointment_id=exclude_appointment_id) if proposal else []
    free_days: dict[date, int] = {}
    day_slots: list[Slot] = []
    for s in slots:
        d = s.start.astimezone(tz).date()
        if month <= d <= month_end:
            free_days[d] = free_days.get(d, 0) + 1
        if d == day:
            day_slots.append(s)
    next_few = [s for s in slots if proposal and s.start > proposal.start][:NEXT_FEW]
    weeks = cal.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    prev_month = _add_month(month, -1) if month > first.replace(day=1) else None
    next_month = _add_month(month, 1) if month < last.replace(day=1) else None
    return MonthView(proposal, next_few, month, weeks, free_days, prev_month, next_month, day, day_slots,
                     first, last)
