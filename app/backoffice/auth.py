"""Login, second factor, logout, sessions, password change and invitations. A login holds
on its tenant's host only. The rules live in app/accounts/; these views translate HTTP."""
from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from flask import abort, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.accounts import invitations, oidc, second_factor, sessions
from app.accounts import login as login_rules
from app.accounts.auth import BackOfficeUser, role_in
from app.accounts.models import User
from app.accounts.service import AccountError, change_password
from app.audit.models import record
from app.backoffice import bp
from app.backoffice.access import audit, audited_redirect, role_required
from app.backoffice.common import local
from app.extensions import db
from app.proof_of_work import new_challenge
from app.tenancy.scope import all_tenants
from app.transaction import commit
from app.urls import tenant_url

log = logging.getLogger(__name__)
WRONG = "E-Mail-Adresse oder Passwort ist falsch."
WAIT = ("Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie {seconds} Sekunden und versuchen "
        "Sie es dann erneut.")
PROOF = ("Nach mehreren fehlgeschlagenen Versuchen bestätigen Sie bitte zuerst mit dem Kästchen "
         "„Ich bin kein Roboter“ – Ihr Browser löst dafür eine kurze Rechenaufgabe.")
WRONG_CODE = "Der Code stimmt nicht oder wurde schon verwendet."
PENDING_FOR = 5 * 60  # seconds between password and second factor
PASSWORDS_OFF = "Hier melden Sie sich mit Ihrem Dienstkonto der Verwaltung an, nicht mit einem Passwort."


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


def _login_page(status: int, *, error: str | None = None, email: str = "", proof_of_work: bool = False,
                retry_after: int | None = None):
    page = render_template("backoffice/login.html", error=error, email=email, proof_of_work=proof_of_work,
                           next=request.values.get("next", ""))
    return page, status, ({"Retry-After": str(retry_after)} if retry_after else {})


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next")))
        return _login_page(200)
    if not oidc.local_passwords_allowed(g.tenant.id):
        return _login_page(403, error=PASSWORDS_OFF)
    email = (request.form.get("email") or "").strip().lower()[:254]
    result = login_rules.attempt(email, request.form.get("password") or "", _client_address(), g.tenant,
                                 request.form.get("altcha"))
    if result.status in ("wait", "proof_of_work"):
        db.session.rollback()
        log.warning("login refused: throttled", extra={"tenant": g.tenant.slug})
        if result.status == "wait":
            return _login_page(429, error=WAIT.format(seconds=result.wait_seconds), email=email,
                               proof_of_work=result.needs_proof_of_work, retry_after=result.wait_seconds)
        return _login_page(429, error=PROOF, email=email, proof_of_work=True)
    if result.status == "wrong":
        commit()  # the failure counts, for every web process
        log.info("login failed", extra={"tenant": g.tenant.slug})  # never the address tried
        return _login_page(401, error=WRONG, email=email, proof_of_work=result.needs_proof_of_work)
    user, role = result.user, result.role
    login_rules.succeeded(email)
    if login_rules.needs_second_factor(user, role, g.tenant):
        session.clear()  # no fixation; not logged in until the second factor
        session["pending"] = {"user_id": user.id, "tenant_id": g.tenant.id, "at": int(time.time()),
                              "next": _safe_next(request.form.get("next"))}
        commit()
        if second_factor.enrolled(user):
            return redirect(url_for("backoffice.login_code"))
        return redirect(url_for("backoffice.second_factor_setup"))
    return _finish_login(user, role, _safe_next(request.form.get("next")))


@bp.get("/login/challenge")
def login_challenge():
    """A proof-of-work challenge for the login form's widget."""
    resp = jsonify(new_challenge())
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _finish_login(user: User, role: str, target: str, *, respond: bool = True):
    session.clear()  # no fixation: a fresh session for the new login
    login_user(BackOfficeUser(user, role))
    session["tenant_id"] = g.tenant.id
    session["sid"] = login_rules.logged_in(user, request.user_agent.string)
    commit()
    log.info("login", extra={"tenant": g.tenant.slug})
    return redirect(target) if respond else None


def _pending_user() -> tuple[User, str, dict] | None:
    """The user who gave the right password moments ago and still owes the second factor."""
    pending = session.get("pending")
    if not isinstance(pending, dict) or pending.get("tenant_id") != g.tenant.id \
            or time.time() - pending.get("at", 0) > PENDING_FOR:
        return None
    with all_tenants():
        user = db.session.get(User, pending.get("user_id"))
    role = role_in(user.id, g.tenant) if user is not None and user.active else None
    return (user, role, pending) if role else None


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    found = _pending_user()
    if found is None:
        session.pop("pending", None)
        flash("Bitte melden Sie sich erneut an.", "error")
        return redirect(url_for("backoffice.login"))
    user, role, pending = found
    if not second_factor.enrolled(user):
        return redirect(url_for("backoffice.second_factor_setup"))
    if request.method == "GET":
        return render_template("backoffice/login_code.html")
    result = login_rules.second_step(user, request.form.get("code", ""), _client_address(), g.tenant)
    if result.status == "wait":
        return render_template("backoffice/login_code.html", error=WAIT.format(seconds=result.wait_seconds)), \
            429, {"Retry-After": str(result.wait_seconds)}
    if result.status == "wrong":
        commit()
        return render_template("backoffice/login_code.html", error=WRONG_CODE), 401
    return _finish_login(user, role, pending.get("next") or url_for("backoffice.home"))


