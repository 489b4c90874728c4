"""`flask ops …`: backups, restores and the schema check district IT runs."""
from __future__ import annotations

import sys
from datetime import timezone
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app import clock
from app.extensions import db
from app.ops.backup import BackupError, backup, check, restore

ops_cli = AppGroup("ops", help="Backups, restores, schema check.")


@ops_cli.command("backup")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: amtstermin-<UTC time>.dump here).")
def ops_backup(output: Path | None):
    """Back up the whole database (pg_dump, custom format; SQLite: a copy)."""
    stamp = clock.now().astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    output = output or Path(f"amtstermin-{stamp}.dump")
    try:
        written = backup(current_app.config["SQLALCHEMY_DATABASE_URI"], output)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Backup written to {written} ({written.stat().st_size} bytes).")


@ops_cli.command("restore")
@click.argument("dump", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--database", "url", required=True,
              help="SQLAlchemy URL of a new, empty database to restore into (never the running one).")
def ops_restore(dump: Path, url: str):
    """Restore a backup into a new database, then check its schema."""
    try:
        restore(dump, url)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    problems = check(url, db.metadata)
    for line in problems:
        click.echo(f"error: {line}", err=True)
    if problems:
        sys.exit(1)
    click.echo("Restored; the schema is at the newest migration and matches the code.")


@ops_cli.command("check")
@click.option("--database", "url", default=None, help="Another database than DATABASE_URL.")
def ops_check(url: str | None):
    """Is the database at the newest migration and as the code expects it?"""
    problems = check(url or current_app.config["SQLALCHEMY_DATABASE_URI"], db.metadata)
    for line in problems:
        click.echo(f"error: {line}", err=True)
    if problems:
        sys.exit(1)
    click.echo("The schema is at the newest migration and matches the code.")
