"""Write a mail into the outbox in the caller's transaction; delivery starts after commit.
What a mail says is the caller's business (an appointment's mail: app.booking.notifications)."""
from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app

from app import clock
from app.extensions import db
from app.mail.models import OutboxMail
from app.mail.render import mail_html, mail_plain, render_text
from app.tenancy.resolve import TenantInfo, tenant_info
from app.transaction import after_commit

SWEEPER_GRACE = timedelta(seconds=15)


def sender_address(tenant: TenantInfo) -> str:
    """The address the tenant's mail comes from."""
    return tenant.settings.get("mail_from") or current_app.config["MAIL_FROM"]


def queue_message(tenant: TenantInfo | int, event: str, to: str, subject: str, body: str, *, lang: str = "de",
                  facts: list | None = None, appointment_id: int | None = None,
                  ics: str | None = None, qr: str | None = None) -> OutboxMail:
    """Add a rendered mail to the outbox, from the tenant's sender: `body` is the text,
    `facts` the (label, value) table below it, `qr` the payload of a QR code shown below
    (an appointment's booking code, for the kiosk); delivered once the transaction commits."""
    if not isinstance(tenant, TenantInfo):
        tenant = tenant_info(tenant)
    text_body = mail_plain(body, facts)
    html_body = mail_html(subject, body, facts, lang=lang, qr=qr)
    settings = tenant.settings
    sender_addr = sender_address(tenant)
    sender_name = settings.get("mail_from_name") or tenant.name
    row = OutboxMail(
        tenant_id=tenant.id, appointment_id=appointment_id, event=event, to_addr=to,
        from_addr=f"{sender_name} <{sender_addr}>", reply_to=settings.get("mail_reply_to") or tenant.contact_email,
        subject=" ".join(subject.split())[:300], text_body=text_body, html_body=html_body, ics=ics,
        message_id=f"<{uuid.uuid4().hex}@{current_app.config['BASE_DOMAIN']}>",
        # The sweeper leaves a fresh row to its own job for a moment.
        next_attempt_at=clock.now() + SWEEPER_GRACE,
    )
    db.session.add(row)
    db.session.flush()
    after_commit("app.mail.delivery.deliver", row.id)
    return row


def queue_event(tenant: TenantInfo, event: str, to: str, ctx: dict, *, lang: str = "de", facts: list | None = None,
                appointment_id: int | None = None, ics: str | None = None, qr: str | None = None) -> OutboxMail:
    """Render `event`'s text in `lang` (the tenant's own, its district's or the built-in one)
    with the placeholders `ctx` and queue it. The tenant's name and phone are always there."""
    ctx = {"tenant": tenant.name, "phone": tenant.contact_phone, **ctx}
    chain = [tenant.id] + ([tenant.parent_id] if tenant.parent_id else [])
    text = render_text(chain, event, lang, ctx)
    return queue_message(tenant, event, to, text.subject, text.body, lang=lang, facts=facts,
                         appointment_id=appointment_id, ics=ics, qr=qr)
