"""Emergency requests: a citizen who found the calendar full asks for help; a clerk books
an appointment for them, answers by mail (event 'emergency_reply', an editable text like
every other mail) or closes the request. They flush, never commit."""
from __future__ import annotations

from sqlalchemy import func, select

from app import clock
from app.booking.models import Appointment, EmergencyRequest
from app.catalog.models import Service
from app.extensions import db
from app.mail.outbox import queue_event
from app.tenancy.resolve import tenant_info

MAX_REPLY = 5000


class ReplyRefused(ValueError):
    """The answer cannot be sent; the message says why, for the clerk."""


def submit(service: Service | None, *, name: str, email: str, phone: str, reason: str,
           lang: str) -> EmergencyRequest:
    """A citizen's request, into the clerks' queue."""
    row = EmergencyRequest(service_id=service.id if service else None, name=name, email=email.lower(), phone=phone,
                           reason=reason, lang=lang)
    db.session.add(row)
    db.session.flush()
    return row


def open_count() -> int:
    """How many requests of the current tenant still wait for a clerk (status 'open');
    the back office's navigation shows it on every page."""
    return db.session.scalar(select(func.count(EmergencyRequest.id))
                             .where(EmergencyRequest.status == "open")) or 0


def listing(show: str = "open") -> list[EmergencyRequest]:
    """The clerks' list: the open requests, oldest first; otherwise the latest 200 of any
    status, newest first."""
    if show == "open":
        q = select(EmergencyRequest).where(EmergencyRequest.status == "open").order_by(EmergencyRequest.created_at)
    else:
        q = select(EmergencyRequest).order_by(EmergencyRequest.created_at.desc()).limit(200)
    return list(db.session.scalars(q))


def answer(row: EmergencyRequest, text: str) -> dict:
    """Mail the clerk's `text` to the citizen and mark the request answered; raises
    ReplyRefused. Returns the request's status before."""
    text = (text or "").strip()
    if not text or len(text) > MAX_REPLY:
        raise ReplyRefused(f"Bitte eine Antwort mit 1 bis {MAX_REPLY} Zeichen schreiben.")
    if not row.email:
        raise ReplyRefused("Diese Anfrage hat keine E-Mail-Adresse; bitte telefonisch antworten.")
    before = {"status": row.status}
    tenant = tenant_info(row.tenant_id)
    lang = "en" if row.lang == "en" else "de"
    queue_event(tenant, "emergency_reply", row.email, {"name": row.name, "answer": text}, lang=lang)
    row.status = "answered"
    row.answer = text
    row.answered_at = clock.now()
    db.session.flush()
    return before


def close(row: EmergencyRequest) -> dict:
    before = {"status": row.status}
    row.status = "closed"
    db.session.flush()
    return before


def link_booking(row: EmergencyRequest, appt: Appointment) -> dict:
    """The clerk booked `appt` for the request: it is done. Returns the status before."""
    before = {"status": row.status}
    row.status = "booked"
    row.appointment_id = appt.id
    row.answered_at = clock.now()
    db.session.flush()
    return before
