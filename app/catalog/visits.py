"""A visit: the services one appointment covers, each for a number of persons.

Two ID cards and a passport for a family are one visit on one counter, lasting as long
as all of them together. `resolve()` turns what a citizen (or a clerk) asked for into a
`Visit`, or says in one sentence why that combination cannot be booked; the slot engine,
the booking rules, the API and the pages all take the `Visit` it returns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.booking.models import MAX_DURATION_MINUTES
from app.catalog.models import Service, bookable_online, online_service
from app.extensions import db

DEFAULT_MAX_SERVICES = 3
_ITEM = re.compile(r"^([a-z0-9][a-z0-9-]{0,62})(?::([0-9]{1,2}))?$")


class VisitProblem(ValueError):
    """The requested combination cannot be booked; the message says why (422 on `services`).
    `kind` and `params` let the pages say it in the citizen's language."""

    def __init__(self, message: str, kind: str = "syntax", **params):
        super().__init__(message)
        self.kind = kind
        self.params = params

    def explain(self, lang: str = "de") -> str:
        """The reason for people (pages and back office), in the request's language."""
        p = self.params
        name = p["service"].display_name(lang) if "service" in p else ""
        texts = {
            "too_many": lambda: _("Ein Termin kann höchstens %(n)d Anliegen umfassen.", n=p["n"]),
            "twice": lambda: _("Jedes Anliegen kann nur einmal gewählt werden; geben Sie stattdessen die Anzahl "
                               "der Personen an."),
            "unknown": lambda: _("Eines der Anliegen kann hier nicht online gebucht werden."),
            "persons": lambda: _("„%(name)s“ ist für 1 bis %(n)d Personen möglich.", name=name, n=p["n"]),
            "offices": lambda: _("Diese Anliegen werden an verschiedenen Orten bearbeitet; bitte buchen Sie für "
                                 "jeden Ort einen eigenen Termin."),
            "not_combinable": lambda: _("„%(name)s“ kann nicht mit anderen Anliegen in einem Termin gebucht "
                                        "werden.", name=name),
            "too_long": lambda: _("Ein Termin kann höchstens %(n)d Minuten dauern; bitte buchen Sie zwei Termine.",
                                  n=p["n"]),
        }
        return texts.get(self.kind, lambda: _("Bitte wählen Sie mindestens ein Anliegen."))()


@dataclass(frozen=True, eq=False)
class Visit:
    """Services with their counts, first service first (never empty)."""

    items: tuple[tuple[Service, int], ...]

    @classmethod
    def single(cls, service: Service, count: int = 1) -> Visit:
        return cls(((service, max(int(count or 1), 1)),))

    @classmethod
    def of_appointment(cls, appt) -> Visit:
        return cls(tuple(appt.services_with_counts()))

    @property
    def first(self) -> Service:
        return self.items[0][0]

    @property
    def services(self) -> list[Service]:
        return [svc for svc, _ in self.items]

    @property
    def office_id(self) -> int | None:
        return self.first.office_id

    @property
    def tenant_id(self) -> int:
        return self.first.tenant_id

    @property
    def duration_minutes(self) -> int:
        """Sum over the services of duration + (count − 1) × additional person minutes."""
        return sum(svc.minutes_for(count) for svc, count in self.items)

    @property
    def key(self) -> tuple:
        """What tells two visits' slots apart (for the slot cache)."""
        return tuple((svc.id, count) for svc, count in self.items)

    def documents(self, lang: str = "de") -> list[str]:
        """The documents of all services, each once, in the order they first appear."""
        seen: dict[str, None] = {}
        for svc in self.services:
            for doc in svc.documents_for(lang):
                seen.setdefault(doc, None)
        return list(seen)

    def fees(self, lang: str = "de") -> list[tuple[str, str]]:
        """(service name, fee) of each service that has one."""
        return [(svc.display_name(lang), svc.fee_for(lang)) for svc in self.services if svc.fee_for(lang)]

    @property
    def param(self) -> str:
        """The visit as `SLUG[:COUNT],…`, as links and the API's `services=` carry it."""
        return format_param([(svc.slug, count) for svc, count in self.items])

    def addable(self, tenant) -> list[Service]:
        """Services that could still join this visit (same office, combinable, not in it yet)."""
        if len(self.items) >= max_services(tenant) or not all(svc.combinable for svc in self.services):
            return []
        have = {svc.id for svc in self.services}
        return [s for s in db.session.scalars(bookable_online().where(Service.office_id == self.office_id,
                                                                      Service.combinable.is_(True)))
                if s.id not in have]

    def as_request(self) -> list[dict]:
        return [{"slug": svc.slug, "count": count} for svc, count in self.items]


