"""Citizen pages on each tenant host."""
from flask import Blueprint

bp = Blueprint("citizen", __name__)

from app.citizen import views  # noqa: E402,F401
