"""The `amtstermin` console script: the same commands as `flask --app wsgi` (its own module,
because the factory imports app.cli to register the commands)."""
from __future__ import annotations

from flask.cli import FlaskGroup

from app import create_app


def main() -> None:
    FlaskGroup(create_app=lambda: create_app())(prog_name="amtstermin")
