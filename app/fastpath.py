"""A WSGI layer in front of Flask that answers the cached reads (issue 18) straight from
the shared cache, and hands every other request to Flask unchanged.

The shared answers of `/slots` and `/next` (app/scheduling/answers.py) already cost no
database session on a hit; what a hit still paid was Flask's request around it (context,
hooks, routing, the limiter's wrapper: ~2/3 of its CPU). This layer answers a GET of a
registered endpoint itself when, and only when, everything the Flask path would check
holds without Flask:

- the host's tenant is in this process's host cache (live, not a draft, not switched
  off), read under the tenants version that Redis still holds — confirmed by the same
  Redis script that returns the answer (`answers.lookup`);
- the stored answer is valid (its office's version unchanged, its `changes_at` ahead);
- nothing in the request would make Flask's answer differ: no cookie but `lang` (a
  session cookie could be refreshed or a remember cookie set), no `?lang=` that would set
  the language cookie, no TRUSTED_HOSTS/SERVER_NAME checks;
- with RATELIMIT_ENABLED on: the read can be counted in Flask-Limiter's own fixed window,
  exactly as Flask would (app/ratelimit.py `counts_reads_alike`, asked once per endpoint:
  Redis storage on the shared cache's server and database, default headers, the read limit
  the endpoint's only limit), the limiter is not counting in memory, and the window is not
  full. The same script counts the hit (`answers.lookup` with a `Budget`) and returns the
  count and TTL the X-RateLimit-* and Retry-After headers are made of; a full window is
  Flask's to count and answer 429;
- Redis answers and holds every raise of this process.

Otherwise — a miss, Redis away, anything unusual — Flask answers exactly as before. An
answer given here carries the same status, body and headers as Flask's (pinned by
tests/test_fastpath.py header by header), is logged by `app.logs.log_request` and
counted by `app.ops.metrics.observe` like any other request, plus
`amtstermin_fast_answers_total`, so an operator can see how many reads it took.

Reusable: `register(endpoint, key)` makes any GET view answerable here whose Flask hit is
exactly the stored status, content type and body plus the app-wide headers, stored under
`key(tenant, tenants_version, kwargs, request)` (the view's Flask path must build its key
with the same function). `FastPath.hit()` is the check and lookup alone. A page with its
own headers (CSP) or per-visitor parts (the CSRF token of app/scheduling/answers.py
`shared_page`) needs its own answer built from the hit; nothing here does that yet.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Callable

from flask import Flask
from prometheus_client import Counter
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import RequestRedirect

from app import clock, logs, ratelimit, security_headers, shared_cache
from app.ops import metrics
from app.scheduling import answers
from app.tenancy.resolve import MalformedHost, TenantInfo, host_cache, normalize_host

log = logging.getLogger(__name__)

FAST_ANSWERS = Counter("amtstermin_fast_answers_total",
                       "Reads answered from the shared cache before Flask (app/fastpath.py)", ["route"])

# (tenant, tenants version, view arguments, request) -> the answer's key in the shared cache
KeyFunction = Callable[[TenantInfo, str, dict, object], str]


@dataclass(frozen=True)
class Read:
    endpoint: str
    key: KeyFunction


_reads: dict[str, Read] = {}
_SAFE_PATH = re.compile(r"^[A-Za-z0-9/_.~-]*$")  # what needs no decoding to match like Werkzeug
PATHS_KEPT = 4096  # paths of this process known to route (or not) to a registered endpoint


def register(endpoint: str, key: KeyFunction) -> None:
    """Answer GETs of this Flask endpoint from the shared cache, under `key`."""
    _reads[endpoint] = Read(endpoint, key)


@dataclass(frozen=True)
class Hit:
    tenant: TenantInfo
    rule: str
    status: int
    content_type: str
    body: bytes
    limit: tuple[int, int, int] | None = None  # counted in the read limit: (limit, count, seconds left)


class FastPath:
    """The WSGI callable installed in front of `app.wsgi_app` (inside ProxyFix, if any)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._routes: dict[str, tuple[Read, dict, str] | None] = {}
        self._shapes: set[tuple[str, int]] | None = None  # (static prefix, slashes) of the registered rules
        # What app.security_headers adds to every answer, as it was installed.
        self._headers = security_headers.every_answer(app.config)
        self._counted: dict[str, bool] = {}  # endpoint -> its reads are counted here as Flask-Limiter would

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        try:
            found = self.hit(environ)
        except Exception:  # never worse than Flask: it answers whatever went wrong here
            log.exception("fast path failed; Flask answers")
            found = None
        if found is None:
            return self.wsgi_app(environ, start_response)
        headers = [("Content-Type", found.content_type), ("Content-Length", str(len(found.body)))]
        headers += self._headers
        # Where Flask puts it: app/i18n.py's after_request (run after the security headers')
        # adds Accept-Language; Flask-Login reads the session on every answer, so saving it
        # adds Cookie.
        headers.append(("Vary", "Accept-Language, Cookie"))
        if found.limit is not None:  # what Flask-Limiter's after_request adds, as it computes them
            amount, count, ttl = found.limit
            now = time.time()
            reset_at = int(max(ttl, 0) + now + 1)
            headers += [("X-RateLimit-Limit", str(amount)), ("X-RateLimit-Remaining", str(max(0, amount - count))),
                        ("X-RateLimit-Reset", str(reset_at)), ("Retry-After", str(int(reset_at - now)))]
        start_response(f"{found.status} {HTTP_STATUS_CODES.get(found.status, 'UNKNOWN').upper()}", headers)
        seconds = time.perf_counter() - started
        logs.log_request(found.tenant.slug, "GET", found.rule, found.status, seconds)
        metrics.observe(found.rule, "GET", found.status, seconds)
        FAST_ANSWERS.labels(route=found.rule).inc()
        return [found.body]

    def route(self, environ) -> tuple[Read, dict, str] | None:
        """(read, view arguments, URL rule) when Flask would route this GET to a
        registered endpoint, as Werkzeug's own map says (asked once per path)."""
        path = environ.get("PATH_INFO") or "/"
        try:
            return self._routes[path]
        except KeyError:
            pass
        if self._shapes is None:
            self._shapes = {(rule.rule.split("<", 1)[0], rule.rule.count("/"))
                            for rule in self.app.url_map.iter_rules() if rule.endpoint in _reads}
        if not any(path.startswith(prefix) and path.count("/") == slashes for prefix, slashes in self._shapes):
            return None  # no registered rule has this shape (not kept: paths carry tokens)
        found = None
        if _SAFE_PATH.match(path):
            try:
                rule, kwargs = self.app.url_map.bind_to_environ(environ).match(
                    path, method="GET", return_rule=True)
            except (HTTPException, RequestRedirect):
                rule = None
            if rule is not None and rule.endpoint in _reads:
                found = (_reads[rule.endpoint], kwargs, rule.rule)
        if len(self._routes) >= PATHS_KEPT:
            self._routes.clear()
        self._routes[path] = found
        return found

    def hit(self, environ) -> Hit | None:
        """The shared answer Flask would give this request, or None (Flask answers)."""
        config = self.app.config
        if environ.get("REQUEST_METHOD") != "GET" or not config.get("FASTPATH", True):
            return None
        if config.get("TRUSTED_HOSTS") or config.get("SERVER_NAME"):
            return None
        r = shared_cache.client_for(config)
        if r is None:
            return None
        routed = self.route(environ)
        if routed is None:
            return None
        read, kwargs, rule = routed
        limited = config["RATELIMIT_ENABLED"]
        if limited:
            counted = self._counted.get(read.endpoint)
            if counted is None:
                counted = self._counted[read.endpoint] = ratelimit.counts_reads_alike(self.app, read.endpoint, r)
            if not counted:
                return None
        request = self.app.request_class(environ)
        if "HTTP_COOKIE" in environ:
            cookies = request.cookies
            if any(name != "lang" for name in cookies):
                return None
            chosen = request.args.get("lang")
            if chosen in ("de", "en") and cookies.get("lang") != chosen:
                return None  # app.i18n remembers the language in a cookie
        elif request.args.get("lang") in ("de", "en"):
            return None
        try:
            host = normalize_host(environ.get("HTTP_HOST"))
        except MalformedHost:
            return None
        if host is None or host == config["BASE_DOMAIN"]:
            return None
        tenant, version = host_cache.peek(host)
        if tenant is None or version is None or tenant.status in ("draft", "disabled"):
            return None
        budget = None
        if limited:
            budget = ratelimit.read_budget(tenant, environ.get("REMOTE_ADDR"))
            if budget is None:
                return None
        found = answers.lookup(read.key(tenant, version, kwargs, request), version, clock.now().timestamp(), r,
                               budget)
        if found.answer is None or found.tenants_version != version:
            return None
        status, content_type, body = found.answer
        limit = None
        if budget is not None:
            if found.counted is None:
                return None
            limit = (budget.amount, *found.counted)
        return Hit(tenant, rule, status, content_type, body, limit)


def install(app: Flask) -> None:
    """Put the fast path in front of the app's WSGI callable (inside ProxyFix, which
    must still fix the client's address and scheme first)."""
    inner = app.wsgi_app
    if isinstance(inner, ProxyFix):
        inner.app = FastPath(app, inner.app)
    else:
        app.wsgi_app = FastPath(app, inner)  # type: ignore[method-assign]