def as_visit(demand: Service | Visit) -> Visit:
    return demand if isinstance(demand, Visit) else Visit.single(demand)


def format_param(items: list[tuple[str, int]]) -> str:
    return ",".join(slug if count == 1 else f"{slug}:{count}" for slug, count in items)


def parse(text: str | None) -> list[tuple[str, int]]:
    """`SLUG[:COUNT],SLUG[:COUNT]…` (COUNT defaults to 1) as [(slug, count)]."""
    if text is None or not text.strip():
        raise VisitProblem("name at least one service, e.g. personalausweis:2,reisepass", "empty")
    out = []
    for part in text.split(","):
        m = _ITEM.match(part.strip())
        if not m:
            raise VisitProblem(f"'{part.strip()[:70]}' is not SLUG or SLUG:COUNT")
        out.append((m.group(1), int(m.group(2) or 1)))
    return out


def max_services(tenant) -> int:
    return int(tenant.settings.get("max_services_per_visit", DEFAULT_MAX_SERVICES))


def one_service(slug: str, persons: int = 1) -> Visit:
    """The visit of one service bookable online here, for `persons` it takes (the booking
    form's rule, Service.takes_persons), or VisitProblem "unknown" or "persons"."""
    svc = online_service(slug)
    if svc is None:
        raise VisitProblem(f"no service '{slug}' is bookable online here", "unknown")
    if not svc.takes_persons(persons):
        raise VisitProblem(f"at most {svc.persons_max} for this service", "persons", service=svc, n=svc.persons_max)
    return Visit.single(svc, persons)


def resolve(tenant, requested: list[tuple[str, int]], *, online: bool = True) -> Visit:
    """The visit of these (slug, count) pairs, or VisitProblem naming what is wrong.

    Online, only services bookable online count; a clerk may combine any active
    service of the tenant's offices."""
    if not requested:
        raise VisitProblem("name at least one service", "empty")
    limit = max_services(tenant)
    if len(requested) > limit:
        raise VisitProblem(f"at most {limit} services can share one appointment here", "too_many", n=limit)
    slugs = [slug for slug, _ in requested]
    twice = sorted({s for s in slugs if slugs.count(s) > 1})
    if twice:
        raise VisitProblem(f"'{twice[0]}' is listed twice; give it once with a count, e.g. {twice[0]}:2", "twice")
    q = bookable_online() if online else select(Service).where(Service.active.is_(True),
                                                               Service.office_id.is_not(None))
    found = {s.slug: s for s in db.session.scalars(q.where(Service.slug.in_(slugs)))}
    items = []
    for slug, count in requested:
        svc = found.get(slug)
        if svc is None:
            raise VisitProblem(f"no service '{slug}' is bookable{' online' if online else ''} here", "unknown")
        if not 1 <= count <= svc.persons_max:
            raise VisitProblem(f"'{slug}' can be booked for 1 to {svc.persons_max} person(s)", "persons",
                               service=svc, n=svc.persons_max)
        items.append((svc, count))
    if len({svc.office_id for svc, _ in items}) > 1:
        raise VisitProblem("these services are offered at different offices; book one appointment per office",
                           "offices")
    if len(items) > 1:
        alone = next((svc for svc, _ in items if not svc.combinable), None)
        if alone is not None:
            raise VisitProblem(f"'{alone.slug}' cannot be combined with other services in one appointment",
                               "not_combinable", service=alone)
    visit = Visit(tuple(items))
    if visit.duration_minutes > MAX_DURATION_MINUTES:
        raise VisitProblem(f"one appointment can last at most {MAX_DURATION_MINUTES} minutes; "
                           f"this visit would take {visit.duration_minutes}", "too_long", n=MAX_DURATION_MINUTES)
    return visit
