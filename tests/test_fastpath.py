"""The WSGI fast path (app/fastpath.py) answers a cached read before Flask — with the same
status, body and headers as Flask's own answer to the same request, logged and counted
alike, counted against the same rate limit with the limiter on — and leaves to Flask every
request whose answer could differ (a full rate-limit window, a limiter counting in memory
or set up otherwise, a session cookie, a language to remember, a miss, HEAD)."""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from app import fastpath, shared_cache
from app.extensions import db
from app.fastpath import FAST_ANSWERS, FastPath
from app.ops.counters import REQUESTS
from app.ratelimit import limiter
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants
from app.transaction import commit
from tests.conftest import BERLIN, REDIS_URL, HostClient, close, make_app, needs_redis, next_weekday

pytestmark = [needs_redis, pytest.mark.postgres]

SLOTS = "/api/v1/services/personalausweis/slots"
NEXT = "/api/v1/services/personalausweis/next"
SLOTS_RULE = "/api/v1/services/<slug>/slots"


@pytest.fixture
def shared_app(pg_url, tmp_path):
    # Production over https: the answers carry HSTS, so the fast path must too.
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL, PRODUCTION=True, PUBLIC_URL_SCHEME="https")
    yield app
    close(app)


def fast_count(rule: str) -> float:
    return FAST_ANSWERS.labels(route=rule)._value.get()


def request_count(rule: str, status: int = 200) -> float:
    return REQUESTS.labels(route=rule, method="GET", status=str(status))._value.get()


def answer(client: HostClient, app, path: str, *, fast: bool, **kw):
    app.config["FASTPATH"] = fast
    try:
        return client.get(path, **kw)
    finally:
        app.config["FASTPATH"] = True


def client_with(app, cookies: dict) -> HostClient:
    client = HostClient(app, "steinfurt.localhost")
    for name, value in cookies.items():
        client.client.set_cookie(name, value, domain="steinfurt.localhost")
    return client


def headers_of(response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.items() if k.lower() != "date"]


def variants():
    monday = next_weekday(0)
    week = f"from={monday}&to={monday + timedelta(days=6)}"
    return [
        (f"{SLOTS}?{week}", SLOTS_RULE, {}),
        (f"{SLOTS}?{week}", SLOTS_RULE, {"headers": {"Accept-Language": "en-GB,en;q=0.8"}}),
        (f"{SLOTS}?{week}&lang=en", SLOTS_RULE, {"cookies": {"lang": "en"}}),
        (NEXT, "/api/v1/services/<slug>/next", {}),
        (NEXT, "/api/v1/services/<slug>/next", {"cookies": {"lang": "en"}}),  # the API goes by Accept-Language
        (f"{NEXT}?lang=de", "/api/v1/services/<slug>/next", {"cookies": {"lang": "de"}}),
        (f"/api/v1/slots?services=personalausweis:2&{week}", "/api/v1/slots", {}),
        ("/api/v1/next?services=personalausweis", "/api/v1/next", {}),
    ]


def test_the_fast_answer_is_flasks_answer_header_by_header(shared_app, caplog):
    caplog.set_level(logging.INFO, logger="app.access")
    for path, rule, kw in variants():
        client = client_with(shared_app, kw.pop("cookies", {}))
        first = answer(client, shared_app, path, fast=False, **kw)  # a miss: computed and stored
        assert first.status_code == 200, (path, first.get_data())
        fast_before, counted_before = fast_count(rule), request_count(rule)
        caplog.clear()
        fast = answer(client, shared_app, path, fast=True, **kw)
        assert fast_count(rule) == fast_before + 1, path  # answered before Flask
        assert request_count(rule) == counted_before + 1  # and counted as a request of its route
        fast_log = [(r.tenant, r.method, r.path, r.status) for r in caplog.records if r.name == "app.access"]
        caplog.clear()
        flask = answer(client, shared_app, path, fast=False, **kw)
        assert fast_count(rule) == fast_before + 1  # Flask's own answer, a hit of the view
        assert request_count(rule) == counted_before + 2
        flask_log = [(r.tenant, r.method, r.path, r.status) for r in caplog.records if r.name == "app.access"]
        assert fast.status == flask.status == "200 OK"
        assert fast.get_data() == flask.get_data() == first.get_data()
        assert headers_of(fast) == headers_of(flask), path
        assert ("Strict-Transport-Security", "max-age=31536000; includeSubDomains") in headers_of(fast)
        # The name in the answer follows Accept-Language: a shared cache keeps one per language.
        assert ("Vary", "Accept-Language, Cookie") in headers_of(fast)
        assert fast_log == flask_log == [("steinfurt", "GET", rule, 200)]


