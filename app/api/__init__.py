"""The versioned JSON API for the towns' own websites and apps (CONTRACT §5)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import views  # noqa: E402,F401
from app.api import queue  # noqa: E402,F401  (GET /offices/{slug}/queue, §5.2)