@bp.route("/second-factor/setup", methods=["GET", "POST"])
def second_factor_setup():
    """Enrolment: at the first login where it is required, or later by choice."""
    if current_user.is_authenticated:
        with all_tenants():
            user, role, pending = db.session.get(User, current_user.id), current_user.role, None
    else:
        found = _pending_user()
        if found is None:
            return redirect(url_for("backoffice.login"))
        user, role, pending = found
    if second_factor.enrolled(user):
        return redirect(url_for("backoffice.second_factor_status" if pending is None else "backoffice.login_code"))
    secret = session.get("totp_setup") or second_factor.new_secret()
    session["totp_setup"] = secret
    uri = second_factor.provisioning_uri(secret, user.email, g.tenant.name)
    page = {"secret": secret, "qr": second_factor.qr_svg(uri), "required": pending is not None}
    if request.method == "GET":
        return render_template("backoffice/second_factor_setup.html", **page)
    with all_tenants():
        try:
            codes = second_factor.enrol(user, secret, request.form.get("code", ""))
        except second_factor.SecondFactorError as exc:
            db.session.rollback()
            return render_template("backoffice/second_factor_setup.html", error=str(exc), **page), 422
    session.pop("totp_setup", None)
    record("second_factor_enrolled", "user", user.id, actor=user.email, user_id=user.id)
    target = (pending or {}).get("next") or url_for("backoffice.home")
    if pending is not None:
        _finish_login(user, role, target, respond=False)
    else:
        commit()
    return render_template("backoffice/recovery_codes.html", codes=codes, target=target)


@bp.get("/second-factor")
@role_required("staff")
def second_factor_status():
    with all_tenants():
        user = db.session.get(User, current_user.id)
        left = second_factor.recovery_codes_left(user) if second_factor.enrolled(user) else 0
    return render_template("backoffice/second_factor.html", enrolled=second_factor.enrolled(user), codes_left=left,
                           required=second_factor.required_for(current_user.role, g.tenant.settings))


@bp.post("/second-factor/recovery-codes")
@role_required("staff")
def second_factor_new_codes():
    with all_tenants():
        user = db.session.get(User, current_user.id)
        if not second_factor.enrolled(user):
            abort(409)
        codes = second_factor.replace_recovery_codes(user)
    audit("recovery_codes_replaced", "user", user.id)
    commit()
    return render_template("backoffice/recovery_codes.html", codes=codes, target=url_for("backoffice.home"))


@bp.route("/logout", methods=["POST"])
def logout():
    sessions.end_by_token(session.get("sid"))  # a copy of the cookie is no login either
    commit()
    id_token = session.get(oidc.SESSION_ID_TOKEN)
    logout_user()
    session.clear()
    # Signed in through the town's provider: end the session there too.
    provider_logout = oidc.provider_logout_url(g.tenant, id_token, tenant_url(g.tenant, "backoffice.login"))
    return redirect(provider_logout or url_for("backoffice.login"))


@bp.get("/sessions")
@role_required("staff")
def session_list():
    current = session.get("sid")
    rows = [{"id": r.id, "agent": r.agent, "current": sessions.is_current(r, current),
             "created": local(r.created_at).strftime("%d.%m.%Y %H:%M"),
             "last_seen": local(r.last_seen_at).strftime("%d.%m.%Y %H:%M")}
            for r in sessions.open_sessions(current_user.id)]
    return render_template("backoffice/sessions.html", rows=rows)


@bp.post("/sessions/<int:session_id>/end")
@role_required("staff")
def session_end(session_id: int):
    row = sessions.session_of(current_user.id, session_id)
    if row is None:
        abort(404)  # another user's or another tenant's session is not hers to end
    mine = sessions.is_current(row, session.get("sid"))
    sessions.end(row)
    commit()
    if mine:
        logout_user()
        session.clear()
        return redirect(url_for("backoffice.login"))
    flash("Die Sitzung ist beendet.")
    return redirect(url_for("backoffice.session_list"))


@bp.post("/sessions/end-others")
@role_required("staff")
def session_end_others():
    current = g.get("user_session")
    count = sessions.end_all(current_user.id, keep=current.id if current is not None else None)
    commit()
    flash(f"{count} andere Sitzung(en) beendet." if count else "Es gab keine anderen Sitzungen.")
    return redirect(url_for("backoffice.session_list"))


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
        # Every session of this user ends, this one included; this browser gets a fresh one.
        sessions.end_all(user.id)
        session["sid"] = sessions.open_session(user.id, request.user_agent.string)
        return audited_redirect(url_for("backoffice.home"), "password_changed", "user", current_user.id,
                                "Ihr Passwort ist geändert. Alle anderen Sitzungen sind beendet.")
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
        sessions.end_all(user.id)  # a new password: no older login of this user holds
        record("invitation_accepted", "user", user.id, actor=user.email, user_id=user.id)
        commit()
        flash("Ihr Passwort ist gesetzt. Bitte melden Sie sich an.")
        return redirect(url_for("backoffice.login"))
    return render_template("backoffice/invitation.html", email=email)
