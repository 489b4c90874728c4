"""(being built)"""
from app.backoffice import bp
from app.backoffice.access import district_required, role_required  # noqa: F401


@bp.route("/offices")
@role_required("admin")
def offices_list():
    return "todo"
