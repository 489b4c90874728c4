"""GET /healthz on every host: database and job queue reachability for load balancers."""
from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db
from app.jobs.queue import jobs_health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    body = {"database": "ok", "jobs": "inline"}
    status = 200
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception:
        db.session.rollback()
        body["database"] = "unreachable"
        status = 503

    try:
        body["jobs"] = jobs_health()
    except Exception:
        body["jobs"] = "unreachable"
    return jsonify(body), status