def test_a_fully_booked_answer_is_the_same_too(shared_app, fixed_now):
    """The stored 404 'no free slot' (problem+json) is a shared answer as well."""
    client = HostClient(shared_app, "steinfurt.localhost")
    with shared_app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt"))
        tenant.settings = {**(tenant.settings or {}), "horizon_days": 0}
        commit()
    # A working day's evening, the office closed: with a horizon of 0 days nothing is left.
    fixed_now(datetime.combine(next_weekday(0), time(21, 0), BERLIN))
    first = answer(client, shared_app, NEXT, fast=False)
    assert first.status_code == 404, first.get_data()
    rule = "/api/v1/services/<slug>/next"
    before = fast_count(rule)
    fast = answer(client, shared_app, NEXT, fast=True)
    flask = answer(client, shared_app, NEXT, fast=False)
    assert fast_count(rule) == before + 1
    assert fast.status == flask.status == "404 NOT FOUND"
    assert fast.get_data() == flask.get_data()
    assert headers_of(fast) == headers_of(flask)
    assert fast.content_type == "application/problem+json"


@pytest.mark.parametrize("cookies, path", [
    ({"session": "abc"}, NEXT),  # a session could be refreshed, a remember cookie set
    ({"session": "abc", "lang": "de"}, NEXT),
    ({}, NEXT + "?lang=en"),  # the language is remembered in a cookie
    ({"lang": "de"}, NEXT + "?lang=en"),
], ids=["session-cookie", "session-and-lang", "lang-without-cookie", "lang-other-cookie"])
def test_what_flask_would_answer_differently_is_left_to_flask(shared_app, cookies, path):
    assert client_with(shared_app, {}).get(path).status_code == 200  # stored
    client = client_with(shared_app, cookies)
    rule = "/api/v1/services/<slug>/next"
    before = fast_count(rule)
    again = client.get(path)
    assert again.status_code == 200
    assert fast_count(rule) == before
    if "lang=" in path:
        assert "lang=en" in again.headers.get("Set-Cookie", "")


