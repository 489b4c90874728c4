"""`flask tenants import-catalogue DISTRICT FILE`: seed a district's catalogue from LeiKa keys."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.catalog.leika import CatalogueError, import_catalogue, read_catalogue
from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants
from app.transaction import commit


@click.command("import-catalogue")
@with_appcontext
@click.argument("district")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_catalogue_command(district: str, path: Path):
    """Create or update DISTRICT's catalogue from a CSV or JSON list (leika_key, name, documents)."""
    with all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == district.strip().lower()))
    if tenant is None:
        click.echo(f"error: no tenant {district}", err=True)
        sys.exit(1)
    try:
        changes = import_catalogue(tenant, read_catalogue(path))
        commit()
    except (CatalogueError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        db.session.rollback()
        for line in getattr(exc, "errors", [str(exc)]):
            click.echo(f"error: {line}", err=True)
        click.echo("Nothing was changed.", err=True)
        sys.exit(1)
    for line in changes:
        click.echo(line)
    click.echo(f"{len(changes)} change(s).")
