"""`flask users oidc SLUG …`: connect a tenant's back office to its identity provider."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from app.accounts import oidc
from app.clitools import tenant_or_exit
from app.extensions import db
from app.tenancy.scope import all_tenants
from app.transaction import commit


@click.command("oidc")
@with_appcontext
@click.argument("slug")
@click.option("--issuer", help="The provider's issuer URL (its /.well-known/openid-configuration is read).")
@click.option("--client-id", help="This service's client id at the provider.")
@click.option("--role-claim", default="groups", show_default=True, help="Claim that carries groups or app roles.")
@click.option("--role", "roles", multiple=True, metavar="VALUE=ROLE",
              help="A value of the role claim and the back-office role it gives (staff, admin, district-it).")
@click.option("--local-passwords/--no-local-passwords", default=True, show_default=True,
              help="Whether this tenant's users may still sign in with a password.")
@click.option("--label", default=None, help="Text of the sign-in button.")
@click.option("--off", is_flag=True, help="Disconnect the provider (passwords work again).")
def oidc_command(slug, issuer, client_id, role_claim, roles, local_passwords, label, off):
    """Sign-in with the tenant's identity provider; the client secret is read from standard input."""
    tenant = tenant_or_exit(slug)
    if off:
        with all_tenants():
            removed = oidc.remove(tenant.id)
        commit()
        click.echo("Provider disconnected." if removed else "No provider was connected.")
        return
    if not issuer or not client_id:
        click.echo("error: --issuer and --client-id are needed", err=True)
        sys.exit(1)
    role_map = {}
    for item in roles:
        value, _, role = item.rpartition("=")
        if not value:
            click.echo(f"error: --role {item}: give VALUE=ROLE", err=True)
            sys.exit(1)
        role_map[value] = role
    secret = sys.stdin.readline().strip() if not sys.stdin.isatty() else click.prompt("Client secret", hide_input=True)
    try:
        with all_tenants():
            oidc.configure(tenant.id, issuer=issuer, client_id=client_id, client_secret=secret or None,
                           role_claim=role_claim, role_map=role_map, local_passwords=local_passwords, label=label)
        commit()
    except oidc.SignInError as exc:
        db.session.rollback()
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"{tenant.slug}: sign-in with {issuer}; roles from '{role_claim}': "
               + (", ".join(f"{k} → {v}" for k, v in role_map.items()) or "none mapped yet")
               + ("" if local_passwords else "; local passwords are off"))