def test_with_the_rate_limiter_on_flask_answers_and_counts(pg_url, tmp_path):
    # Counting in memory (not in the shared cache's Redis): nothing the fast path can count in.
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL, RATELIMIT_ENABLED=True,
                   RATELIMIT_STORAGE_URI="memory://")
    try:
        client = HostClient(app, "steinfurt.localhost")
        rule = "/api/v1/services/<slug>/next"
        first = client.get(NEXT)
        before = fast_count(rule)
        again = client.get(NEXT)
        assert again.status_code == 200 and again.get_data() == first.get_data()
        assert fast_count(rule) == before
        assert int(again.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    finally:
        close(app)


def test_head_and_other_hosts_go_to_flask(shared_app):
    client = HostClient(shared_app, "steinfurt.localhost")
    rule = "/api/v1/services/<slug>/next"
    assert client.get(NEXT).status_code == 200
    before = fast_count(rule)
    head = client.client.head(NEXT, headers={"Host": "steinfurt.localhost"})
    assert head.status_code == 200 and head.get_data() == b""
    assert client.get(NEXT, headers={"Host": "unknown.localhost"}).status_code == 404
    assert client.get(NEXT, headers={"Host": "localhost"}).status_code == 404
    assert client.get(NEXT + "/").status_code == 404
    assert client.get("/api/v1/appointments/some-manage-token").status_code == 404
    assert fast_count(rule) == before
    # Paths no registered rule could match are not remembered (they carry tokens).
    assert "/api/v1/appointments/some-manage-token" not in shared_app.wsgi_app._routes
    assert client.get(NEXT).status_code == 200
    assert fast_count(rule) == before + 1


def test_behind_a_proxy_the_fast_path_sits_inside_proxyfix(pg_url, tmp_path):
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL, TRUSTED_PROXIES=1)
    try:
        assert isinstance(app.wsgi_app, ProxyFix) and isinstance(app.wsgi_app.app, FastPath)
        client = HostClient(app, "steinfurt.localhost")
        rule = "/api/v1/services/<slug>/next"
        first = client.get(NEXT, headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
        before = fast_count(rule)
        again = client.get(NEXT, headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
        assert again.get_data() == first.get_data() and fast_count(rule) == before + 1
    finally:
        close(app)


def test_a_failure_inside_the_fast_path_is_answered_by_flask(shared_app, monkeypatch, caplog):
    client = HostClient(shared_app, "steinfurt.localhost")
    first = client.get(NEXT)

    def broken(host):
        raise RuntimeError("a bug in the fast path")

    monkeypatch.setattr(fastpath, "normalize_host", broken)
    again = client.get(NEXT)
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert any("fast path failed" in r.getMessage() for r in caplog.records)


# --- with the rate limiter on: the fast path counts in Flask-Limiter's own window ----------
RESETS = ("X-RateLimit-Reset", "Retry-After")


@pytest.fixture
def limited_app(pg_url, tmp_path):
    """Production's default: the limiter on, counting in the shared cache's Redis."""
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL, RATELIMIT_ENABLED=True, PRODUCTION=True,
                   PUBLIC_URL_SCHEME="https")
    r = Redis.from_url(REDIS_URL)
    for key in r.scan_iter("LIMITS:*"):  # the windows of an earlier test
        r.delete(key)
    limiter._storage_dead = False  # the limiter is one object for every app; an earlier test may have left it in memory
    yield app
    limiter._storage_dead = False
    close(app)


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def set_read_limit(app, n: int) -> None:
    with app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt"))
        tenant.settings = {**(tenant.settings or {}), "ratelimit_read_per_minute": n}
        commit()


def test_with_the_limiter_on_the_fast_answer_is_flasks_header_by_header(limited_app):
    """Two clients with a fresh window each: one's second read answered fast, the other's by
    Flask; the answers are equal header by header, X-RateLimit-Limit and -Remaining
    included. X-RateLimit-Reset and Retry-After come from the window's TTL at the moment
    of answering, so they may differ by a second between two requests: compared within 1."""
    for n, (path, rule, kw) in enumerate(variants()):
        cookies = kw.pop("cookies", {})
        one, other = client_with(limited_app, cookies), client_with(limited_app, cookies)
        a, b = from_address(f"198.51.100.{n + 1}"), from_address(f"198.51.100.{n + 101}")
        assert answer(one, limited_app, path, fast=False, **a, **kw).status_code == 200  # a miss: stored
        assert answer(other, limited_app, path, fast=False, **b, **kw).status_code == 200  # a hit, in Flask
        before = fast_count(rule)
        fast = answer(one, limited_app, path, fast=True, **a, **kw)
        assert fast_count(rule) == before + 1, path  # answered before Flask, and counted
        flask = answer(other, limited_app, path, fast=False, **b, **kw)
        assert fast_count(rule) == before + 1
        assert fast.status == flask.status == "200 OK"
        assert fast.get_data() == flask.get_data()
        assert fast.headers["X-RateLimit-Limit"] == flask.headers["X-RateLimit-Limit"] == "120"
        assert fast.headers["X-RateLimit-Remaining"] == flask.headers["X-RateLimit-Remaining"] == "118", path
        for name in RESETS:
            assert abs(int(fast.headers[name]) - int(flask.headers[name])) <= 1, (path, name)
        assert 59 <= int(fast.headers["Retry-After"]) <= 61
        same = [(k, "…" if k in RESETS else v) for k, v in headers_of(fast)]
        assert same == [(k, "…" if k in RESETS else v) for k, v in headers_of(flask)], path


def test_fast_and_flask_reads_of_one_client_share_one_budget(limited_app):
    set_read_limit(limited_app, 5)
    client = HostClient(limited_app, "steinfurt.localhost")
    me, someone_else = from_address("203.0.113.7"), from_address("203.0.113.8")
    rule = "/api/v1/services/<slug>/next"
    before = fast_count(rule)
    remaining = []
    for n in range(5):  # Flask (the miss), fast, Flask, fast, Flask
        got = answer(client, limited_app, NEXT, fast=n % 2 == 1, **me)
        assert got.status_code == 200 and got.headers["X-RateLimit-Limit"] == "5"
        remaining.append(int(got.headers["X-RateLimit-Remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    assert fast_count(rule) == before + 2
    for fast in (True, False):  # the 6th and 7th read, whichever path would answer it: Flask's 429
        refused = answer(client, limited_app, NEXT, fast=fast, **me)
        assert refused.status_code == 429, refused.get_data()
        assert 0 < int(refused.headers["Retry-After"]) <= 61 and refused.headers["X-RateLimit-Remaining"] == "0"
    assert fast_count(rule) == before + 2
    other = answer(client, limited_app, NEXT, fast=True, **someone_else)  # another client is unaffected
    assert other.status_code == 200 and other.headers["X-RateLimit-Remaining"] == "4"
    assert fast_count(rule) == before + 3
    # One counter per client, the one Flask-Limiter named: both paths counted in it.
    r = Redis.from_url(REDIS_URL)
    assert sorted(k.decode() for k in r.scan_iter("LIMITS:*")) == [
        "LIMITS:LIMITER/steinfurt:203.0.113.7/api-read/5/1/minute",
        "LIMITS:LIMITER/steinfurt:203.0.113.8/api-read/5/1/minute"]
    assert int(r.get("LIMITS:LIMITER/steinfurt:203.0.113.7/api-read/5/1/minute")) == 7  # Flask counts its 429s


def test_with_the_limiter_in_memory_flask_answers(limited_app, monkeypatch):
    """Redis away: the limiter counts in memory (its fallback) and Flask answers every
    read; back, the fast path still leaves reads to Flask while the limiter is in memory."""
    client = HostClient(limited_app, "steinfurt.localhost")
    rule = "/api/v1/services/<slug>/next"
    first = client.get(NEXT)
    assert first.status_code == 200
    before = fast_count(rule)

    def away(*args, **kwargs):
        raise RedisConnectionError("nobody listens")

    for name in ("incr", "get", "get_expiry"):
        monkeypatch.setattr(limiter.storage, name, away)
    monkeypatch.setattr(limiter.storage, "check", lambda: False)  # as RedisStorage.check answers then
    limited_app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nobody listens there
    away_answer = client.get(NEXT)
    assert away_answer.status_code == 200 and away_answer.get_data() == first.get_data()
    assert away_answer.headers["X-RateLimit-Limit"] == "120"  # counted in memory
    assert fast_count(rule) == before
    limited_app.config["REDIS_URL"] = REDIS_URL
    shared_cache.reset()
    monkeypatch.undo()
    assert limiter.limiter.storage is not limiter.storage  # still in memory until it checks Redis again
    again = client.get(NEXT)
    assert again.status_code == 200 and again.get_data() == first.get_data()
    assert "X-RateLimit-Remaining" in again.headers
    assert fast_count(rule) == before


def test_a_limit_the_fast_path_cannot_count_alike_is_left_to_flask(limited_app, monkeypatch):
    """Asked once per endpoint and process, before its first read (the limiter's
    configuration is fixed at start): here a key prefix, so other keys than the fast path's."""
    monkeypatch.setattr(limiter, "_key_prefix", "other")
    client = HostClient(limited_app, "steinfurt.localhost")
    rule = "/api/v1/services/<slug>/next"
    assert client.get(NEXT).status_code == 200
    before = fast_count(rule)
    got = client.get(NEXT)
    assert got.status_code == 200 and "X-RateLimit-Remaining" in got.headers
    assert fast_count(rule) == before


# --- hosts: each answer is its own tenant's, and a draft is never answered here -------------
def test_a_host_written_otherwise_or_a_custom_domain_gets_its_own_tenants_answer(shared_app):
    """Upper case, a trailing dot, a port: Steinfurt's stored answer, answered fast. A
    custom domain of Emsdetten and a forwarded host naming Steinfurt: Emsdetten's answer
    (ProxyFix is not told to trust X-Forwarded-Host), never Steinfurt's."""
    from app.tenancy.models import TenantHost

    with shared_app.app_context(), all_tenants():
        ems = db.session.scalar(select(Tenant).where(Tenant.slug == "emsdetten"))
        db.session.add(TenantHost(tenant_id=ems.id, host="termine.emsdetten.example"))
        commit()
    rule = "/api/v1/services/<slug>/next"
    steinfurt = HostClient(shared_app, "steinfurt.localhost")
    own = steinfurt.get(NEXT)
    assert own.status_code == 200
    for host in ("STEINFURT.LocalHost", "steinfurt.localhost.", "steinfurt.localhost:8443"):
        before = fast_count(rule)
        again = steinfurt.get(NEXT, headers={"Host": host})
        assert again.get_data() == own.get_data() and fast_count(rule) == before + 1, host
    custom = HostClient(shared_app, "termine.emsdetten.example")
    flask = answer(custom, shared_app, NEXT, fast=False)  # Emsdetten's, computed and stored
    assert flask.status_code == 200 and flask.get_data() != own.get_data()
    for headers in ({}, {"X-Forwarded-Host": "steinfurt.localhost"}, {"Host": "TERMINE.emsdetten.example."}):
        before = fast_count(rule)
        fast = custom.get(NEXT, headers=headers)
        assert fast.get_data() == flask.get_data() and fast_count(rule) == before + 1, headers


@pytest.mark.parametrize("status, code", [("draft", 503), ("disabled", 503)])
def test_a_tenant_turned_draft_or_off_after_its_answer_was_stored_gets_flasks_refusal(shared_app, status, code):
    client = HostClient(shared_app, "steinfurt.localhost")
    assert client.get(NEXT).status_code == 200
    assert client.get(NEXT).status_code == 200  # the host known to this process, the answer stored
    with shared_app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt"))
        tenant.status = status
        commit()
    rule = "/api/v1/services/<slug>/next"
    before = fast_count(rule)
    refused = client.get(NEXT)
    assert refused.status_code == code and fast_count(rule) == before
    assert refused.content_type == "application/problem+json"
    again = client.get(NEXT)  # the host cache now holds the draft or switched-off tenant
    assert again.status_code == refused.status_code and fast_count(rule) == before


def test_behind_a_proxy_both_paths_count_the_address_proxyfix_sets_ipv6_too(pg_url, tmp_path):
    """With one trusted proxy the client is the last X-Forwarded-For entry (an address the
    client itself put before it is ignored), an IPv6 address as well: the fast path counts
    in the very window Flask counts in, so a spoofed first entry buys no second budget."""
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL, RATELIMIT_ENABLED=True, TRUSTED_PROXIES=1)
    r = Redis.from_url(REDIS_URL)
    for key in r.scan_iter("LIMITS:*"):
        r.delete(key)
    limiter._storage_dead = False
    try:
        set_read_limit(app, 4)
        client = HostClient(app, "steinfurt.localhost")
        rule = "/api/v1/services/<slug>/next"
        before = fast_count(rule)
        remaining = []
        for n, spoofed in enumerate(["", "198.51.100.1, ", "198.51.100.2, ", "10.0.0.1, "]):
            got = answer(client, app, NEXT, fast=n % 2 == 1,
                         headers={"X-Forwarded-For": f"{spoofed}2001:db8::7"})
            assert got.status_code == 200
            remaining.append(int(got.headers["X-RateLimit-Remaining"]))
        assert remaining == [3, 2, 1, 0] and fast_count(rule) == before + 2
        refused = client.get(NEXT, headers={"X-Forwarded-For": "203.0.113.99, 2001:db8::7"})
        assert refused.status_code == 429 and fast_count(rule) == before + 2
        assert sorted(k.decode() for k in r.scan_iter("LIMITS:*")) == [
            "LIMITS:LIMITER/steinfurt:2001:db8::7/api-read/4/1/minute"]
    finally:
        limiter._storage_dead = False
        close(app)
