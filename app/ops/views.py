"""GET /metrics on every host (Prometheus scrapes by address): 404 unless METRICS_TOKEN is
set, 401 without the token (or a configured network)."""
from flask import Blueprint, Response, abort, current_app

from app.ops import metrics

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
