"""`flask tenants import-catalogue DISTRICT FILE`: seed a district's catalogue from LeiKa keys."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.catalog.leika import CatalogueError, import_catalogue, read_catalogue
from app.clitools import exit_unchanged, tenant_or_exit
from app.transaction import commit


@click.command("import-catalogue")
@with_appcontext
@click.argument("district")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_catalogue_command(district: str, path: Path):
    """Create or update DISTRICT's catalogue from a CSV or JSON list (leika_key, name, documents)."""
    tenant = tenant_or_exit(district)
    try:
        changes = import_catalogue(tenant, read_catalogue(path))
        commit()
    except (CatalogueError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        exit_unchanged(getattr(exc, "errors", [str(exc)]))
    for line in changes:
        click.echo(line)
    click.echo(f"{len(changes)} change(s).")
