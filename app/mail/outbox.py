"""Write a mail into the outbox in the caller's transaction; delivery starts after commit."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from flask import current_app, render_template

from app.booking.models import Appointment
from app.extensions import db
from app.mail.ics import appointment_uid, build_ics
from app.mail.models import OutboxMail
from app.mail.render import format_date, format_time, render_text, text_to_html, weekday
from app.tenancy.resolve import TenantInfo, tenant_info, tenant_url
from app.transaction import after_commit

SWEEPER_GRACE = timedelta(seconds=15)
CALENDAR_EVENTS = {"confirmation": False, "moved": False, "reminder": False, "cancellation": True,
                   "office_cancelled": True}


def manage_url(tenant: TenantInfo, appt: Appointment) -> str:
    return tenant_url(tenant, f"/manage/{appt.manage_token}")


def appointment_context(tenant: TenantInfo, appt: Appointment, lang: str, **extra) -> dict:
    """Plain values only: what a mail template may show."""
    tz = tenant.timezone
    office = appt.office
    entrance = appt.entrance
    service = appt.service
    ctx = {
        "name": appt.name, "service": service.display_name(lang), "date": format_date(appt.starts_at, tz, lang),
        "time": format_time(appt.starts_at, tz), "end_time": format_time(appt.ends_at, tz),
        "weekday": weekday(appt.starts_at, tz, lang), "office": office.name, "address": office.address,
        "entrance": entrance.name if entrance else "", "directions": entrance.directions if entrance else "",
        "code": appt.code, "manage_url": manage_url(tenant, appt), "booking_url": tenant_url(tenant, "/"),
        "tenant": tenant.name, "phone": tenant.contact_phone, "persons": appt.persons, "reason": "",
        "documents": list(service.documents or []), "notices": list(office.notices or []), "fee": service.fee,
    }
    ctx.update(extra)
    return ctx


def queue_mail(event: str, appt: Appointment, *, to: str | None = None, lang: str | None = None,
               **extra) -> OutboxMail | None:
    """Render `event`'s mail for `appt` and add it to the outbox; None without an address.

    `to` and `lang` default to the appointment's citizen (a waiting-list offer goes elsewhere)."""
    to = appt.email if to is None else to
    if not to:
        return None
    tenant = tenant_info(appt.tenant_id)
    lang = lang or appt.lang
    lang = lang if lang in ("de", "en") else "de"
    ctx = appointment_context(tenant, appt, lang, **extra)
    chain = [tenant.id] + ([tenant.parent_id] if tenant.parent_id else [])
    text = render_text(chain, event, lang, ctx)
    facts = _facts(ctx, lang, event)
    text_body = text.body + "\n\n" + _facts_text(facts)
    html_body = render_template("mail/message.html", intro=text_to_html(text.body), facts=facts, lang=lang,
                                subject=text.subject, ctx=ctx)
    ics = None
    if event in CALENDAR_EVENTS:
        cfg = current_app.config
        ics = build_ics(
            uid=appointment_uid(tenant.slug, appt.id, cfg["BASE_DOMAIN"]), sequence=appt.sequence,
            start=appt.starts_at, end=appt.ends_at, tz_name=tenant.timezone,
            summary=f"{ctx['service']} – {tenant.name}", location=f"{ctx['office']}, {ctx['address']}",
            description=_facts_text(facts), url=ctx["manage_url"], cancelled=CALENDAR_EVENTS[event],
        )
    return _add(tenant, appointment_id=appt.id, event=event, to=to, subject=text.subject, text_body=text_body,
                html_body=html_body, ics=ics)


