"""The audit log of this tenant's back office, for admins."""
from __future__ import annotations

from flask import render_template, request

from app.audit.models import entries
from app.backoffice import bp
from app.backoffice.access import parse_int, role_required
from app.backoffice.audit_words import describe
from app.backoffice.common import local

PAGE = 100


@bp.route("/audit")
@role_required("admin")
def audit_log():
    page = max(parse_int(request.args.get("page"), 1) or 1, 1)
    rows = entries(action=request.args.get("action"), offset=(page - 1) * PAGE, limit=PAGE + 1)
    return render_template("backoffice/audit.html", rows=rows[:PAGE], more=len(rows) > PAGE, page=page,
                           local=local, describe=describe)
