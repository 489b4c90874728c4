"""(being built)"""
from app.backoffice import bp
from app.backoffice.access import district_required, role_required  # noqa: F401


@bp.route("/users")
@role_required("admin")
def users():
    return "todo"
