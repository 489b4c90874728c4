"""Who may see a back-office page, and the small helpers every page module shares."""
from __future__ import annotations

from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_login import current_user

from app.audit.models import record
from app.extensions import db
from app.tenancy.scope import scoped_by_id
from app.tenancy.models import Tenant
from app.transaction import commit

M = TypeVar("M")


def role_required(role: str = "staff"):
    """Anonymous: to the login page. Logged in without the role here: 403."""

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            if g.get("tenant") is None:
                abort(404)
            if not current_user.is_authenticated:
                return redirect(url_for("backoffice.login", next=request.full_path.rstrip("?")))
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        return inner

    return wrap


def district_required(view):
    """District IT, on its district's own host."""

    @wraps(view)
    def inner(*args, **kwargs):
        if g.tenant.kind != "district":
            abort(404)
        return view(*args, **kwargs)

    return role_required("district-it")(inner)


def one_or_404(model: type[M], object_id: Any, *conditions) -> M:
    """A tenant-owned row by id through the tenant scope (tenancy.scope.scoped_by_id):
    another tenant's id is a 404."""
    obj = scoped_by_id(model, object_id, *conditions)
    if obj is None:
        abort(404)
    return obj


def audit(action: str, obj_type: str, obj_id, *, before: dict | None = None, after: dict | None = None):
    """An audit entry for a back-office write, by the logged-in user."""
    return record(action, obj_type, obj_id, actor=current_user.email, user_id=current_user.id,
                  before=before, after=after)


def current_tenant() -> Tenant:
    """The request's tenant as a row of this session, to change (`g.tenant` is what the host
    resolved to, shared across requests)."""
    return db.session.get(Tenant, g.tenant.id)


def save_if_changed(action: str, obj_type: str, obj_id, before: dict, after: dict, saved: str) -> bool:
    """A form's write: when `after` differs from `before`, audited, committed and `saved`
    flashed (True); else "Keine Änderung." flashed and nothing written (False)."""
    if after == before:
        flash("Keine Änderung.")
        return False
    audit(action, obj_type, obj_id, before=before, after=after)
    commit()
    flash(saved)
    return True


def audited_redirect(to: str, action: str, obj_type: str, obj_id, message: str | None = None, *,
                     before: dict | None = None, after: dict | None = None, category: str = "message",
                     code: int = 302) -> Response:
    """The end of a back-office write: audited (`audit`), committed, `message` flashed (when
    given) and a redirect to the URL `to`."""
    audit(action, obj_type, obj_id, before=before, after=after)
    commit()
    if message:
        flash(message, category)
    return redirect(to, code=code)


def parse_int(value, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
