"""Resolve the tenant once per request from the Host header."""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, abort, current_app, g, has_request_context, request
from sqlalchemy import select

from app import shared_cache
from app.extensions import db
from app.faults import discard_session, retry_safe
from app.tenancy.models import Tenant, TenantHost
from app.tenancy.scope import all_tenants, enter_tenant, leave_tenant
from app.i18n import Localized, pick
from app.tenancy.settings import effective_settings, effective_texts, text_for

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_RE = re.compile(rf"^(?P<name>{_LABEL}(?:\.{_LABEL})*)\.?(?::(?P<port>\d{{1,5}}))?$")
_IP6_RE = re.compile(r"^\[[0-9a-f:.]+\](?::\d{1,5})?$")
_ORIGIN_RE = re.compile(r"^https?://[a-z0-9.-]+(?::\d{1,5})?$")

# Paths answered on every host, known or not.
HOST_INDEPENDENT = ("/healthz", "/readyz", "/metrics")
# Endpoints whose view confirms the tenants version itself, in the same round trip to Redis
# as its shared answer (app/api/views.py): they start with the host's last known tenant and
# call `confirm_tenant()` when that round trip says the version moved on.
PROVISIONAL_ENDPOINTS: set[str] = set()


class MalformedHost(ValueError):
    pass


class TenantSwitchedOff(Exception):
    """A disabled tenant keeps its data and its back office; raised before any citizen or
    API view, and answered by app.errors (a page, or problem+json under /api/)."""

    def __init__(self, info: TenantInfo):
        super().__init__(info.slug)
        self.info = info


def normalize_host(raw: str | None) -> str | None:
    """Lower-case host without port and trailing dot; None for an IPv6 literal.

    Raises MalformedHost for anything that is not a host name."""
    value = (raw or "").strip().lower()
    if not value:
        raise MalformedHost("empty host")
    if _IP6_RE.match(value):
        return None
    m = _HOST_RE.match(value)
    if not m or len(m.group("name")) > 253:
        raise MalformedHost(value)
    return m.group("name")


@dataclass(frozen=True)
class TenantInfo:
    """What a request needs of its tenant, cached for a moment per host."""

    id: int
    slug: str
    name: str
    kind: str
    parent_id: int | None
    parent_slug: str | None
    timezone: str
    state: str
    status: str
    contact_phone: str
    contact_email: str
    contact_hours: str
    settings: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, Any] = field(default_factory=dict)
    address: str = ""
    contact_hours_en: str = ""

    def contact_hours_for(self, lang: str = "de") -> Localized:
        return pick(lang, self.contact_hours_en, self.contact_hours)

    def text(self, key: str, lang: str = "de") -> Localized:
        """A tenant text (privacy, emergency, footer …) in `lang` when set, else German."""
        return text_for(self.texts, key, lang)

    @classmethod
    def of(cls, tenant: Tenant) -> TenantInfo:
        return cls(
            id=tenant.id, slug=tenant.slug, name=tenant.name, kind=tenant.kind, parent_id=tenant.parent_id,
            parent_slug=tenant.parent.slug if tenant.parent else None, timezone=tenant.timezone,
            state=tenant.state, status=tenant.status, contact_phone=tenant.contact_phone,
            contact_email=tenant.contact_email, contact_hours=tenant.contact_hours,
            settings=effective_settings(tenant), texts=effective_texts(tenant), address=tenant.address or "",
            contact_hours_en=tenant.contact_hours_en or "",
        )


