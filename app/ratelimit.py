"""Per-client rate limits (Flask-Limiter; in Redis when REDIS_URL is set)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flask import g
from flask_limiter import Limiter
from flask_limiter.constants import HeaderNames
from flask_limiter.util import get_qualified_name, get_remote_address
from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter

READ_SCOPE = "api-read"  # the shared limit of the API's reads (app/api/views.py)
HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")


def client_key_for(tenant, remote_addr: str | None) -> str:
    return f"{tenant.slug if tenant else '-'}:{remote_addr or '127.0.0.1'}"


def _client_key() -> str:
    return client_key_for(g.get("tenant"), get_remote_address())


# Storage comes from RATELIMIT_STORAGE_URI (Redis when REDIS_URL is set); see configure().
limiter = Limiter(key_func=_client_key, headers_enabled=True, strategy="fixed-window")


def write_limit() -> str:
    tenant = g.get("tenant")
    n = int(tenant.settings.get("ratelimit_write_per_minute", 10)) if tenant else 10
    return f"{min(n, 10)} per minute"


def read_limit_for(tenant) -> str:
    n = int(tenant.settings.get("ratelimit_read_per_minute", 120)) if tenant else 120
    return f"{min(n, 120)} per minute"


def read_limit() -> str:
    return read_limit_for(g.get("tenant"))


def configure(app) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Redis down must not turn bookings into errors: count in memory meanwhile.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)


# --- counting a read outside Flask (app/fastpath.py) --------------------------------------
@dataclass(frozen=True)
class Budget:
    """The fixed-window counter Flask-Limiter counts a read in: its Redis key, the
    limit and the window's length. Counting it (INCRBY 1, EXPIRE on the first hit, as
    limits' incr_expire.lua) is counting the read exactly as Flask would."""

    key: str
    amount: int
    seconds: int


@lru_cache(maxsize=64)
def _item(limit: str) -> RateLimitItem:
    return parse(limit)


def _redis_address(client) -> tuple:
    kw = client.connection_pool.connection_kwargs
    return (kw.get("host"), kw.get("port"), kw.get("path"), kw.get("db", 0))


def counts_reads_alike(app, endpoint: str, shared_client) -> bool:
    """Whether a read of `endpoint` can be counted outside Flask exactly as Flask-Limiter
    counts it: the limiter on, a fixed window in plain Redis (the shared cache's server and
    database), the default headers, and the endpoint's only limit the shared read limit
    (no default, application, meta or blueprint limit, no filter, prefix, exemption or
    conditional deduction). Asks Flask-Limiter's own state (some of it private: a name
    that moved in an upgrade reads as "no", and Flask counts as before)."""
    lim = limiter
    try:
        if not (app.config.get("RATELIMIT_ENABLED") and lim.enabled and lim.initialized):
            return False
        storage = lim.storage
        if type(storage) is not RedisStorage or type(lim.limiter) is not FixedWindowRateLimiter:
            return False
        if _redis_address(storage.storage) != _redis_address(shared_client):
            return False
        if getattr(lim, "_headers_enabled", None) is not True or getattr(lim, "_retry_after", "?") is not None:
            return False
        mapping = getattr(lim, "_header_mapping", None) or {}
        names = (HeaderNames.LIMIT, HeaderNames.REMAINING, HeaderNames.RESET, HeaderNames.RETRY_AFTER)
        if tuple(mapping.get(h) for h in names) != HEADERS:
            return False
        if getattr(lim, "_key_prefix", "?") != "" or getattr(lim, "_meta_limits", [1]) \
                or getattr(lim, "_request_filters", [1]) or getattr(lim, "_on_breach", 1) is not None:
            return False
        manager = lim.limit_manager
        if getattr(manager, "_application_limits", [1]) or getattr(manager, "_default_limits", [1]) \
                or getattr(manager, "_blueprint_limits", {1: 1}) or getattr(manager, "_route_exemptions", {1: 1}) \
                or getattr(manager, "_blueprint_exemptions", {1: 1}):
            return False
        view = app.view_functions.get(endpoint)
        groups = getattr(manager, "_decorated_limits", {}).get(get_qualified_name(view)) if view else None
        if not groups or len(groups) != 1:
            return False
        group = groups[0]
        return (group.limit_provider is read_limit and group.key_function is _client_key
                and group.scope == READ_SCOPE and group.shared is True and not group.per_method
                and not group.methods and group.exempt_when is None and group.deduct_when is None
                and group.on_breach is None and group.cost == 1 and group.override_defaults is True)
    except Exception:  # any doubt: Flask counts
        return False


def read_budget(tenant, remote_addr: str | None) -> Budget | None:
    """The counter of this client's reads of this tenant's API, as Flask-Limiter names it
    (`LIMITS:LIMITER/<tenant>:<address>/api-read/<n>/1/minute`), or None while the
    limiter counts in memory (Redis away: Flask answers, and counts there)."""
    lim = limiter
    if lim.limiter.storage is not lim.storage:  # the in-memory fallback is active
        return None
    item = _item(read_limit_for(tenant))
    key = lim.storage.prefixed_key(item.key_for(client_key_for(tenant, remote_addr), READ_SCOPE))
    return Budget(key, item.amount, item.get_expiry())
