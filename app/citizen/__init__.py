"""Citizen pages on each tenant host."""
from flask import Blueprint

bp = Blueprint("citizen", __name__)

from app.citizen import views  # noqa: E402,F401
from app.citizen import kiosk, screen  # noqa: E402,F401  (the office's queue: entrance and waiting room)
from app.citizen import legal  # noqa: E402,F401
from app.citizen import visit_pages  # noqa: E402,F401  (several concerns and persons in one visit)
