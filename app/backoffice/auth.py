"""Login, logout, password change and invitations. A login holds on its tenant's host only."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from app.accounts import invitations
from app.accounts.auth import BackOfficeUser, role_in
from app.accounts.models import User
from app.accounts.service import AccountError, change_password, verify_password
from app.backoffice import bp, throttle
from app.backoffice.access import audit, role_required
from app.extensions import db
from app.tenancy.scope import all_tenants
from app.transaction import commit

log = logging.getLogger(__name__)
WRONG = "E-Mail-Adresse oder Passwort ist falsch."
BLOCKED = ("Zu viele fehlgeschlagene Anmeldeversuche. Aus Sicherheitsgründen ist die Anmeldung für "
           "15 Minuten gesperrt. Bitte versuchen Sie es später erneut.")


def _safe_next(target: str | None) -> str:
    """Only paths of this back office; never another host."""
    if target and target.startswith("/admin") and not urlsplit(target).netloc and "//" not in target:
        return target
    return url_for("backoffice.home")


@bp.route("/")
@role_required("staff")
def home():
    if current_user.role == "district-it" and g.tenant.kind == "district":
        return redirect(url_for("backoffice.district_overview"))
    return redirect(url_for("backoffice.day"))


def _client_address() -> str:
    return request.remote_addr or "-"


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("backoffice/login.html", next=request.args.get("next", ""))
    email = (request.form.get("email") or "").strip().lower()[:254]
    password = request.form.get("password") or ""
    address = _client_address()
    if throttle.is_blocked(email, address):
        log.warning("login refused: throttled", extra={"tenant": g.tenant.slug})
        return render_template("backoffice/login.html", error=BLOCKED, email=email,
                               next=request.form.get("next", "")), 429
    with all_tenants():
        user = db.session.scalar(select(User).where(User.email == email)) if email else None
    ok = verify_password(user, password)  # same work for an unknown user
    role = role_in(user.id, g.tenant) if ok and user.active else None
    if not role:
        throttle.failed(email, address)
        db.session.rollback()
        log.info("login failed", extra={"tenant": g.tenant.slug})  # never the address tried
        return render_template("backoffice/login.html", error=WRONG, email=email,
                               next=request.form.get("next", "")), 401
    throttle.succeeded(email)
    session.clear()  # no fixation: a fresh session for the new login
    login_user(BackOfficeUser(user, role))
    session["tenant_id"] = g.tenant.id
    with all_tenants():
        user.last_login_at = datetime.now(timezone.utc)
    commit()
    log.info("login", extra={"tenant": g.tenant.slug})
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("backoffice.login"))


@bp.route("/password", methods=["GET", "POST"])
@role_required("staff")
def password():
    if request.method == "POST":
        with all_tenants():
            user = db.session.get(User, current_user.id)
            try:
                change_password(user, request.form.get("current", ""), request.form.get("new", ""),
                                request.form.get("repeat", ""))
            except AccountError as exc:
                db.session.rollback()
                return render_template("backoffice/password.html", error=str(exc)), 422
        audit("password_changed", "user", current_user.id)
        commit()
        flash("Ihr Passwort ist geändert.")
        return redirect(url_for("backoffice.home"))
    return render_template("backoffice/password.html")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    inv = invitations.find_open(token)
    if inv is None:
        abort(404)
    with all_tenants():
        email = db.session.get(User, inv.user_id).email
    if request.method == "POST":
        pw, repeat = request.form.get("password", ""), request.form.get("repeat", "")
        try:
            if pw != repeat:
                raise AccountError("Die beiden Passwörter stimmen nicht überein.")
            user = invitations.accept(inv, pw)
        except AccountError as exc:
            db.session.rollback()
            return render_template("backoffice/invitation.html", email=email, error=str(exc)), 422
        from app.audit.models import record

        record("invitation_accepted", "user", user.id, actor=user.email, user_id=user.id)
        commit()
        flash("Ihr Passwort ist gesetzt. Bitte melden Sie sich an.")
        return redirect(url_for("backoffice.login"))
    return render_template("backoffice/invitation.html", email=email)
