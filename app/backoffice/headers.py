"""Security headers of every back-office answer: nothing framed, nothing cached, nothing
sniffed, no referrer leaving the page, scripts and styles only from our own host."""
from __future__ import annotations

from flask import Response, request

from app.backoffice import bp

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'{styles}; img-src 'self' data:; worker-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
# The statistics charts are pygal SVG inline in the page, each with its own <style> block
# (ids per chart, so no fixed hash): inline styles are allowed there, scripts never.
INLINE_STYLE_PATHS = ("/admin/statistics",)


@bp.after_app_request
def _backoffice_headers(response: Response) -> Response:
    # Every answer under /admin/, also a 404 for a path no view has and the login redirect.
    if not request.path.startswith("/admin"):
        return response
    inline_styles = request.path.startswith(INLINE_STYLE_PATHS)
    response.headers["Content-Security-Policy"] = CSP.format(styles=" 'unsafe-inline'" if inline_styles else "")
    response.headers["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    # Pages with citizens' names: never kept by the browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
