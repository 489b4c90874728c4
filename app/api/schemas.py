"""marshmallow schemas for every request and response of /api/v1 (also the OpenAPI source)."""
from __future__ import annotations

from datetime import datetime

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from app.validators import MAX_EMAIL, is_email, is_phone


class AwareDateTime(fields.DateTime):
    """ISO 8601 with a UTC offset; a time without one is ambiguous and refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        result: datetime = super()._deserialize(value, attr, data, **kwargs)
        if result.tzinfo is None:
            raise ValidationError("must include a UTC offset, e.g. 2026-11-24T09:30:00+01:00")
        return result


class VisitItem(Schema):
    class Meta:
        unknown = RAISE

    slug = fields.String(required=True, validate=validate.Length(min=1, max=63),
                         metadata={"example": "personalausweis"})
    count = fields.Integer(load_default=1, strict=True,
                           metadata={"description": "persons for this service (1 to its persons_max)"})


class BookingRequest(Schema):
    class Meta:
        unknown = RAISE

    service = fields.String(metadata={"description": "service slug (a one-service visit; give this or `services`)",
                                      "example": "reisepass"})
    services = fields.List(fields.Nested(VisitItem), metadata={
        "description": "the services of one visit with their counts (give this or `service`)",
        "example": [{"slug": "personalausweis", "count": 2}, {"slug": "reisepass", "count": 1}]})
    start = AwareDateTime(required=True, metadata={"description": "a bookable start from /slots or /next"})
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    email = fields.String(required=True, validate=validate.Length(max=MAX_EMAIL), metadata={"format": "email"})
    phone = fields.String(load_default="", allow_none=True, validate=validate.Length(max=40))
    persons = fields.Integer(load_default=1, strict=True, allow_none=True, validate=validate.Range(min=1, max=10))
    note = fields.String(load_default="", allow_none=True, validate=validate.Length(max=500))
    lang = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("de", "en")),
                         metadata={"description": "language of the mails; default from Accept-Language, else de"})
    altcha = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000), metadata={
        "description": "the solved challenge of GET /api/v1/altcha (the ALTCHA widget's base64 payload); "
                       "required when the tenant has `altcha` on (CONTRACT §5.3)"})

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _one_of_service_and_services(self, data, original, **kwargs):
        given = original if isinstance(original, dict) else {}
        if "service" in given and "services" in given:
            raise ValidationError("give either 'service' or 'services', not both", "services")
        if "service" not in given and "services" not in given:
            raise ValidationError("Missing data for required field.", "service")
        if "services" in data and not data["services"]:
            raise ValidationError("name at least one service", "services")

    @validates("name")
    def _name(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("must not be blank")
        if any(ord(ch) < 32 for ch in value):
            raise ValidationError("must not contain control characters")

    @validates("phone")
    def _phone(self, value, **kwargs):
        if value and not is_phone(value):
            raise ValidationError("must be a phone number (digits, spaces, + - / ( ))")

    @validates("email")
    def _email(self, value, **kwargs):
        if not is_email(value):
            raise ValidationError("Not a valid email address.")


class MoveRequest(Schema):
    class Meta:
        unknown = RAISE

    start = AwareDateTime(required=True)


class OfficeRef(Schema):
    slug = fields.String()
    name = fields.String()
    address = fields.String()


class EntranceOut(Schema):
    name = fields.String()
    directions = fields.String()


class ServiceRef(Schema):
    slug = fields.String()
    name = fields.String()


class ContactOut(Schema):
    phone = fields.String()
    email = fields.String()
    hours = fields.String()


class OfficeOut(OfficeRef):
    entrances = fields.List(fields.Nested(EntranceOut))
    notices = fields.List(fields.String())


class TenantOut(Schema):
    slug = fields.String()
    name = fields.String()
    timezone = fields.String()
    contact = fields.Nested(ContactOut)
    offices = fields.List(fields.Nested(OfficeOut))
    status = fields.String(validate=validate.OneOf(("draft", "pilot", "live", "disabled")))


class ServiceOut(Schema):
    slug = fields.String()
    name = fields.String()
    description = fields.String()
    duration_minutes = fields.Integer()
    documents = fields.List(fields.String())
    fee = fields.String(metadata={"description": "as shown to citizens, e.g. '37,00 €'; empty when none"})
    persons_max = fields.Integer(metadata={"description": "persons one appointment may book this service for"})
    additional_person_minutes = fields.Integer(metadata={
        "description": "minutes each person after the first adds (the service's duration unless set otherwise)"})
    combinable = fields.Boolean(metadata={
        "description": "whether it may share a visit with other combinable services of its office"})
    office = fields.Nested(OfficeRef)
    leika_key = fields.String(allow_none=True, metadata={
        "description": "the federal service key (LeiKa, 14 digits) when the catalogue gives one"})


class ProposalOut(Schema):
    start = fields.String(metadata={"format": "date-time"})
    end = fields.String(metadata={"format": "date-time"})
    office = fields.Nested(OfficeRef)


class SlotOut(ProposalOut):
    free = fields.Integer()


class SlotsOut(Schema):
    service = fields.Nested(ServiceRef)
    slots = fields.List(fields.Nested(SlotOut))


class VisitItemRef(Schema):
    slug = fields.String()
    count = fields.Integer()


class VisitServiceOut(ServiceRef):
    count = fields.Integer()


class VisitSlotsOut(Schema):
    services = fields.List(fields.Nested(VisitItemRef))
    duration_minutes = fields.Integer()
    slots = fields.List(fields.Nested(SlotOut))


class AppointmentOut(Schema):
    code = fields.String()
    service = fields.Nested(ServiceRef, metadata={"description": "the first service of the visit"})
    services = fields.List(fields.Nested(VisitServiceOut))
    duration_minutes = fields.Integer()
    start = fields.String(metadata={"format": "date-time"})
    end = fields.String(metadata={"format": "date-time"})
    office = fields.Nested(OfficeRef)
    entrance = fields.Nested(EntranceOut, allow_none=True)
    documents = fields.List(fields.String(), metadata={"description": "of all services, each once"})
    notices = fields.List(fields.String())
    persons = fields.Integer()
    manage_token = fields.String()
    manage_url = fields.String()
    status = fields.String(validate=validate.OneOf(("booked", "cancelled", "checked_in", "completed", "no_show")))


class DrawEntryOut(Schema):
    """202 from POST /appointments while a released day's fair draw collects (README, "Faire Verlosung")."""
    status = fields.String(validate=validate.OneOf(("entered",)))
    entry = fields.String(metadata={"description": "the entry's reference"})
    service = fields.Nested(ServiceRef)
    services = fields.List(fields.Nested(VisitServiceOut))
    start = fields.String(metadata={"format": "date-time", "description": "the start asked for"})
    draw_at = fields.String(metadata={"format": "date-time", "description": "when the draw is held"})
    entry_url = fields.String()


class Problem(Schema):
    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    next = fields.Nested(ProposalOut, allow_none=True, metadata={"description": "409 slot taken: a fresh proposal"})
    contact = fields.Nested(ContactOut, metadata={"description": "404 from /next: whom to call in an emergency"})
    bookable_from = fields.String(allow_none=True, metadata={"format": "date"})


class QueueCallOut(Schema):
    ticket = fields.String(metadata={"example": "A-017"})
    counter = fields.String(metadata={"example": "Schalter 2"})
    at = fields.String(metadata={"format": "date-time"})


class QueueOut(Schema):
    office = fields.Nested(OfficeRef)
    open = fields.Boolean()
    waiting = fields.Integer(metadata={"description": "checked in or holding a walk-in ticket, not yet called"})
    estimated_wait_minutes = fields.Integer(metadata={"description": "for someone joining the queue now"})
    called = fields.List(fields.Nested(QueueCallOut), metadata={"description": "today's last calls, newest first"})
    updated_at = fields.String(metadata={"format": "date-time"})
