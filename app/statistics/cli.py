"""`flask statistics …`: fold pending changes now, rebuild a period's figures."""
from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.clitools import tenant_or_exit
from app.extensions import db
from app.statistics.recording import rebuild
from app.statistics.tracking import fold_deltas
from app.tenancy.models import Tenant
from app.tenancy.resolve import TenantInfo
from app.tenancy.scope import all_tenants, tenant_scope
from app.transaction import commit

statistics_cli = AppGroup("statistics", help="Pilot statistics.")


@statistics_cli.command("fold")
def statistics_fold():
    """Fold the changes not yet counted into the daily figures (the jobs do this too)."""
    click.echo(f"{fold_deltas()} change(s) folded.")


@statistics_cli.command("rebuild")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day, YYYY-MM-DD.")
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day, inclusive.")
@click.option("--tenant", "slug", default=None, help="One tenant's slug; default: every tenant.")
def statistics_rebuild(first, last, slug: str | None):
    """Recompute the daily figures of a period from the appointments the database holds."""
    first_day: date = first.date()
    last_day: date = last.date()
    if last_day < first_day:
        click.echo("error: --to is before --from", err=True)
        sys.exit(2)
    if slug:
        tenants = [TenantInfo.of(tenant_or_exit(slug))]
    else:
        with all_tenants():
            tenants = [TenantInfo.of(t) for t in db.session.scalars(select(Tenant).order_by(Tenant.slug))]
    db.session.rollback()  # each rebuild starts its own transaction (one snapshot)
    for tenant in tenants:
        with tenant_scope(tenant.id):
            rows = rebuild(tenant, first_day, last_day)
            commit()
        click.echo(f"{tenant.slug}: {rows} daily row(s) from {first_day:%d.%m.%Y} to {last_day:%d.%m.%Y}")
