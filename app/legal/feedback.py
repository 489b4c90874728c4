"""Accessibility feedback: received through the statement's form, answered in the back
office within the period the tenant's state sets; the citizen gets a receipt by mail."""
from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.legal.fields import state_rules
from app.legal.models import AccessibilityFeedback
from app.mail.outbox import queue_message
from app.scheduling.calendar import today_in, zone
from app.tenancy.resolve import TenantInfo


class FeedbackInvalid(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


RECEIPT = {
    "de": ("Ihre Rückmeldung zur Barrierefreiheit – {tenant}",
           "Guten Tag,\n\nvielen Dank für Ihre Rückmeldung zur Barrierefreiheit der Online-Terminvergabe von "
           "{tenant}. Sie ist am {received} bei uns eingegangen.\n\nWir antworten Ihnen bis spätestens {due}.\n\n"
           "Ihre Nachricht:\n{message}\n\nMit freundlichen Grüßen\n{tenant}\nTelefon {phone}"),
    "en": ("Your feedback on accessibility – {tenant}",
           "Hello,\n\nthank you for your feedback on the accessibility of the online appointments of {tenant}. "
           "We received it on {received}.\n\nWe will answer you by {due} at the latest.\n\nYour message:\n"
           "{message}\n\nKind regards\n{tenant}\nPhone {phone}"),
}


def submit_feedback(tenant: TenantInfo, *, message: str, email: str, name: str = "", page: str = "",
                    lang: str = "de") -> AccessibilityFeedback:
    """Record a citizen's feedback and queue the receipt; the caller commits."""
    message, email, name = (message or "").strip(), (email or "").strip(), (name or "").strip()
    errors = {}
    if not message:
        errors["message"] = "empty"
    elif len(message) > 5000:
        errors["message"] = "too_long"
    if email and ("@" not in email or len(email) > 254 or " " in email):
        errors["email"] = "invalid"
    if len(name) > 200:
        errors["name"] = "too_long"
    if errors:
        raise FeedbackInvalid(errors)
    now = clock.now()
    received = today_in(zone(tenant.timezone), now)
    due = add_months(received, state_rules(tenant.state).feedback_months)
    item = AccessibilityFeedback(tenant_id=tenant.id, name=name, email=email, page=(page or "")[:300],
                                 message=message, lang=lang if lang in RECEIPT else "de", received_at=now,
                                 due_on=due)
    db.session.add(item)
    db.session.flush()
    if email:
        subject, body = RECEIPT[item.lang]
        fmt = "%d.%m.%Y" if item.lang == "de" else "%Y-%m-%d"
        values = {"tenant": tenant.name, "received": received.strftime(fmt), "due": due.strftime(fmt),
                  "message": message, "phone": tenant.contact_phone}
        queue_message(tenant.id, "a11y_feedback", email, subject.format(**values), body.format(**values),
                      lang=item.lang)
    return item


def open_feedback() -> list[AccessibilityFeedback]:
    return list(db.session.scalars(select(AccessibilityFeedback).order_by(
        AccessibilityFeedback.status, AccessibilityFeedback.due_on, AccessibilityFeedback.id)))


def is_overdue(item: AccessibilityFeedback, today: date) -> bool:
    return item.status == "received" and item.due_on < today


def answer_feedback(item: AccessibilityFeedback, answer: str, by: str) -> None:
    """Mark an item answered (with the answer given, by whom and when); the caller commits."""
    answer = (answer or "").strip()
    if not answer:
        raise FeedbackInvalid({"answer": "empty"})
    item.answer = answer[:5000]
    item.answered_by = by
    item.answered_at = clock.now()
    item.status = "answered"
    db.session.flush()


ANSWER = {
    "de": ("Antwort auf Ihre Rückmeldung zur Barrierefreiheit – {tenant}",
           "Guten Tag,\n\n{answer}\n\nMit freundlichen Grüßen\n{tenant}\nTelefon {phone}"),
    "en": ("Answer to your feedback on accessibility – {tenant}",
           "Hello,\n\n{answer}\n\nKind regards\n{tenant}\nPhone {phone}"),
}


def send_answer(tenant: TenantInfo, item: AccessibilityFeedback) -> None:
    """Mail the answer to whoever gave an address, in their language (with the outbox, so
    it leaves only once the answer is committed)."""
    if not item.email:
        return
    subject, body = ANSWER.get(item.lang, ANSWER["de"])
    values = {"tenant": tenant.name, "answer": item.answer, "phone": tenant.contact_phone}
    queue_message(tenant.id, "a11y_feedback_answer", item.email, subject.format(**values), body.format(**values),
                  lang=item.lang)


def anonymize_answered(cutoff) -> int:
    """Name and e-mail of feedback answered before `cutoff` go; the barrier reported and the
    answer stay on record (the statement's gaps are reviewed against them)."""
    items = list(db.session.scalars(select(AccessibilityFeedback).where(
        AccessibilityFeedback.status == "answered", AccessibilityFeedback.answered_at < cutoff,
        (AccessibilityFeedback.email != "") | (AccessibilityFeedback.name != ""))))
    for item in items:
        item.name, item.email = "", ""
    return len(items)
