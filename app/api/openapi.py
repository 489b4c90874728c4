"""OpenAPI 3 description of /api/v1, generated from the marshmallow schemas."""
from __future__ import annotations

from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.api import schemas as s
from app.webhooks.openapi import document_webhooks

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _problem(description: str) -> dict:
    return {"description": description, "content": PROBLEM}


def _json(ref: str, description: str, array: bool = False) -> dict:
    schema = {"$ref": f"#/components/schemas/{ref}"}
    if array:
        schema = {"type": "array", "items": schema}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


COMMON = {"429": _problem("rate limit exceeded; see Retry-After"), "404": _problem("unknown tenant host or path"),
          "503": _problem("a dependency is down (database unreachable, a lock not granted in time); retry after "
                          "Retry-After seconds")}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7E]{1,255}$"},
    "description": "1–255 visible ASCII characters. A repeat with the same key, path and body within 24 hours "
                   "answers as the first did (same status, same code and token; header Idempotent-Replayed: true) "
                   "and changes nothing more; the same key with another method, path or body is a 422. Keys are "
                   "kept per tenant, in the database: every web process knows them.",
}
TOKEN = {"name": "manage_token", "in": "path", "required": True, "schema": {"type": "string"}}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
SERVICES = {"name": "services", "in": "query", "required": True, "schema": {"type": "string"},
            "example": "personalausweis:2,reisepass",
            "description": "the visit: SLUG[:COUNT],SLUG[:COUNT]… (COUNT defaults to 1); services of one office, "
                           "combinable, each count at most its persons_max, at most max_services_per_visit of them"}
FROM = {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
        "description": "first day (default today)"}
TO = {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"},
      "description": "last day, inclusive (default from + 27 days; at most from + 92)"}


@lru_cache(maxsize=1)
def spec_dict() -> dict:
    spec = APISpec(
        title="Amtstermin API", version="1.0.0", openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
        info={"description": "Appointments at a town's citizen office. Served on each tenant's host; times are "
                             "ISO 8601 in the tenant's time zone; errors are RFC 9457 problem details."},
        servers=[{"url": "/api/v1"}],
    )
    for name in ("BookingRequest", "MoveRequest", "TenantOut", "ServiceOut", "SlotsOut", "VisitSlotsOut",
                 "ProposalOut", "AppointmentOut", "DrawEntryOut", "Problem", "QueueOut"):
        spec.components.schema(name.removesuffix("Out") if name.endswith("Out") else name, schema=getattr(s, name))
    spec.path("/tenant", operations={"get": {
        "summary": "The tenant: name, contact, offices with entrances and notices",
        "responses": {"200": _json("Tenant", "the tenant"), **COMMON}}})
    spec.path("/services", operations={"get": {
        "summary": "Services bookable online",
        "responses": {"200": _json("Service", "services", array=True), **COMMON}}})
    spec.path("/services/{slug}/slots", operations={"get": {
        "summary": "Free starts of a service with how many more bookings each can take",
        "parameters": [SLUG,
                       {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
                        "description": "first day (default today)"},
                       {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"},
                        "description": "last day, inclusive (default from + 27 days; at most from + 92)"}],
        "responses": {"200": _json("Slots", "the slots"), "422": _problem("bad window"), **COMMON}}})
    spec.path("/services/{slug}/next", operations={"get": {
        "summary": "The proposal: the earliest free start",
        "parameters": [SLUG],
        "responses": {"200": _json("Proposal", "the earliest free slot"),
                      "404": _problem("none free within the horizon: contact and bookable_from"),
                      "429": COMMON["429"], "503": COMMON["503"]}}})
    spec.path("/slots", operations={"get": {
        "summary": "Free starts of a visit: one counter serving all its services, free for their summed time",
        "parameters": [SERVICES, FROM, TO],
        "responses": {"200": _json("VisitSlots", "the slots of the visit"),
                      "422": _problem("invalid `services` combination or bad window"), **COMMON}}})
    spec.path("/next", operations={"get": {
        "summary": "The proposal for a visit: its earliest free start",
        "parameters": [SERVICES],
        "responses": {"200": _json("Proposal", "the earliest free slot for the whole visit"),
                      "404": _problem("none free within the horizon: contact and bookable_from"),
                      "422": _problem("invalid `services` combination"), "429": COMMON["429"],
                      "503": COMMON["503"]}}})
    spec.path("/altcha", operations={"get": {
        "summary": "A fresh proof-of-work challenge (ALTCHA); its solution goes into a booking as `altcha` "
                   "when the tenant requires it",
        "responses": {"200": {"description": "the challenge", "content": {"application/json": {"schema": {
            "type": "object", "required": ["algorithm", "challenge", "salt", "signature", "maxnumber"],
            "properties": {"algorithm": {"type": "string"}, "challenge": {"type": "string"},
                           "salt": {"type": "string"}, "signature": {"type": "string"},
                           "maxnumber": {"type": "integer"}, "maxNumber": {"type": "integer"}}}}}},
                      **COMMON}}})
    spec.path("/appointments", operations={"post": {
        "summary": "Book an appointment: one service (`service`, `persons`) or a visit of several (`services`)",
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/BookingRequest"}}}},
        "responses": {"201": _json("Appointment", "booked"),
                      "202": _json("DrawEntry", "entered into the fair draw of a newly released day (tenant "
                                                "setting `fair_draw_services`); nothing booked yet"),
                      "400": _problem("malformed JSON"), "409": _problem("slot taken (with `next`), "
                                                                          "active-booking-limit (with `cap`: "
                                                                          "email or phone, and `limit`) or "
                                                                          "draw-already-entered"),
                      "413": _problem("body over 64 KiB"), "415": _problem("not application/json"),
                      "422": _problem("invalid input, per field in `errors` (`altcha`: the proof of "
                                      "work missing, invalid, expired or reused)"), **COMMON}}})
    spec.path("/appointments/{manage_token}", operations={
        "get": {"summary": "An appointment by its manage token", "parameters": [TOKEN],
                "responses": {"200": _json("Appointment", "the appointment"), **COMMON}},
        "patch": {"summary": "Move an appointment", "parameters": [TOKEN, IDEMPOTENCY_KEY],
                  "requestBody": {"required": True, "content": {"application/json": {
                      "schema": {"$ref": "#/components/schemas/MoveRequest"}}}},
                  "responses": {"200": _json("Appointment", "moved (same code and token)"),
                                "409": _problem("slot taken"),
                                "422": _problem("invalid start, past the deadline, or not active"), **COMMON}},
        "delete": {"summary": "Cancel an appointment (idempotent)", "parameters": [TOKEN, IDEMPOTENCY_KEY],
                   "responses": {"204": {"description": "cancelled"}, "422": _problem("past the deadline"),
                                 **COMMON}},
    })
    spec.path("/offices/{slug}/queue", operations={"get": {
        "summary": "The office's waiting room: how many wait, the estimated wait, the last calls (no names)",
        "parameters": [SLUG],
        "responses": {"200": _json("Queue", "the queue"),
                      "404": _problem("unknown office, or one that keeps no queue"), "429": COMMON["429"]}}})
    return document_webhooks(spec.to_dict())
