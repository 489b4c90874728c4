"""(being built)"""
from app.backoffice import bp
from app.backoffice.access import district_required, role_required  # noqa: F401


@bp.route("/district")
@district_required
def district_overview():
    return "todo"
