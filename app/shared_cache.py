"""Versions in Redis that every web process reads, raised after commit.

Two kinds of version live under `amt:sc:`:

- `tv`, one number for all tenants: raised by any committed change of a tenant (settings,
  hosts, status), an office or its entrances, a service or which counters serve it. It validates the
  per-process host cache and is part of every shared answer's key.
- `ov`, a hash office id -> number: raised by any committed change of the office's
  bookable time (appointments, hours, closures, counters); the database's own
  `offices.schedule_version` is raised in the same transaction and stays authoritative.

Raised only after the transaction commits (`publish()` from an after_commit listener), so
a reader never sees a version whose data is not committed yet; the writer's own request
raises before it answers, so the next request on any process sees the change. A missing
version (Redis restarted, flushed) is seeded with a fresh random number, never restarted
at 1, so no answer stored under an old number can match again.

Redis down never gives a wrong answer: every read here then says "unknown" and the
caller falls back to the database. Raises that could not be published are kept in this
process and published first thing when Redis answers again; until then this process
does not serve shared answers at all. The answers carry a short time to live as well.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
from functools import lru_cache

from flask import current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "amt:sc:"
TENANTS = PREFIX + "tv"
OFFICES = PREFIX + "ov"
DOWN_SECONDS = 2.0  # after a failure, Redis is not asked again for this long
TIMEOUT_SECONDS = 0.25

_SEED = 1 << 40
# Raise, seeding first when missing (a hash field per office, a string for the tenants).
_RAISE = """
for i, office in ipairs(ARGV) do
  if i > 1 then
    if redis.call('HEXISTS', KEYS[1], office) == 0 then
      redis.call('HSET', KEYS[1], office, ARGV[1])
    end
    redis.call('HINCRBY', KEYS[1], office, 1)
  end
end
if KEYS[2] then
  if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[1]) end
  redis.call('INCR', KEYS[2])
end
return 1
"""

_down_until = 0.0
_pending_offices: set[int] = set()
_pending_tenants = False
_lock = threading.Lock()


@lru_cache(maxsize=8)
def _client(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS,
                          health_check_interval=30)


def client() -> Redis | None:
    """The Redis of the shared cache, or None (not configured, or down a moment ago)."""
    if not has_app_context() or time.monotonic() < _down_until:
        return None
    url = current_app.config.get("REDIS_URL")
    if not url or not current_app.config.get("SHARED_CACHE", True):
        return None
    return _client(url)


def client_for(config) -> Redis | None:
    """client() for a caller outside any app context (the WSGI fast path, app/fastpath.py):
    None also while a raise of this process waits to be published (`in_sync()` would
    publish it first, which needs the app)."""
    if time.monotonic() < _down_until or _pending_offices or _pending_tenants:
        return None
    url = config.get("REDIS_URL")
    if not url or not config.get("SHARED_CACHE", True):
        return None
    return _client(url)


def failed(exc: Exception) -> None:
    """Redis did not answer: leave it alone for a moment (every caller falls back)."""
    global _down_until
    _down_until = time.monotonic() + DOWN_SECONDS
    log.warning("shared cache: Redis unavailable, reading the database", extra={"error": type(exc).__name__})


def reset() -> None:
    """Forget a failure and anything pending (tests)."""
    global _down_until, _pending_tenants
    with _lock:
        _down_until = 0.0
        _pending_offices.clear()
        _pending_tenants = False


def reset_down() -> None:
    """Ask Redis again at once, keeping what waits to be published (tests)."""
    global _down_until
    _down_until = 0.0


def in_sync() -> bool:
    """True when Redis holds every raise this process made (publishing what waited)."""
    if not _pending_offices and not _pending_tenants:
        return True
    publish(set(), False)
    return not _pending_offices and not _pending_tenants


def _seed() -> int:
    return _SEED + secrets.randbits(40)


def tenants_version() -> str | None:
    """The current tenants version, seeded when missing; None when Redis is unusable."""
    r = client()
    if r is None or not in_sync():
        return None
    try:
        value = r.get(TENANTS)
        if value is None:
            r.set(TENANTS, _seed(), nx=True)
            value = r.get(TENANTS)
    except RedisError as exc:
        failed(exc)
        return None
    return value.decode() if value is not None else None


def office_version(office_id: int) -> str | None:
    """The current version of an office's bookable time, seeded when missing."""
    r = client()
    if r is None:
        return None
    try:
        value = r.hget(OFFICES, office_id)
        if value is None:
            r.hsetnx(OFFICES, office_id, _seed())
            value = r.hget(OFFICES, office_id)
    except RedisError as exc:
        failed(exc)
        return None
    return value.decode() if value is not None else None


def publish(office_ids: set[int], tenants: bool) -> None:
    """Raise these versions in Redis (after a commit); what fails waits in this process."""
    global _pending_tenants
    with _lock:
        office_ids = set(office_ids) | _pending_offices
        tenants = tenants or _pending_tenants
        _pending_offices.clear()
        _pending_tenants = False
    if not office_ids and not tenants:
        return
    url = current_app.config.get("REDIS_URL") if has_app_context() else None
    if not url:
        return
    try:
        if time.monotonic() < _down_until:
            raise ConnectionError("Redis was down a moment ago")
        keys = [OFFICES, TENANTS] if tenants else [OFFICES]
        _client(url).eval(_RAISE, len(keys), *keys, _seed(), *sorted(office_ids))
    except (RedisError, ConnectionError) as exc:
        with _lock:
            _pending_offices.update(office_ids)
            _pending_tenants = _pending_tenants or tenants
        if isinstance(exc, RedisError):
            failed(exc)
