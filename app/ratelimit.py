"""Per-client rate limits (Flask-Limiter; in Redis when REDIS_URL is set)."""
from __future__ import annotations

from flask import g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _client_key() -> str:
    tenant = g.get("tenant")
    return f"{tenant.slug if tenant else '-'}:{get_remote_address()}"


# Storage comes from RATELIMIT_STORAGE_URI (Redis when REDIS_URL is set); see configure().
limiter = Limiter(key_func=_client_key, headers_enabled=True, strategy="fixed-window")


def write_limit() -> str:
    tenant = g.get("tenant")
    n = int(tenant.settings.get("ratelimit_write_per_minute", 10)) if tenant else 10
    return f"{min(n, 10)} per minute"


def read_limit() -> str:
    tenant = g.get("tenant")
    n = int(tenant.settings.get("ratelimit_read_per_minute", 120)) if tenant else 120
    return f"{min(n, 120)} per minute"


def configure(app) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Redis down must not turn bookings into errors: count in memory meanwhile.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