class HostCache:
    """host -> TenantInfo (or None). With Redis, an entry holds while the tenants version
    (app/shared_cache.py, raised after any committed change of a tenant or its hosts) is
    the one it was read under: a new town, domain or setting is seen by every process at
    its next request, and a known host costs no database. Without Redis (or while it is
    away) an entry is refreshed after `ttl` seconds."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, TenantInfo | None, str | None]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def last_known(self, host: str) -> TenantInfo | None:
        """The tenant this host was last resolved to, however long ago, without asking the
        database: for the page that says the database is away (it shows the phone)."""
        hit = self._entries.get(host)
        return hit[1] if hit else None

    def get(self, host: str) -> TenantInfo | None:
        return self.get_versioned(host)[0]

    def get_versioned(self, host: str) -> tuple[TenantInfo | None, str | None]:
        """The tenant of a host and the tenants version it is valid under (None: unknown)."""
        version = shared_cache.tenants_version()
        now = time.monotonic()
        hit = self._entries.get(host)
        if hit and (hit[2] == version if version is not None
                    else now - hit[0] < current_app.config["HOST_CACHE_SECONDS"]):
            return hit[1], version
        try:
            info = lookup_host(host)
        except Exception as exc:
            if not retry_safe(exc):
                raise
            discard_session()
            info = lookup_host(host)  # once more, on a fresh connection
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[host] = (now, info, version)  # the version read before the lookup
        return info, version

    def provisional(self, host: str) -> tuple[TenantInfo | None, str | None]:
        """The last known tenant of a host and the version it was read under, without any
        round trip; (None, None) when there is none to go on."""
        if shared_cache.client() is None:
            return None, None
        return self.peek(host)

    def peek(self, host: str) -> tuple[TenantInfo | None, str | None]:
        """provisional() without asking whether Redis is usable (the caller does)."""
        hit = self._entries.get(host)
        if hit is None or hit[2] is None or hit[1] is None:
            return None, None
        return hit[1], hit[2]


host_cache = HostCache()


def confirm_tenant():
    """For a request that started with a provisional tenant whose version proved stale:
    the tenant as of now. When it differs, every before_request hook runs again with it
    (the switched-off and draft answers, the limits); returns what they answered, if any."""
    g.tenant_unconfirmed = False
    before = g.tenant
    info, g.tenants_version = host_cache.get_versioned(normalize_host(request.headers.get("Host")))
    if info == before:
        return None
    answer = current_app.preprocess_request()
    g.tenant_unconfirmed = False
    return answer


def lookup_host(host: str) -> TenantInfo | None:
    base = current_app.config["BASE_DOMAIN"]
    tenant = None
    with all_tenants():
        if host.endswith("." + base):
            slug = host[: -len(base) - 1]
            if "." not in slug:
                tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            tenant = db.session.scalar(
                select(Tenant).join(TenantHost).where(TenantHost.host == host)
            )
        info = TenantInfo.of(tenant) if tenant is not None else None
    db.session.rollback()  # end the read-only transaction; nothing was written
    return info


def init_app(app: Flask) -> None:
    @app.before_request
    def _resolve_tenant():
        token = g.pop("tenant_token", None)
        if token is not None:  # run again by confirm_tenant()
            leave_tenant(token)
        g.tenant = None
        try:
            host = normalize_host(request.headers.get("Host"))
        except MalformedHost:
            abort(400, description="The Host header is not a valid host name.")
        if request.path in HOST_INDEPENDENT:
            return None
        if host is None:
            abort(404)
        if host == app.config["BASE_DOMAIN"]:
            if request.path == "/" or request.path.startswith("/static/"):
                return None
            abort(404)
        info = None
        if request.endpoint in PROVISIONAL_ENDPOINTS:
            info, g.tenants_version = host_cache.provisional(host)
            if info is not None and info.status in ("draft", "disabled"):
                info = None  # answered before any view: never on a provisional tenant
            g.tenant_unconfirmed = info is not None
        if info is None:
            info, g.tenants_version = host_cache.get_versioned(host)
        if info is None:
            abort(404)
        g.tenant = info
        g.tenant_token = enter_tenant(info.id)
        if info.status == "disabled" and not request.path.startswith(("/admin", "/static/")):
            raise TenantSwitchedOff(info)
        return None

    @app.teardown_request
    def _leave_tenant(exc=None):
        token = g.pop("tenant_token", None)
        if token is not None:
            leave_tenant(token)


_framing: dict[int, tuple[str, tuple[str, ...]]] = {}


def framing_hosts(tenant_id: int) -> tuple[str, ...]:
    """The tenant's own hosts and the origins noted on them (docs/embedding.md): who may
    frame its citizen pages. Kept in this process while the request's tenants version is
    the one they were read under (a host's change raises it), so a page answered from the
    shared cache reads no database for its headers; without Redis, read every time."""
    version = g.get("tenants_version")
    hit = _framing.get(tenant_id)
    if version is not None and hit is not None and hit[0] == version:
        return hit[1]
    found: list[str] = []
    for host in db.session.scalars(select(TenantHost).where(TenantHost.tenant_id == tenant_id)):
        found.append(host.host)
        found.extend(tok.lower() for tok in (host.note or "").split() if _ORIGIN_RE.match(tok.lower()))
    if version is not None:
        if len(_framing) > 10_000:
            _framing.clear()
        _framing[tenant_id] = (version, tuple(found))
    return tuple(found)


def tenant_info(tenant_id: int) -> TenantInfo:
    """The TenantInfo of a tenant, for code outside a request (jobs, CLI)."""
    current = g.get("tenant") if has_request_context() else None
    if current is not None and current.id == tenant_id:
        return current
    with all_tenants():
        return TenantInfo.of(db.session.get(Tenant, tenant_id))


def tenant_by_slug(slug: str) -> Tenant | None:
    """The tenant a command line or a file names by its slug (any case, spaces trimmed)."""
    with all_tenants():
        return db.session.scalar(select(Tenant).where(Tenant.slug == slug.strip().lower()))


def listed_tenants() -> list[tuple[str, str, str]]:
    """(name, slug, kind) of every tenant the bare BASE_DOMAIN lists: all but the switched
    off, districts before towns, by name."""
    with all_tenants():
        return [(t.name, t.slug, t.kind) for t in db.session.scalars(
            select(Tenant).where(Tenant.status != "disabled").order_by(Tenant.kind, Tenant.name))]


def district_and_towns(district_id: int) -> list[Tenant]:
    """The district first, then its towns by slug."""
    with all_tenants():
        return list(db.session.scalars(
            select(Tenant).where((Tenant.id == district_id) | (Tenant.parent_id == district_id))
            .order_by(Tenant.parent_id.is_not(None), Tenant.slug)))


def of_district(district_id: int, slug: str) -> Tenant | None:
    """The district itself or one of its towns under `slug`: what its IT may change; None otherwise."""
    return next((t for t in district_and_towns(district_id) if t.slug == slug), None)
