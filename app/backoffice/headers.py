"""Security headers of every back-office answer: nothing framed, nothing cached, nothing
sniffed, no referrer leaving the page, scripts and styles only from our own host."""
from __future__ import annotations

from flask import Response, request

from app.backoffice import bp

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; worker-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")


@bp.after_app_request
def _backoffice_headers(response: Response) -> Response:
    # Every answer under /admin/, also a 404 for a path no view has and the login redirect.
    if not request.path.startswith("/admin"):
        return response
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    # Pages with citizens' names: never kept by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
