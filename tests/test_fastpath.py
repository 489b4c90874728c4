"""The WSGI fast path (app/fastpath.py) answers a cached read before Flask — with the same
status, body and headers as Flask's own answer to the same request, logged and counted
alike — and leaves to Flask every request whose answer could differ (a rate limit to
count, a session cookie, a language to remember, a miss, HEAD)."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from app import fastpath
from app.extensions import db
from app.fastpath import FAST_ANSWERS, FastPath
from app.ops.counters import REQUESTS
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants
from app.transaction import commit
from tests.conftest import REDIS_URL, HostClient, close, make_app, needs_redis, next_weekday

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
        assert fast_log == flask_log == [("steinfurt", "GET", rule, 200)]


def test_a_fully_booked_answer_is_the_same_too(shared_app):
    """The stored 404 'no free slot' (problem+json) is a shared answer as well."""
    client = HostClient(shared_app, "steinfurt.localhost")
    with shared_app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt"))
        tenant.settings = {**(tenant.settings or {}), "horizon_days": 0}
        commit()
    first = answer(client, shared_app, NEXT, fast=False)
    if first.status_code != 404:
        pytest.skip("today still has a free start within a horizon of 0 days")
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
