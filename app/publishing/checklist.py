"""The go-live checklist and publishing (CONTRACT §4).

Only the blocking items decide whether a draft may go online: a real address, phone and
e-mail of its own; opening hours and a counter for every office with an online-bookable
service; complete legal pages. The rest is advice shown beside them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.booking.models import Appointment
from app.catalog.models import bookable_online
from app.extensions import db
from app.legal.fields import PAGES, missing_parts, pages_for
from app.offices.models import Counter, Office, OpeningHours
from app.publishing.contact import template_address
from app.tenancy.models import BOOKABLE_STATUSES, TENANT_STATUSES, Tenant
from app.tenancy.scope import tenant_scope

# A real address has a house number or a postcode; "Rathaus" or "Am Markt" alone is a placeholder.
_DIGIT = re.compile(r"\d")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The template office's address in a district file is a placeholder, never a town's real address.
PLACEHOLDER_ADDRESSES = {"", "rathaus", "bürgerbüro", "adresse"}


@dataclass
class Item:
    key: str
    label: str
    problems: list[str] = field(default_factory=list)
    blocking: bool = True
    fix: str = ""  # the back-office route that fixes it

    @property
    def ok(self) -> bool:
        return not self.problems


class NotReady(Exception):
    """Publishing refused; `missing` lists every blocking problem in words."""

    def __init__(self, missing: list[str]):
        super().__init__("\n".join(missing))
        self.missing = missing


def _contact_items(tenant: Tenant) -> list[Item]:
    parent = tenant.parent
    address = (tenant.address or "").strip()
    address_item = Item("address", "Eigene Anschrift", fix="backoffice.contact")
    if address.lower() in PLACEHOLDER_ADDRESSES or address == template_address(tenant).strip():
        address_item.problems.append("Anschrift fehlt (Straße, Hausnummer, Postleitzahl und Ort)")
    elif not _DIGIT.search(address):
        address_item.problems.append("Anschrift ohne Hausnummer und Postleitzahl: bitte Straße, Hausnummer, "
                                     "Postleitzahl und Ort")
    elif parent is not None and address == (parent.address or "").strip():
        address_item.problems.append("Anschrift ist die des Kreises, nicht die eigene")
    phone_item = Item("phone", "Eigene Telefonnummer", fix="backoffice.contact")
    phone = (tenant.contact_phone or "").strip()
    if len(re.sub(r"\D", "", phone)) < 5:
        phone_item.problems.append("Telefonnummer fehlt")
    elif parent is not None and phone == (parent.contact_phone or "").strip():
        phone_item.problems.append("Telefonnummer ist die des Kreises, nicht die eigene")
    email_item = Item("email", "Eigene E-Mail-Adresse", fix="backoffice.contact")
    email = (tenant.contact_email or "").strip().lower()
    if not _EMAIL.match(email):
        email_item.problems.append("E-Mail-Adresse fehlt")
    elif parent is not None and email == (parent.contact_email or "").strip().lower():
        email_item.problems.append("E-Mail-Adresse ist die des Kreises, nicht die eigene")
    return [address_item, phone_item, email_item]


def _office_items() -> list[Item]:
    hours_item = Item("hours", "Öffnungszeiten und Schalter für jedes Büro mit Online-Terminen",
                      fix="backoffice.offices_list")
    docs_item = Item("documents", "Mitzubringende Unterlagen für jede Online-Dienstleistung", blocking=False,
                     fix="backoffice.services")
    services = list(db.session.scalars(bookable_online()))
    office_ids = {s.office_id for s in services}
    for office in db.session.scalars(select(Office).where(Office.id.in_(office_ids)).order_by(Office.position)):
        has_hours = db.session.scalar(select(OpeningHours.id).where(OpeningHours.office_id == office.id).limit(1))
        has_counter = db.session.scalar(select(Counter.id).where(
            Counter.office_id == office.id, Counter.active.is_(True)).limit(1))
        if not has_hours:
            hours_item.problems.append(f"{office.name}: keine Öffnungszeiten")
        if not has_counter:
            hours_item.problems.append(f"{office.name}: kein aktiver Schalter")
    for svc in services:
        if not svc.documents:
            docs_item.problems.append(f"{svc.name}: keine Unterlagen angegeben")
    return [hours_item, docs_item]


def _mail_item(tenant: Tenant) -> Item:
    item = Item("test_mail", "Mail einer Testbuchung angesehen", blocking=False, fix="backoffice.mail_templates")
    seen = db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "test_mail_sent").limit(1)) or \
        db.session.scalar(select(Appointment.id).limit(1))
    if not seen:
        item.problems.append("Noch keine Testbuchung und keine Testmail: bitte eine Mail zur Probe ansehen")
    return item


def checklist(tenant: Tenant) -> list[Item]:
    """Every item with its state, blocking ones first."""
    items = _contact_items(tenant)
    with tenant_scope(tenant.id):
        office_items = _office_items()
        mail_item = _mail_item(tenant)
    items.append(office_items[0])
    for page in pages_for(tenant):
        item = Item(f"legal_{page}", PAGES[page], fix="backoffice.legal")
        item.problems = [f"{PAGES[page]}: {part} fehlt" for part in missing_parts(tenant, page)]
        items.append(item)
    items += [office_items[1], mail_item]
    return items


def missing_items(tenant: Tenant) -> list[str]:
    return [problem for item in checklist(tenant) if item.blocking for problem in item.problems]


def published_already(tenant: Tenant, *, live: bool = False) -> bool:
    """Bookable already: publishing again would change nothing (only going live is left)."""
    return tenant.status in BOOKABLE_STATUSES and not live


def publish(tenant: Tenant, *, live: bool = False) -> str:
    """Make a tenant bookable when its checklist passes; returns the new status. A live
    tenant stays live (publishing never turns it back into a pilot). The caller commits."""
    missing = missing_items(tenant)
    if missing:
        raise NotReady(missing)
    tenant.status = "live" if live or tenant.status == "live" else "pilot"
    db.session.flush()
    return tenant.status


def switch_status(town: Tenant, status: str) -> str:
    """District IT switches a town to `status`; returns the status before. Becoming bookable
    goes through the go-live checklist (NotReady when it fails); a district keeps its status.
    The caller commits."""
    if status not in TENANT_STATUSES or town.kind == "district":
        raise ValueError(f"unknown status {status!r}")
    before = town.status
    if status in BOOKABLE_STATUSES and before not in BOOKABLE_STATUSES:
        publish(town, live=status == "live")
    town.status = status
    db.session.flush()
    return before
