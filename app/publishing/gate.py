"""A draft is being prepared: its back office works, its admins preview the citizen pages
while logged in, citizens see that online booking opens soon (with the tenant's contact),
and the API answers 503 on every path but /api/v1/tenant (CONTRACT §4)."""
from __future__ import annotations

from flask import Flask, g, render_template, request
from flask_login import current_user

from app.problems import ApiProblem

# Reachable for a draft's citizens as well: every authority's website needs them.
OPEN_PATHS = ("/impressum", "/datenschutz", "/barrierefreiheit", "/leichte-sprache", "/gebaerdensprache",
              "/brand.css")


def _draft_answer(info):
    if request.path.startswith("/api/"):
        if request.path.rstrip("/") == "/api/v1/tenant":
            return None
        return ApiProblem(503, "Online booking opens soon",
                          f"{info.name} is preparing its online appointments; until then please call "
                          f"{info.contact_phone or 'the town hall'}.", type_="tenant-draft",
                          headers={"Retry-After": "86400"},
                          contact={"phone": info.contact_phone, "email": info.contact_email}).response()
    if request.path in OPEN_PATHS:
        return None
    if current_user.is_authenticated:
        g.preview = True  # a back-office user of this tenant sees the pages as they will be
        return None
    return render_template("citizen/soon.html"), 503


def init_app(app: Flask) -> None:
    @app.before_request
    def _draft_gate():
        info = g.get("tenant")
        if info is None or info.status != "draft" or request.path.startswith(("/admin", "/static/")):
            return None
        return _draft_answer(info)
