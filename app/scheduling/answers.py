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

A citizen page (`shared_page`, the service page) is shared the same way, rendered once for
every visitor: what belongs to one visitor is never in the stored body. The CSRF token of
its forms is stored as a marker and each answer gets the visitor's own token (from the
visitor's session); the language is part of the key; the query may hold only the page's
own arguments (they appear in its links); a draft's preview and anything but a 200 are
never stored. Everything else on the page is the tenant's (tenants version), the office's
(office version) or the clock's (`changes_at`).
"""
from __future__ import annotations

import hashlib
import math
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from flask import Response, current_app, g, request
from flask_wtf.csrf import generate_csrf
from redis import Redis
from redis.exceptions import RedisError

from app import clock, shared_cache
from app.i18n import current_lang
from app.tenancy.models import BOOKABLE_STATUSES
from app.tenancy.resolve import PROVISIONAL_ENDPOINTS, confirm_tenant

if TYPE_CHECKING:
    from app.ratelimit import Budget

ANSWERS = shared_cache.PREFIX + "a:"
MAX_SECONDS = 120  # a stored answer lives at most this long in Redis whatever happens

# Both lookups begin alike. KEYS: answer, office versions, tenants version; ARGV[1] the
# tenants version the request went by, ARGV[2] the digest of the body this process already
# holds for the answer ('' if none). Leaves `tv` (the tenants version now) and `e` (the
# entry: office, its version, changes at, status, content type, digest) for a valid entry;
# returns {tenants version now} otherwise.
_VALID_ENTRY = """
local tv = redis.call('GET', KEYS[3])
if tv ~= ARGV[1] then return {tv or ''} end
local e = redis.call('HMGET', KEYS[1], 'o', 'v', 'x', 's', 't', 'h')
if not e[1] then return {tv} end
if redis.call('HGET', KEYS[2], e[1]) ~= e[2] then return {tv} end
"""
# Returns {tenants version now, changes at, status, content type, body or false, digest}.
_LOOKUP = _VALID_ENTRY + """
local body = false
if e[6] ~= ARGV[2] then body = redis.call('HGET', KEYS[1], 'b') end
return {tv, e[3], e[4], e[5], body, e[6]}
"""
# The same, and a read counted in a fixed-window rate limit (app/ratelimit.py `Budget`) when,
# and only when, the answer is valid at ARGV[3] (now) and the counter, KEYS[4], is below
# ARGV[4]: INCRBY 1, EXPIRE ARGV[5] on the window's first hit (as limits' incr_expire.lua).
# A full window is a miss, not counted: Flask counts that read and answers 429.
# Returns {tenants version now, changes at, status, content type, body or false, digest,
# count, seconds left in the window} for a counted hit, {tenants version now} otherwise.
_LOOKUP_COUNTED = _VALID_ENTRY + """
local x = tonumber(e[3])  -- nil for 'inf': never reached, as in lookup()
if x and x <= tonumber(ARGV[3]) then return {tv} end
if tonumber(redis.call('GET', KEYS[4]) or '0') >= tonumber(ARGV[4]) then return {tv} end
local n = redis.call('INCRBY', KEYS[4], 1)
if n == 1 then redis.call('EXPIRE', KEYS[4], ARGV[5]) end
local body = false
if e[6] ~= ARGV[2] then body = redis.call('HGET', KEYS[1], 'b') end
return {tv, e[3], e[4], e[5], body, e[6], n, redis.call('TTL', KEYS[4])}
"""
LOCAL_BODIES = 256  # bodies this process keeps by digest, so a large answer is not fetched each time
_bodies: dict[str, tuple[str, bytes]] = {}


@dataclass(frozen=True)
class Found:
    """What a lookup learnt: the tenants version now (None: Redis unusable), and the
    answer (status, content type, body) when one was valid."""

    tenants_version: str | None
    answer: tuple[int, str, bytes] | None = None
    counted: tuple[int, int] | None = None  # with a budget: (the window's count, its seconds left)


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


def lookup(answer_key: str, tenants_version: str, now: float, r: Redis | None = None,
           budget: Budget | None = None) -> Found:
    """The stored answer still valid at `now` under this tenants version, in one round trip.
    `r`: the shared cache's client, known to be in sync (app/fastpath.py); else the app's.
    `budget` (app/fastpath.py): a hit only if it could be counted in that rate limit, and
    then counted (`Found.counted`); a full window is a miss."""
    if r is None:
        r = shared_cache.client()
        if r is None or not shared_cache.in_sync():
            return Found(None)
    held = _bodies.get(answer_key)
    try:
        if budget is None:
            found = r.eval(_LOOKUP, 3, answer_key, shared_cache.OFFICES, shared_cache.TENANTS, tenants_version,
                           held[0] if held else "")
        else:
            found = r.eval(_LOOKUP_COUNTED, 4, answer_key, shared_cache.OFFICES, shared_cache.TENANTS, budget.key,
                           tenants_version, held[0] if held else "", repr(now), budget.amount, budget.seconds)
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
    counted = (int(found[6]), int(found[7])) if budget is not None else None
    return Found(current, (int(found[2]), found[3].decode(), body), counted)


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


# --- shared citizen pages -----------------------------------------------------------------
# Stands in the stored body where the page's forms carry the CSRF token; each answer gets
# the visitor's own token in its place. Letters and dashes only: HTML escaping keeps it.
CSRF_MARKER = "amt-shared-page-csrf-token-d41f7c"
PAGE_ARG_MAX = 40  # longer query values are not worth a shared entry (computed, not stored)


def provisional(endpoint: str) -> None:
    """This endpoint starts with the host's last known tenant; `shared_page` confirms it."""
    PROVISIONAL_ENDPOINTS.add(endpoint)


