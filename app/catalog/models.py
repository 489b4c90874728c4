"""Services citizens book, and which counters serve them."""
from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.i18n import Localized, pick, pick_list
from app.tenancy.scope import TenantRow, tenant_key, tenant_ref

# Fields a town inherits from its district's catalogue unless it overrides them.
INHERITABLE_FIELDS = (
    "name",
    "description",
    "duration_minutes",
    "documents",
    "fee",
    "bookable_online",
    "persons_max",
    "position",
    "name_en",
    "description_en",
    "additional_person_minutes",
    "combinable",
    "leika_key",
    "documents_en",
    "fee_en",
)


class Service(TenantRow, db.Model):
    """A concern a citizen books ("Reisepass").

    A district's service with `shared` set is part of the catalogue its towns inherit.
    A town holds its own row for each inherited service (`inherited`), whose fields
    follow the district's except those listed in `overridden`; `refresh_inherited()`
    keeps them in step. `office_id` NULL means a catalogue entry not offered here.
    """

    __tablename__ = "services"
    __table_args__ = (
        tenant_key(),
        UniqueConstraint("tenant_id", "slug"),
        CheckConstraint("duration_minutes BETWEEN 5 AND 480", name="duration_range"),
        CheckConstraint("persons_max BETWEEN 1 AND 10", name="persons_range"),
        CheckConstraint("additional_person_minutes IS NULL OR additional_person_minutes BETWEEN 1 AND 480",
                        name="additional_person_minutes_range"),
        CheckConstraint("slug <> ''", name="slug_not_empty"),
        CheckConstraint("length(leika_key) IN (0, 14)", name="leika_key_length"),
    )

    slug: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column()
    documents: Mapped[list] = mapped_column(JSON, default=list)
    fee: Mapped[str] = mapped_column(String(200), default="")
    # English texts; empty: the German one is shown (marked lang="de").
    documents_en: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    fee_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    bookable_online: Mapped[bool] = mapped_column(default=True)
    persons_max: Mapped[int] = mapped_column(default=1)
    position: Mapped[int] = mapped_column(default=0)
    # Visits (several services and persons in one appointment): the time each person
    # after the first adds (NULL: the service's own duration), and whether the service
    # may share a visit with other combinable services of its office.
    additional_person_minutes: Mapped[int | None] = mapped_column()
    combinable: Mapped[bool] = mapped_column(default=True)
    # The federal service key (LeiKa, Leistungskatalog der öffentlichen Verwaltung): 14
    # digits, or empty. Inherited from the district's catalogue like the other fields.
    leika_key: Mapped[str] = mapped_column(String(14), default="", server_default="")
    office_id: Mapped[int | None] = tenant_ref("offices", "RESTRICT", index=True)
    active: Mapped[bool] = mapped_column(default=True)  # False: hidden by this tenant
    shared: Mapped[bool] = mapped_column(default=False)  # district: part of the towns' catalogue
    inherited: Mapped[bool] = mapped_column(default=False)  # town: row follows the district's
    overridden: Mapped[list] = mapped_column(JSON, default=list)  # fields set by this tenant
    admin_edited: Mapped[bool] = mapped_column(default=False)  # sync leaves admin edits alone

    office = relationship("Office", foreign_keys=[office_id])
    counter_links: Mapped[list[ServiceCounter]] = relationship(
        cascade="all, delete-orphan", foreign_keys="ServiceCounter.service_id"
    )

    def set_counters(self, counter_ids: set[int]) -> bool:
        """Serve exactly these counters (none: every counter of the office). True if changed."""
        have = {link.counter_id: link for link in self.counter_links}
        if set(have) == counter_ids:
            return False
        for cid, link in have.items():
            if cid not in counter_ids:
                self.counter_links.remove(link)
        for cid in counter_ids - set(have):
            self.counter_links.append(ServiceCounter(tenant_id=self.tenant_id, counter_id=cid))
        return True

    def minutes_for(self, count: int) -> int:
        """How long this service takes for `count` persons."""
        extra = self.additional_person_minutes or self.duration_minutes
        return self.duration_minutes + (max(count, 1) - 1) * extra

    def takes_persons(self, persons: int) -> bool:
        """Whether one booking of this service may cover `persons` persons (online, by phone, by API)."""
        return 1 <= persons <= max(1, self.persons_max)

    def display_name(self, lang: str = "de") -> str:
        return (self.name_en if lang == "en" and self.name_en else self.name)

    def display_description(self, lang: str = "de") -> str:
        return self.description_en if lang == "en" and self.description_en else self.description

    def documents_for(self, lang: str = "de") -> list[Localized]:
        """The documents to bring, in English when asked and set (else German)."""
        return pick_list(lang, self.documents_en, self.documents)

    def fee_for(self, lang: str = "de") -> Localized:
        return pick(lang, self.fee_en, self.fee)


def bookable_online():
    """Services citizens may book online here, in display order (pages and API alike)."""
    return select(Service).where(Service.active.is_(True), Service.bookable_online.is_(True),
                                 Service.office_id.is_not(None)).order_by(Service.position, Service.slug)


def online_service(slug: str | None) -> Service | None:
    """The service bookable online here under `slug` (None for none): what a booking link,
    the emergency form and the API name."""
    return db.session.scalar(bookable_online().where(Service.slug == slug)) if slug else None


def online_services() -> list[Service]:
    return list(db.session.scalars(bookable_online()))


def bookable_by_staff():
    """Every active service offered here, online-bookable or not (clerks book all)."""
    return select(Service).where(Service.active.is_(True), Service.office_id.is_not(None)).order_by(
        Service.position, Service.name)


def staff_services() -> list[Service]:
    return list(db.session.scalars(bookable_by_staff()))


def staff_service(service_id: int | None) -> Service | None:
    """The service a clerk may book under `service_id` (None for none)."""
    return db.session.scalar(bookable_by_staff().where(Service.id == service_id)) if service_id is not None else None


def all_services() -> list[Service]:
    """Every service of the tenant, switched off ones too, in the admin's order."""
    return list(db.session.scalars(select(Service).order_by(Service.position, Service.name)))


def offline_services() -> list[Service]:
    return list(db.session.scalars(by_phone_or_in_person()))


def offline_service(slug: str) -> Service | None:
    """The service offered here under `slug` that citizens book by phone or in person (None for none)."""
    return db.session.scalar(by_phone_or_in_person().where(Service.slug == slug))


def by_phone_or_in_person():
    """Services offered here that citizens cannot book online (they call or come by)."""
    return select(Service).where(Service.active.is_(True), Service.bookable_online.is_(False),
                                 Service.office_id.is_not(None)).order_by(Service.position, Service.slug)


class ServiceCounter(TenantRow, db.Model):
    """A counter that serves a service. A service with no rows is served by every
    counter of its office."""

    __tablename__ = "service_counters"
    __table_args__ = (
        UniqueConstraint("tenant_id", "service_id", "counter_id"),
    )

    service_id: Mapped[int] = tenant_ref("services", "CASCADE", index=True)
    counter_id: Mapped[int] = tenant_ref("counters", "CASCADE", index=True)
