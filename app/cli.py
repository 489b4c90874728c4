"""Command line: `flask --app wsgi …` or `amtstermin …` (CONTRACT §3)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app import ROOT
from app.accounts.oidc_cli import oidc_command
from app.accounts.service import AccountError, create_user
from app.catalog.leika_cli import import_catalogue_command
from app.clitools import exit_unchanged, tenant_or_exit
from app.extensions import db
from app.jobs.due import run_due
from app.jobs.worker import run_worker
from app.onboarding.sync import SyncError, sync_folder
from app.onboarding.towns import onboard_town
from app.ops.cli import ops_cli
from app.publishing.checklist import NotReady
from app.publishing.checklist import publish as publish_tenant
from app.statistics.cli import statistics_cli
from app.tenancy.models import Tenant
from app.tenancy.resolve import host_cache
from app.tenancy.scope import all_tenants
from app.transaction import commit
from app.urls import tenant_url

tenants_cli = AppGroup("tenants", help="Import, onboard and list tenants.")
users_cli = AppGroup("users", help="Back-office users.")
jobs_cli = AppGroup("jobs", help="Background work.")


@tenants_cli.command("sync")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
def tenants_sync(path: Path | None):
    """Import or update every tenant folder under PATH (default tenants/). Idempotent."""
    path = path or ROOT / "tenants"
    try:
        changes = sync_folder(path)
        commit()
    except SyncError as exc:
        exit_unchanged(exc.errors)
    host_cache.clear()
    for line in changes:
        click.echo(line)
    click.echo(f"{len(changes)} change(s)." if changes else "Everything is up to date; nothing changed.")


@tenants_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Display name, e.g. 'Gemeinde Altenberge'.")
@click.option("--parent", "parent", required=True, help="Slug of the district.")
@click.option("--domain", default=None, help="A custom domain besides SLUG.BASE_DOMAIN.")
@click.option("--address", default="", help="Postal address, e.g. 'Kirchstraße 25, 48341 Altenberge'.")
@click.option("--phone", default="", help="The town's own phone number for citizens.")
@click.option("--email", default="", help="The town's own e-mail address for citizens.")
@click.option("--publish", is_flag=True, help="Make it bookable at once if the go-live checklist passes.")
def tenants_create(slug: str, name: str, parent: str, domain: str | None, address: str, phone: str, email: str,
                   publish: bool):
    """Onboard a municipality from its district's template; it starts as a draft."""
    try:
        town = onboard_town(slug.strip().lower(), name, parent.strip().lower(), domain, address=address,
                            phone=phone, email=email)
        commit()
    except SyncError as exc:
        exit_unchanged(exc.errors, say_unchanged=False)
    host_cache.clear()
    click.echo(f"Created {town.slug} ({town.name}) under {parent} as a draft: {tenant_url(town.slug, 'citizen.home')}")
    click.echo(f"Back office: {tenant_url(town.slug, 'backoffice.home')}")
    click.echo(f"Next: flask --app wsgi users create ADMIN_EMAIL --tenant {town.slug} --role admin")
    if publish:
        status = _publish_or_exit(town, live=False)
        click.echo(f"Published: {town.slug} is {status} and bookable at {tenant_url(town.slug, 'citizen.home')}")


def _publish_or_exit(tenant: Tenant, *, live: bool) -> str:
    """Publish and commit; when the go-live checklist fails, every missing item on its own
    line (standard output), the verdict on standard error, and exit status 1."""
    try:
        status = publish_tenant(tenant, live=live)
        commit()
    except NotReady as exc:
        db.session.rollback()
        for line in exc.missing:
            click.echo(line)
        click.echo(f"{tenant.slug} stays a draft: {len(exc.missing)} item(s) of the go-live checklist missing.",
                   err=True)
        sys.exit(1)
    host_cache.clear()
    return status


@tenants_cli.command("publish")
@click.argument("slug")
@click.option("--live", is_flag=True, help="Go live at once instead of starting as a pilot.")
def tenants_publish(slug: str, live: bool):
    """Run the go-live checklist; on success the tenant becomes pilot (live with --live)."""
    tenant = tenant_or_exit(slug)
    with all_tenants():
        status = _publish_or_exit(tenant, live=live)
    click.echo(f"{tenant.slug} is {status}: {tenant_url(tenant.slug, 'citizen.home')}")


@tenants_cli.command("list")
@click.option("--urls", is_flag=True, help="Print each tenant's citizen URL instead.")
def tenants_list(urls: bool):
    """Slug, name, parent, hosts and status of every tenant."""
    base = current_app.config["BASE_DOMAIN"]
    with all_tenants():
        tenants = list(db.session.scalars(select(Tenant).order_by(Tenant.parent_id.is_not(None), Tenant.slug)))
        if urls:
            for t in tenants:
                click.echo(f"  {tenant_url(t.slug, 'citizen.home').ljust(45)} {t.name}  (back office: {tenant_url(t.slug, 'backoffice.home')})")
            return
        rows = [(t.slug, t.name, t.parent.slug if t.parent else "-",
                 ",".join([f"{t.slug}.{base}"] + [h.host for h in t.hosts]), t.status) for t in tenants]
    widths = [max(len(str(r[i])) for r in rows + [("slug", "name", "parent", "hosts", "status")]) for i in range(5)]
    for row in [("slug", "name", "parent", "hosts", "status")] + rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


@users_cli.command("create")
@click.argument("email")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--role", required=True, type=click.Choice(["district-it", "admin", "staff"]))
def users_create(email: str, tenant_slug: str, role: str):
    """Create a back-office user; the password is the first line of standard input."""
    stdin = sys.stdin
    if stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = stdin.readline().rstrip("\r\n")
    try:
        user = create_user(email, password, tenant_slug, role)
        commit()
    except AccountError as exc:
        exit_unchanged([str(exc)], say_unchanged=False)
    click.echo(f"User {user.email} is {role} of {tenant_slug}.")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--sweep-every", default=10.0, show_default=True, help="Seconds between runs of due work.")
def jobs_worker(burst: bool, sweep_every: float):
    """Run the rq worker for this app's queues, plus due work every few seconds."""
    run_worker(current_app._get_current_object(), burst=burst, sweep_every=sweep_every)


@jobs_cli.command("run-due")
def jobs_run_due():
    """Run due scheduled work once: reminders, held mail, retention."""
    result = run_due()
    click.echo(", ".join(f"{k}: {v}" for k, v in result.items()))


def register_cli(app: Flask) -> None:
    app.cli.add_command(tenants_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(ops_cli)
    users_cli.add_command(oidc_command)
    tenants_cli.add_command(import_catalogue_command)
    app.cli.add_command(statistics_cli)
