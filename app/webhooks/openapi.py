"""The webhook payloads in the OpenAPI description, as callbacks of the booking call:
what a town's system receives at the endpoint its admin set in /admin/webhooks."""
from __future__ import annotations

from app.booking.events import EVENTS

EVENT_SCHEMA = {
    "type": "object",
    "required": ["id", "type", "created_at", "tenant", "data"],
    "properties": {
        "id": {"type": "string", "format": "uuid",
               "description": "unique per delivery; the same id arriving twice is the same event"},
        "type": {"type": "string", "enum": [f"appointment.{e}" for e in EVENTS]},
        "created_at": {"type": "string", "format": "date-time"},
        "tenant": {"type": "string", "description": "the tenant's slug"},
        "data": {
            "type": "object",
            "description": "the appointment as it was when the event happened; no personal data",
            "required": ["code", "status", "source", "start", "end", "office", "services"],
            "properties": {
                "code": {"type": "string", "description": "booking code"},
                "status": {"type": "string", "enum": ["booked", "cancelled", "checked_in", "completed", "no_show"]},
                "source": {"type": "string", "enum": ["online", "phone", "emergency"]},
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
                "office": {"type": "string", "description": "office slug"},
                "services": {"type": "array", "items": {
                    "type": "object", "required": ["slug", "count"],
                    "properties": {"slug": {"type": "string"}, "count": {"type": "integer", "minimum": 1}}}},
            },
        },
    },
}

HEADERS = [
    {"name": "Amtstermin-Signature", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>' with the endpoint's secret>; "
                    "refuse a t more than five minutes off"},
    {"name": "Amtstermin-Event", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "the payload's type"},
    {"name": "Amtstermin-Delivery", "in": "header", "required": True, "schema": {"type": "string"},
     "description": "the payload's id"},
]


def document_webhooks(spec: dict) -> dict:
    """Add the event schema and the callback to POST /appointments of `spec` (a dict)."""
    spec.setdefault("components", {}).setdefault("schemas", {})["AppointmentEvent"] = EVENT_SCHEMA
    operation = spec["paths"]["/appointments"]["post"]
    operation["callbacks"] = {"appointmentEvent": {"{$request.header.Host}/your-webhook-endpoint": {"post": {
        "summary": "An appointment event, sent to each webhook endpoint of the tenant",
        "description": "Sent for booked, moved, cancelled, checked_in, completed and no_show, whichever way the "
                       "change was made (API, citizen pages, back office, jobs). Answer 2xx to take it; anything "
                       "else, or no answer within 5 s, is retried with a backoff up to five minutes for about a "
                       "day, then shown as given up in /admin/webhooks, where it can be sent again. Order is "
                       "not guaranteed: use created_at.",
        "parameters": HEADERS,
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/AppointmentEvent"}}}},
        "responses": {"2XX": {"description": "taken"}},
    }}}}
    return spec
