"""Headers for every answer of the app. HSTS only in production over https: a developer's
http://steinfurt.localhost must not be told to insist on https."""
from __future__ import annotations

from flask import Flask, Response

HSTS = "max-age=31536000; includeSubDomains"


def _hsts_wanted(config) -> bool:
    return bool(config.get("PRODUCTION") and config.get("PUBLIC_URL_SCHEME") == "https")


def every_answer(config) -> list[tuple[str, str]]:
    """The headers init_app() adds to an answer that has none of them (app/fastpath.py)."""
    return [("Strict-Transport-Security", HSTS)] if _hsts_wanted(config) else []


def init_app(app: Flask) -> None:
    if not _hsts_wanted(app.config):
        return

    @app.after_request
    def _hsts(response: Response) -> Response:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
