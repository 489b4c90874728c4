"""Appointment events into the webhook outbox, in the event's own transaction: the
event and its delivery rows commit together or not at all, so none is ever lost.

Payloads carry no personal data (no name, e-mail, phone or note): the booking code
identifies the appointment to the town's own systems.
"""
from __future__ import annotations

import json
import uuid
from datetime import timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.booking import events as appointment_events
from app.booking.models import Appointment
from app.scheduling.calendar import zone
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants
from app.transaction import after_commit
from app.webhooks.models import WebhookDelivery, WebhookEndpoint

DELIVER = "app.webhooks.delivery.deliver"


def payload(event: str, tenant: Tenant, appt: Appointment, event_id: str) -> dict:
    tz = zone(tenant.timezone)
    return {
        "id": event_id,
        "type": f"appointment.{event}",
        "created_at": clock.now().astimezone(timezone.utc).isoformat(),
        "tenant": tenant.slug,
        "data": {
            "code": appt.code,
            "status": appt.status,
            "source": appt.source,
            "start": appt.starts_at.astimezone(tz).isoformat(),
            "end": appt.ends_at.astimezone(tz).isoformat(),
            "office": appt.office.slug,
            "services": [{"slug": svc.slug, "count": count} for svc, count in appt.services_with_counts()],
        },
    }


def _enqueue(session: Session, events: list[appointment_events.AppointmentEvent]) -> None:
    with all_tenants():
        tenant_ids = {ev.tenant_id for ev in events}
        endpoints = list(session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.tenant_id.in_(tenant_ids), WebhookEndpoint.active.is_(True))))
        if not endpoints:
            return
        tenants = {t.id: t for t in session.scalars(select(Tenant).where(Tenant.id.in_(tenant_ids)))}
        rows = []
        for ev in events:
            targets = [e for e in endpoints if e.tenant_id == ev.tenant_id and e.wants(ev.event)]
            if not targets:
                continue
            appt = session.get(Appointment, ev.appointment_id)
            for endpoint in targets:
                event_id = str(uuid.uuid4())
                body = json.dumps(payload(ev.event, tenants[ev.tenant_id], appt, event_id), ensure_ascii=False,
                                  separators=(",", ":"))
                rows.append(WebhookDelivery(tenant_id=ev.tenant_id, endpoint_id=endpoint.id, event=ev.event,
                                            event_id=event_id, payload=body))
        session.add_all(rows)
        session.flush()
    for row in rows:
        after_commit(DELIVER, row.id)


appointment_events.subscribe(before_commit=_enqueue)
