"""Sign-in through the tenant's identity provider: to the provider and back, then the
same Flask-Login session as a password login. The rules are in app/accounts/oidc.py."""
from __future__ import annotations

import logging

from flask import abort, g, redirect, render_template, request, session

from app.accounts import oidc
from app.backoffice import bp
from app.backoffice.auth import _finish_login as finish_login
from app.backoffice.auth import _safe_next
from app.extensions import db
from app.urls import tenant_url

log = logging.getLogger(__name__)
_KEPT = "oidc_flow"


def _callback_url() -> str:
    return tenant_url(g.tenant, "backoffice.oidc_callback")


LOGIN_PAGES = ("backoffice.login", "backoffice.oidc_login", "backoffice.oidc_callback")


@bp.context_processor
def _sign_in_choice():
    """Login page: the provider's button, and whether passwords are still taken."""
    tenant = g.get("tenant")
    if tenant is None or request.endpoint not in LOGIN_PAGES:
        return {}
    provider = oidc.provider_of(tenant.id)
    return {"oidc_label": provider.label if provider else None,
            "local_passwords": provider is None or provider.local_passwords}


@bp.route("/oidc/login")
def oidc_login():
    provider = oidc.provider_of(g.tenant.id)
    if provider is None:
        abort(404)
    try:
        started = oidc.start(provider, _callback_url(), _safe_next(request.args.get("next")))
    except oidc.SignInError as exc:
        return render_template("backoffice/login.html", error=str(exc), next=request.args.get("next", "")), 503
    session[_KEPT] = started.state
    return redirect(started.url)


@bp.route("/oidc/callback")
def oidc_callback():
    provider = oidc.provider_of(g.tenant.id)
    if provider is None:
        abort(404)
    kept = session.pop(_KEPT, None)
    try:
        claims, id_token = oidc.finish(provider, _callback_url(), kept, request.args.to_dict())
        user, role = oidc.sign_in(provider, g.tenant, claims)
    except oidc.SignInError as exc:
        db.session.rollback()
        log.info("oidc sign-in refused", extra={"tenant": g.tenant.slug})
        return render_template("backoffice/login.html", error=str(exc), next=""), 403
    target = _safe_next((kept or {}).get("next"))
    # The same session as a password login; the provider's own second factor applies.
    finish_login(user, role, target, respond=False)
    session[oidc.SESSION_ID_TOKEN] = id_token  # for the logout at the provider
    return redirect(target)