def _per_visitor(body: bytes) -> bytes:
    """The stored page with this visitor's own CSRF token (and session) filled in."""
    marker = CSRF_MARKER.encode()
    if marker not in body:
        return body
    return body.replace(marker, generate_csrf().encode())


def _confirmed() -> Response | None:
    """A provisional tenant confirmed before a computation that is not shared."""
    if g.get("tenant_unconfirmed"):
        return confirm_tenant()
    return None


def shared_page(page_args: tuple[str, ...], render: Callable[..., object]) -> Response:
    """A GET page answered from the shared cache while nothing it shows changed, else
    rendered (`render(csrf_token=…)` with the marker) and stored for every visitor.
    `page_args` are the query arguments the page reads; a query with any other argument
    (they would appear in the page's links) is rendered for this visitor alone."""
    args = list(request.args.items(multi=True))
    tenant = g.get("tenant")
    version = g.get("tenants_version")
    shareable = (request.method == "GET" and tenant is not None and tenant.status in BOOKABLE_STATUSES
                 and not g.get("preview") and all(k in page_args and len(v) <= PAGE_ARG_MAX for k, v in args))
    if version is None or not shareable:
        early = _confirmed()
        if early is not None:
            return current_app.make_response(early)
        return current_app.make_response(render())
    now = clock.now().timestamp()

    def page_key(tv: str) -> str:
        return key(tenant.id, tv, request.endpoint, (request.path, tuple(args), current_lang()))

    answer_key = page_key(version)
    found = lookup(answer_key, version, now)
    if found.answer is not None:
        status, content_type, body = found.answer
        return current_app.response_class(_per_visitor(body), status=status, content_type=content_type)
    if g.get("tenant_unconfirmed") and found.tenants_version != version:
        early = confirm_tenant()  # the tenant may have changed: as of now, hooks run again
        if early is not None:
            return current_app.make_response(early)
        version = g.get("tenants_version")
        if version is None or g.tenant.status not in BOOKABLE_STATUSES:
            return current_app.make_response(render())
        answer_key = page_key(version)
    rec, token = start()
    try:
        response = current_app.make_response(render(csrf_token=lambda: CSRF_MARKER))
    finally:
        stop(token)
    body = response.get_data()
    if response.status_code == 200 and not g.get("preview"):
        store(answer_key, rec, now, response.status_code, response.content_type, body)
    response.set_data(_per_visitor(body))
    return response
