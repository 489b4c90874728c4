"""Read answers shared by every web process: the rendered body of a slot list or a
proposal in Redis, answered again without the database while nothing it depends on changed.

An answer is stored under a key of the tenant, the tenants version (settings, hosts,
offices, services: app/shared_cache.py), the endpoint, the query and the language. It
carries the office it was computed for, that office's version as read *before* the
database was read, and the earliest moment the passing of time alone may change it
(`changes_at`: the first listed start becoming too soon, a cancelled start coming back
after its cooling-off, local midnight, the release time opening a new day). A hit needs
the office's version to be unchanged and `changes_at` not reached; one round trip to
Redis (a script) answers both, and checks the tenants version the request's provisional
tenant was read under; a body this process already holds (by its digest) is not sent again. Anything else, Redis down included, is a miss: the view
computes from the database as before and stores the answer for the next request.
"""
from __future__ import annotations

import hashlib
import math
from contextvars import ContextVar
from dataclasses import dataclass

from redis.exceptions import RedisError

from app import shared_cache

ANSWERS = shared_cache.PREFIX + "a:"
MAX_SECONDS = 120  # a stored answer lives at most this long in Redis whatever happens

# KEYS: answer, office versions, tenants version; ARGV: the tenants version the request
# went by, the digest of the body this process already holds for the answer ('' if none).
# Returns {tenants version now, status, content type, body or false, digest} for a valid
# entry, {tenants version now} otherwise.
_LOOKUP = """
local tv = redis.call('GET', KEYS[3])
if tv ~= ARGV[1] then return {tv or ''} end
local e = redis.call('HMGET', KEYS[1], 'o', 'v', 'x', 's', 't', 'h')
if not e[1] then return {tv} end
if redis.call('HGET', KEYS[2], e[1]) ~= e[2] then return {tv} end
local body = false
if e[6] ~= ARGV[2] then body = redis.call('HGET', KEYS[1], 'b') end
return {tv, e[3], e[4], e[5], body, e[6]}
"""
LOCAL_BODIES = 256  # bodies this process keeps by digest, so a large answer is not fetched each time
_bodies: dict[str, tuple[str, bytes]] = {}


@dataclass(frozen=True)
class Found:
    """What a lookup learnt: the tenants version now (None: Redis unusable), and the
    answer (status, content type, body) when one was valid."""

    tenants_version: str | None
    answer: tuple[int, str, bytes] | None = None


@dataclass
class Recording:
    """What one computation depended on, noted by the slot engine as it runs."""

    office_id: int | None = None
    version: str | None = None
    changes_at: float = math.inf
    shareable: bool = True


_recording: ContextVar[Recording | None] = ContextVar("shared_answer_recording", default=None)


def key(tenant_id: int, tenants_version: str, endpoint: str, parts: tuple) -> str:
    digest = hashlib.blake2b(repr((tenant_id, tenants_version, endpoint, parts)).encode(), digest_size=16)
    return ANSWERS + digest.hexdigest()


def lookup(answer_key: str, tenants_version: str, now: float) -> Found:
    """The stored answer still valid at `now` under this tenants version, in one round trip."""
    r = shared_cache.client()
    if r is None or not shared_cache.in_sync():
        return Found(None)
    held = _bodies.get(answer_key)
    try:
        found = r.eval(_LOOKUP, 3, answer_key, shared_cache.OFFICES, shared_cache.TENANTS, tenants_version,
                       held[0] if held else "")
    except RedisError as exc:
        shared_cache.failed(exc)
        return Found(None)
    current = found[0].decode() or None
    if len(found) == 1 or float(found[1]) <= now:
        return Found(current)
    digest = found[5].decode()
    if found[4]:
        body = found[4]
        if len(_bodies) >= LOCAL_BODIES:
            _bodies.clear()
        _bodies[answer_key] = (digest, body)
    else:
        body = held[1]
    return Found(current, (int(found[2]), found[3].decode(), body))


def store(answer_key: str, rec: Recording, now: float, status: int, content_type: str, body: bytes) -> None:
    if not rec.shareable or rec.office_id is None or rec.version is None or rec.changes_at <= now:
        return
    r = shared_cache.client()
    if r is None:
        return
    ttl_ms = max(1, int(min(MAX_SECONDS, rec.changes_at - now) * 1000))
    try:
        pipe = r.pipeline(transaction=True)
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        pipe.hset(answer_key, mapping={"o": rec.office_id, "v": rec.version, "x": repr(rec.changes_at),
                                       "s": status, "t": content_type, "b": body, "h": digest})
        pipe.pexpire(answer_key, ttl_ms)
        pipe.execute()
    except RedisError as exc:
        shared_cache.failed(exc)


def start() -> tuple[Recording, object]:
    rec = Recording()
    return rec, _recording.set(rec)


def stop(token) -> None:
    _recording.reset(token)


def note_office(office_id: int | None) -> None:
    """The computation is about to read this office's bookable time from the database."""
    rec = _recording.get()
    if rec is None:
        return
    if office_id is None:
        return
    if rec.office_id is None:
        rec.office_id = office_id
        rec.version = shared_cache.office_version(office_id)
        if rec.version is None:
            rec.shareable = False
    elif rec.office_id != office_id:
        rec.shareable = False  # one office per answer


def note_change_at(moment: float | None) -> None:
    """The answer may change by time alone at `moment` (seconds since the epoch)."""
    rec = _recording.get()
    if rec is not None and moment is not None:
        rec.changes_at = min(rec.changes_at, moment)
