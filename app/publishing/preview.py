"""The mail preview with the tenant's own facts: its first office with an online service,
that office's entrance and notices, and the earliest free start (or tomorrow at 09:30), so an
admin sees the mail a citizen will get — and may send it to themselves."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import select

from app import clock
from app.booking.notifications import APPOINTMENT_EVENTS, appointment_facts
from app.catalog.models import bookable_online
from app.extensions import db
from app.mail.outbox import queue_message
from app.mail.render import format_date, format_time, mail_plain, render_string, weekday
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


class Preview(NamedTuple):
    """What the edit page shows (indexed 0–2 by its template) and what a test mail sends."""
    subject: str
    text: str  # the whole text part as the citizen gets it
    below: list  # nothing: the facts are in `text`, in the order the mail has them
    facts: list
    body: str  # the rendered text alone, for the test mail


def mail_preview(tenant, event: str, subject: str, body: str, lang: str) -> Preview:
    """The mail with the tenant's real office, entrance and a future date: the text, the
    facts every appointment mail adds, then the greeting. Raises TemplateProblem."""
    ctx = preview_context(tenant, lang)
    facts = appointment_facts(ctx, lang, event) if event in APPOINTMENT_EVENTS else []
    subject, text = render_string(subject, ctx), render_string(body, ctx)
    return Preview(subject, mail_plain(text, facts), [], facts, text)


def send_test_mail(tenant_id: int, to: str, preview: Preview, lang: str) -> None:
    """The previewed mail to `to` (the admin), marked as a test; nothing is saved."""
    queue_message(tenant_id, "test_mail", to, f"[Test] {preview.subject}", preview.body, lang=lang,
                  facts=preview.facts)
