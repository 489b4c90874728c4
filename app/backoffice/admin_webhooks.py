"""Admin: the tenant's webhook endpoints and their deliveries with the last status."""
from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, url_for

from app.backoffice import bp
from app.backoffice.access import audited_redirect, one_or_404, role_required
from app.backoffice.common import local
from app.booking.events import EVENTS
from app.transaction import commit
from app.webhooks import operations as webhooks
from app.webhooks.delivery import retry
from app.webhooks.models import WebhookDelivery, WebhookEndpoint

EVENT_LABELS = {"booked": "gebucht", "moved": "verschoben", "cancelled": "abgesagt",
                "checked_in": "eingecheckt", "completed": "erledigt", "no_show": "nicht erschienen"}


@bp.route("/webhooks")
@role_required("admin")
def webhooks_list():
    return render_template("backoffice/webhooks.html", endpoints=webhooks.endpoints(),
                           deliveries=webhooks.recent_deliveries(), events=EVENTS, labels=EVENT_LABELS,
                           local=local)


@bp.route("/webhooks", methods=["POST"])
@role_required("admin")
def webhook_add():
    try:
        endpoint = webhooks.add_endpoint(g.tenant.id, request.form.get("url", ""), request.form.getlist("events"),
                                         allow_http=not current_app.config.get("PRODUCTION"))
    except webhooks.WebhookSetupError as exc:
        flash(str(exc), "error")
        return redirect(url_for("backoffice.webhooks_list"))
    return audited_redirect(url_for("backoffice.webhooks_list"), "webhook_added", "webhook", endpoint.id,
                            "Webhook angelegt. Das Geheimnis zum Prüfen der Signatur steht in der Tabelle.",
                            after={"url": endpoint.url, "events": endpoint.events})


@bp.route("/webhooks/<int:endpoint_id>/switch", methods=["POST"])
@role_required("admin")
def webhook_switch(endpoint_id: int):
    endpoint = one_or_404(WebhookEndpoint, endpoint_id)
    webhooks.switch(endpoint, not endpoint.active)
    return audited_redirect(url_for("backoffice.webhooks_list"), "webhook_switched", "webhook", endpoint.id,
                            after={"active": endpoint.active})


@bp.route("/webhooks/<int:endpoint_id>/remove", methods=["POST"])
@role_required("admin")
def webhook_remove(endpoint_id: int):
    endpoint = one_or_404(WebhookEndpoint, endpoint_id)
    endpoint_id, before = endpoint.id, {"url": endpoint.url}
    webhooks.remove(endpoint)
    return audited_redirect(url_for("backoffice.webhooks_list"), "webhook_removed", "webhook", endpoint_id,
                            "Webhook entfernt.", before=before)


@bp.route("/webhooks/deliveries/<int:delivery_id>/retry", methods=["POST"])
@role_required("admin")
def webhook_retry(delivery_id: int):
    retry(one_or_404(WebhookDelivery, delivery_id))
    commit()
    flash("Zustellung wird erneut versucht.")
    return redirect(url_for("backoffice.webhooks_list"))
