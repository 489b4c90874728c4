"""Structured logs, one JSON object a line. Never personal data: no names, e-mails,
phone numbers, tokens or query strings are passed to a logger."""
from __future__ import annotations

import json
import logging
import sys
import time

from flask import Flask, g, has_request_context, request


class JsonFormatter(logging.Formatter):
    FIELDS = ("tenant", "method", "path", "status", "ms", "job", "mail_id", "event")

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in self.FIELDS:
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(data, ensure_ascii=False)


class NoRequestLines(logging.Filter):
    """The development server (`flask run`, werkzeug) logs each request line with its full
    path — manage and invitation tokens, query strings with e-mail addresses. Its
    per-request lines ("ADDR - - [date] ...") are dropped; the app's own request log names
    the route instead. Its start-up lines and tracebacks stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "werkzeug" and isinstance(record.msg, str) and " - - [" in record.msg)


def init_app(app: Flask) -> None:
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, NoRequestLines) for f in werkzeug.filters):
        werkzeug.addFilter(NoRequestLines())
    root = logging.getLogger("app")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stdout)  # JSON lines on stdout: journald or the container runtime keeps them
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = True

    @app.before_request
    def _start_timer():
        g.started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        if has_request_context():
            tenant = g.get("tenant")
            # The route's rule, never the path: paths carry manage, confirm and invitation
            # tokens, query strings e-mail addresses. An unmatched path is logged as "-".
            route = request.url_rule.rule if request.url_rule is not None else "-"
            log_request(tenant.slug if tenant else None, request.method, route, response.status_code,
                        time.perf_counter() - g.get("started", time.perf_counter()))
        return response


ACCESS = logging.getLogger("app.access")


def log_request(tenant: str | None, method: str, route: str, status: int, seconds: float) -> None:
    """The access log's line of one request: the tenant's slug and the route's rule, never
    the path or the query (app/fastpath.py logs its answers through here too)."""
    ACCESS.info("request", extra={"tenant": tenant, "method": method, "path": route, "status": status,
                                  "ms": round(seconds * 1000, 1)})
