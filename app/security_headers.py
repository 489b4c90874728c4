"""Headers for every answer of the app. HSTS only in production over https: a developer's
http://steinfurt.localhost must not be told to insist on https."""
from __future__ import annotations

from flask import Flask, Response

HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    if not (app.config.get("PRODUCTION") and app.config.get("PUBLIC_URL_SCHEME") == "https"):
        return

    @app.after_request
    def _hsts(response: Response) -> Response:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