def _add(tenant: TenantInfo, *, appointment_id: int | None, event: str, to: str, subject: str, text_body: str,
         html_body: str, ics: str | None) -> OutboxMail:
    """The outbox row, from the tenant's sender; delivered once the transaction commits."""
    settings = tenant.settings
    sender_addr = settings.get("mail_from") or current_app.config["MAIL_FROM"]
    sender_name = settings.get("mail_from_name") or tenant.name
    row = OutboxMail(
        tenant_id=tenant.id, appointment_id=appointment_id, event=event, to_addr=to,
        from_addr=f"{sender_name} <{sender_addr}>", reply_to=settings.get("mail_reply_to") or tenant.contact_email,
        subject=" ".join(subject.split())[:300], text_body=text_body, html_body=html_body, ics=ics,
        message_id=f"<{uuid.uuid4().hex}@{current_app.config['BASE_DOMAIN']}>",
        # The sweeper leaves a fresh row to its own job for a moment.
        next_attempt_at=datetime.now(timezone.utc) + SWEEPER_GRACE,
    )
    db.session.add(row)
    db.session.flush()
    after_commit("app.mail.delivery.deliver", row.id)
    return row


def queue_waitlist_offer(entry, freed: Appointment, book_url: str) -> OutboxMail | None:
    """Tell a waiting citizen (`entry`, a WaitlistEntry) that `freed`'s slot is free; the
    link books it. Nothing of the cancelled appointment's citizen goes into the mail."""
    return queue_mail("waitlist_offer", freed, to=entry.email, lang=entry.lang, name=entry.name,
                      manage_url=book_url, persons=1, code="")


LABELS = {
    "de": {"when": "Wann", "where": "Wo", "entrance": "Eingang", "documents": "Bitte mitbringen",
           "notices": "Hinweise", "fee": "Gebühr", "code": "Buchungscode", "manage": "Termin verwalten",
           "persons": "Personen"},
    "en": {"when": "When", "where": "Where", "entrance": "Entrance", "documents": "Please bring",
           "notices": "Notices", "fee": "Fee", "code": "Booking code", "manage": "Manage appointment",
           "persons": "Persons"},
}


def _facts(ctx: dict, lang: str, event: str) -> list[tuple[str, str | list[str]]]:
    lab = LABELS["en" if lang == "en" else "de"]
    clock = f"{ctx['time']}–{ctx['end_time']}" + (" Uhr" if lang != "en" else "")
    facts: list[tuple[str, str | list[str]]] = [
        (lab["when"], f"{ctx['weekday']}, {ctx['date']}, {clock}"),
        (lab["where"], f"{ctx['office']}, {ctx['address']}"),
    ]
    if ctx["entrance"]:
        facts.append((lab["entrance"], f"{ctx['entrance']}. {ctx['directions']}".strip()))
    if event in ("cancellation", "office_cancelled"):
        facts.append((lab["code"], ctx["code"]))
        return facts
    if ctx["persons"] and ctx["persons"] > 1:
        facts.append((lab["persons"], str(ctx["persons"])))
    if ctx["documents"]:
        facts.append((lab["documents"], ctx["documents"]))
    if ctx["notices"]:
        facts.append((lab["notices"], ctx["notices"]))
    if ctx["fee"]:
        facts.append((lab["fee"], ctx["fee"]))
    if event == "waitlist_offer":  # no booking yet: no code, the text carries the booking link
        return facts
    facts.append((lab["code"], ctx["code"]))
    facts.append((lab["manage"], ctx["manage_url"]))
    return facts


def _facts_text(facts) -> str:
    lines = []
    for label, value in facts:
        if isinstance(value, list):
            lines.append(f"{label}:")
            lines.extend(f"  - {item}" for item in value)
        else:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


def queue_message(tenant_id: int, event: str, to: str, subject: str, body: str, *, lang: str = "de") -> OutboxMail:
    """A mail that belongs to no appointment (an invitation, a clerk's reply to an
    emergency request): plain text given by the caller, same outbox and delivery."""
    tenant = tenant_info(tenant_id)
    html_body = render_template("mail/message.html", intro=text_to_html(body), facts=[], lang=lang,
                                subject=subject, ctx={})
    return _add(tenant, appointment_id=None, event=event, to=to, subject=subject, text_body=body,
                html_body=html_body, ics=None)
