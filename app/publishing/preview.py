"""The mail preview with the tenant's own facts: its first office with an online service,
that office's entrance and notices, and the earliest free start (or tomorrow at 09:30), so an
admin sees the mail a citizen will get — and may send it to themselves."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from app import clock
from app.catalog.models import bookable_online
from app.extensions import db
from app.mail.render import format_date, format_time, weekday
from app.mail.templates import sample_context
from app.offices.models import Office
from app.scheduling.calendar import today_in, zone
from app.scheduling.slots import Policy, next_slot


def preview_context(tenant, lang: str) -> dict:
    """sample_context with the tenant's real office, entrance, service and a future date."""
    ctx = sample_context(tenant, lang)
    service = db.session.scalar(bookable_online().limit(1))
    office = db.session.get(Office, service.office_id) if service else db.session.scalar(
        select(Office).where(Office.active.is_(True)).order_by(Office.position).limit(1))
    tz = zone(tenant.timezone)
    slot = next_slot(service, Policy.of(tenant)) if service else None
    if slot is not None:
        start, end = slot.start, slot.end
    else:
        day = today_in(tz, clock.now()) + timedelta(days=1)
        start = datetime.combine(day, time(9, 30), tzinfo=tz)
        end = start + timedelta(minutes=service.duration_minutes if service else 20)
    ctx.update({"date": format_date(start, tenant.timezone, lang), "time": format_time(start, tenant.timezone),
                "end_time": format_time(end, tenant.timezone), "weekday": weekday(start, tenant.timezone, lang)})
    if service is not None:
        ctx.update({"service": service.display_name(lang), "documents": service.documents_for(lang),
                    "fee": service.fee_for(lang)})
    if office is not None:
        entrance = office.entrances[0] if office.entrances else None
        ctx.update({"office": office.name, "address": office.address, "notices": office.notices_for(lang),
                    "entrance": entrance.name if entrance else "",
                    "directions": entrance.directions_for(lang) if entrance else ""})
    return ctx
