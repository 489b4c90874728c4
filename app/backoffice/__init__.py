"""Back office under /admin/ of each tenant host: clerks, tenant admins, district IT."""
from flask import Blueprint

bp = Blueprint("backoffice", __name__, url_prefix="/admin")

from app.backoffice import views  # noqa: E402,F401
