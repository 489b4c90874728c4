"""Error answers: problem+json under /api/, a page elsewhere. Never a bare 500 for bad input."""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from app.problems import ApiProblem
from app.booking.refusals import refused
from app.extensions import db
from app.faults import db_unavailable, discard_session
from app.tenancy.resolve import MalformedHost, TenantSwitchedOff, host_cache, normalize_host

# Refused by the rate limit here, counted for the back office (app/booking/refusals.py).
BOOKING_ENDPOINTS = ("api.create_appointment", "citizen.book")

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30

TITLES = {
    400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Payload too large",
    415: "Unsupported media type", 429: "Too many requests", 500: "Internal server error",
    503: "Service unavailable",
}


def _wants_problem() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiProblem)
    def _problem(exc: ApiProblem):
        db.session.rollback()
        return exc.response()

    @app.errorhandler(TenantSwitchedOff)
    def _switched_off(exc: TenantSwitchedOff):
        info = exc.info
        if _wants_problem():
            return ApiProblem(503, "Online booking switched off",
                              f"{info.name} does not offer online appointments at the moment; please call "
                              f"{info.contact_phone}.", type_="tenant-disabled",
                              contact={"phone": info.contact_phone, "email": info.contact_email}).response()
        return render_template("citizen/disabled.html"), 503

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        db.session.rollback()
        status = exc.code or 500
        if status == 429 and request.method == "POST" and request.endpoint in BOOKING_ENDPOINTS and g.get("tenant"):
            try:  # the day's counter only; the limiter keeps the address. Best effort: the 429 stands.
                refused(g.tenant, "ratelimit")
            except SQLAlchemyError:
                db.session.rollback()
                log.warning("refusal not counted: database unavailable")
        if _wants_problem():
            detail = exc.description or TITLES.get(status, exc.name)
            if status == 404 and g.get("tenant") is None:
                detail = "No tenant is served on this host."
            problem = ApiProblem(status, TITLES.get(status, exc.name), detail)
            resp = problem.response()
            # Keep what the exception says in headers (Allow on a 405, for one).
            for key, value in exc.get_headers():
                if key.lower() != "content-type":
                    resp.headers[key] = value
            if status == 429:
                retry = getattr(exc, "retry_after", None)
                resp.headers["Retry-After"] = str(retry or 60)
            return resp
        resp = app.response_class(
            render_template("error.html", status=status, title=TITLES.get(status, exc.name)), status=status
        )
        if status == 429:
            resp.headers["Retry-After"] = "60"
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if db_unavailable(exc):
            return unavailable(exc)

        db.session.rollback()
        # The route, never the path: paths carry manage and invitation tokens.
        log.exception("unhandled error", extra={"path": request.url_rule.rule if request.url_rule else "-"})
        if _wants_problem():
            return ApiProblem(500, TITLES[500], "Something went wrong on our side.").response()
        return render_template("error.html", status=500, title=TITLES[500]), 500


def unavailable(exc: BaseException):
    """503 for a database that is away (unreachable, connection lost, a lock not granted in
    time): problem+json with Retry-After under /api/, a calm page with the phone elsewhere."""
    log.warning("database unavailable", extra={"path": request.url_rule.rule if request.url_rule else "-",
                                               "event": type(exc).__name__})
    discard_session()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if _wants_problem():
        return ApiProblem(503, TITLES[503], "The booking service is briefly unavailable. Please try again in a "
                          "minute.", type_="service-unavailable", headers=headers).response()
    tenant = g.get("tenant") or _last_known_tenant()
    g.tenant = tenant  # the page's header and footer name the town and its phone
    return current_app.response_class(render_template("unavailable.html", tenant=tenant), status=503,
                                      headers=headers)


def _last_known_tenant():
    """The tenant this host was last resolved to: its phone number is worth showing."""
    try:
        host = normalize_host(request.headers.get("Host"))
    except MalformedHost:
        return None
    return host_cache.last_known(host) if host else None
