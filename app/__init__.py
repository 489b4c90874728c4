"""Amtstermin: online appointments for a district and its towns, one tenant each."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# After ROOT: the modules the factory loads read it from here.
from app.factory import create_app  # noqa: E402

__all__ = ["ROOT", "create_app"]
