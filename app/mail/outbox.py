"""Write a mail into the outbox in the caller's transaction; delivery starts after commit.
What a mail says is the caller's business (an appointment's mail: app.booking.notifications,
which registers the renderer the worker calls for the rows it writes unrendered)."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Callable

from flask import current_app

from app import clock
from app.extensions import db
from app.mail.models import OutboxMail
from app.mail.render import mail_html, mail_plain, render_text, shared_texts, text_chain
from app.tenancy.resolve import TenantInfo, tenant_info
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope
from app.transaction import after_commit

SWEEPER_GRACE = timedelta(seconds=15)


def sender_address(tenant: TenantInfo) -> str:
    """The address the tenant's mail comes from."""
    return tenant.settings.get("mail_from") or current_app.config["MAIL_FROM"]


def composed(tenant: TenantInfo, subject: str, body: str, *, lang: str = "de", facts: list | None = None,
             ics: str | None = None, qr: str | None = None) -> dict:
    """What a rendered mail's row holds: sender, subject, text and HTML (`qr`: the payload of
    the check-in QR code shown below the facts), the calendar file."""
    settings = tenant.settings
    sender_name = settings.get("mail_from_name") or tenant.name
    return {"from_addr": f"{sender_name} <{sender_address(tenant)}>",
            "reply_to": settings.get("mail_reply_to") or tenant.contact_email or "",
            "subject": " ".join(subject.split())[:300], "text_body": mail_plain(body, facts),
            "html_body": mail_html(subject, body, facts, lang=lang, qr=qr), "ics": ics}


def _new_row(tenant_id: int, event: str, to: str, appointment_id: int | None, **values) -> OutboxMail:
    row = OutboxMail(
        tenant_id=tenant_id, appointment_id=appointment_id, event=event, to_addr=to,
        message_id=f"<{uuid.uuid4().hex}@{current_app.config['BASE_DOMAIN']}>",
        # The sweeper leaves a fresh row to its own job for a moment.
        next_attempt_at=clock.now() + SWEEPER_GRACE, **values,
    )
    db.session.add(row)
    db.session.flush()
    after_commit("app.mail.delivery.deliver", row.id)
    return row


def queue_message(tenant: TenantInfo | int, event: str, to: str, subject: str, body: str, *, lang: str = "de",
                  facts: list | None = None, appointment_id: int | None = None,
                  ics: str | None = None, qr: str | None = None) -> OutboxMail:
    """Add a rendered mail to the outbox, from the tenant's sender: `body` is the text,
    `facts` the (label, value) table below it, `qr` the payload of a QR code shown below
    (an appointment's booking code, for the kiosk); delivered once the transaction commits."""
    if not isinstance(tenant, TenantInfo):
        tenant = tenant_info(tenant)
    return _new_row(tenant.id, event, to, appointment_id, lang=lang, rendered_at=clock.now(),
                    **composed(tenant, subject, body, lang=lang, facts=facts, ics=ics, qr=qr))


def queue_unrendered(tenant_id: int, event: str, to: str, *, appointment_id: int, lang: str,
                     context: dict | None = None) -> OutboxMail:
    """Add a mail to the outbox that the worker renders (`register_renderer`): only the
    event, the address, the language and the values of its own (`context`, plain JSON) are
    written in the caller's transaction; delivered once the transaction commits."""
    return _new_row(tenant_id, event, to, appointment_id, lang=lang, context=context or None)


# event -> renderer(row) -> the fields of `composed()`, or None when the mail is no longer
# warranted. Registered by the package that knows what the mail is about, with a preloader
# (rows) that loads what a batch of its rows needs in a few statements.
_renderers: dict[str, Callable[[OutboxMail], dict | None]] = {}
_preloaders: dict[str, Callable[[list[OutboxMail]], list]] = {}


def register_renderer(events, renderer: Callable[[OutboxMail], dict | None],
                      preload: Callable[[list[OutboxMail]], list] | None = None) -> None:
    for event in events:
        _renderers[event] = renderer
        if preload is not None:
            _preloaders[event] = preload


def render_rows(rows: list[OutboxMail]) -> list[bool]:
    """`render_row` for each of a batch, with what they share read once: per tenant, the
    preloaders of their events first (one query for all their appointments, say), and each
    tenant's texts once for the batch. What a preloader returns is held until the batch is
    rendered (the session's identity map alone would let it go)."""
    todo = [row for row in rows if row.text_body is None]
    held = []
    with all_tenants():
        for tenant_id in {row.tenant_id for row in todo}:
            tenant = db.session.get(Tenant, tenant_id)
            held.append((tenant, tenant.parent if tenant is not None else None))
    # One flush for the whole batch when its claim commits, not one before each query.
    with shared_texts(), db.session.no_autoflush:
        groups: dict[tuple, list[OutboxMail]] = {}
        for row in todo:
            preload = _preloaders.get(row.event)
            if preload is not None:
                groups.setdefault((row.tenant_id, preload), []).append(row)
        for (tenant_id, preload), group in groups.items():
            with tenant_scope(tenant_id):
                held.append(preload(group))
        return [render_row(row) for row in rows]


def render_row(row: OutboxMail) -> bool:
    """Fill an unrendered row from the current state (in the delivering worker, under the
    row's claim). False, and the row `skipped`, when the mail is no longer warranted."""
    if row.text_body is not None:
        return True
    with tenant_scope(row.tenant_id):
        fields = _renderers[row.event](row)
    if fields is None:
        row.status = "skipped"
        row.last_error = "no longer warranted when rendered"
        return False
    for name, value in fields.items():
        setattr(row, name, value)
    row.rendered_at = clock.now()
    return True


def rendered_event(tenant: TenantInfo, event: str, ctx: dict, *, lang: str = "de", facts: list | None = None,
                   ics: str | None = None, qr: str | None = None) -> dict:
    """Render `event`'s text in `lang` (the tenant's own, its district's or the built-in one)
    with the placeholders `ctx`: the fields of `composed()`. The tenant's name and phone are always there."""
    ctx = {"tenant": tenant.name, "phone": tenant.contact_phone, **ctx}
    text = render_text(text_chain(tenant), event, lang, ctx)
    return composed(tenant, text.subject, text.body, lang=lang, facts=facts, ics=ics, qr=qr)


def queue_event(tenant: TenantInfo, event: str, to: str, ctx: dict, *, lang: str = "de", facts: list | None = None,
                appointment_id: int | None = None, ics: str | None = None, qr: str | None = None) -> OutboxMail:
    """Render `event` (see `rendered_event`) now, in the caller's request, and queue it."""
    return _new_row(tenant.id, event, to, appointment_id, lang=lang, rendered_at=clock.now(),
                    **rendered_event(tenant, event, ctx, lang=lang, facts=facts, ics=ics, qr=qr))
