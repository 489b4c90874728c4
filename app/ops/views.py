"""GET /metrics and GET /readyz on every host (monitoring and load balancers call them
by address).

/metrics: 404 unless METRICS_TOKEN is set, 401 without the token (or a configured network).
/readyz: whether this process should get traffic — the database answers and its schema is
at least what this code needs; /healthz (liveness) says only whether the database answers.
"""
from flask import Blueprint, Response, abort, current_app, jsonify

from app.extensions import db
from app.jobs.queue import jobs_health
from app.ops import metrics
from app.ops.backup import schema_state

bp = Blueprint("ops", __name__)


@bp.get("/metrics")
def scrape():
    cfg = current_app.config
    if not cfg.get("METRICS_TOKEN"):
        abort(404)
    if not metrics.allowed(cfg["METRICS_TOKEN"], cfg.get("METRICS_NETWORKS") or []):
        return Response("Unauthorized\n", status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    body, content_type = metrics.render()
    return Response(body, status=200, content_type=content_type)


@bp.get("/readyz")
def ready():
    body = {"database": "ok", "schema": "unknown", "jobs": "inline"}
    try:
        body["schema"] = schema_state(db.session.connection())
    except Exception:
        body["database"] = "unreachable"
    finally:
        db.session.rollback()
    try:
        body["jobs"] = jobs_health()
    except Exception:
        body["jobs"] = "unreachable"  # not a reason to take the process out: the sweeper goes on
    ok = body["database"] == "ok" and body["schema"] == "ok"
    return jsonify(body), 200 if ok else 503
