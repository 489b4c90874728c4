"""Admin: the tenant's back-office users and invitations."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.invitations import send_invitation
from app.accounts.models import Membership
from app.accounts.service import (AccountError, NotAllowed, memberships_here, remove_membership, reset_second_factor,
                                  second_factor_enrolled)
from app.backoffice import bp
from app.backoffice.access import audited_redirect, current_tenant, one_or_404, role_required
from app.extensions import db
from app.tenancy.models import Tenant
from app.transaction import commit


@bp.route("/users")
@role_required("admin")
def users():
    rows = memberships_here()
    return render_template("backoffice/users.html", memberships=rows, enrolled=second_factor_enrolled(rows))


@bp.route("/users/<int:membership_id>/reset-second-factor", methods=["POST"])
@role_required("admin")
def user_reset_second_factor(membership_id: int):
    """A lost phone: another admin switches the user's second factor off; the user enrols
    again at the next login where it is required. Every session of the user ends."""
    membership = one_or_404(Membership, membership_id)
    try:
        user = reset_second_factor(membership, by_user_id=current_user.id,
                                   by_district_it=current_user.can("district-it"))
    except NotAllowed:
        abort(403)
    return audited_redirect(url_for("backoffice.users"), "second_factor_reset", "user", membership.user_id,
                            f"Der zweite Faktor von {user.email} ist zurückgesetzt.", after={"email": user.email})


@bp.route("/users/invite", methods=["POST"])
@role_required("admin")
def user_invite():
    return invite_from_form(current_tenant(), ("staff", "admin"), "staff", "backoffice.users")


def invite_from_form(town: Tenant, roles: tuple[str, ...], default_role: str, back: str):
    """An invite form's POST for `town`: the role one of `roles`; then back to the page `back`."""
    role = request.form.get("role", default_role)
    if role not in roles:
        abort(400, description="Unbekannte Rolle.")
    try:
        email = send_invitation(town, request.form.get("email", ""), role, sender=g.tenant.name,
                                invited_by=current_user)
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(back))
    commit()
    flash(f"Einladung an {email} verschickt.")
    return redirect(url_for(back))


@bp.route("/users/<int:membership_id>/remove", methods=["POST"])
@role_required("admin")
def user_remove(membership_id: int):
    membership = one_or_404(Membership, membership_id)
    user_id = membership.user_id
    try:
        before = remove_membership(membership, by_user_id=current_user.id, may_remove_admins=current_user.can("admin"))
    except NotAllowed:
        abort(403)
    except AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("backoffice.users"))
    return audited_redirect(url_for("backoffice.users"), "user_removed", "user", user_id, "Zugang entfernt.",
                            before=before)
