"""What the `flask …` commands share: the tenant a command names, and failing without a change."""
from __future__ import annotations

import sys
from typing import Iterable, NoReturn

import click

from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.resolve import tenant_by_slug


def tenant_or_exit(slug: str) -> Tenant:
    """The tenant named `slug`; without one, an error on standard error and exit status 1."""
    tenant = tenant_by_slug(slug)
    if tenant is None:
        click.echo(f"error: no tenant {slug!r}", err=True)
        sys.exit(1)
    return tenant


def exit_unchanged(errors: Iterable[str], *, say_unchanged: bool = True) -> NoReturn:
    """Roll back, print every error on its own line (standard error) and exit with status 1."""
    db.session.rollback()
    for line in errors:
        click.echo(f"error: {line}", err=True)
    if say_unchanged:
        click.echo("Nothing was changed.", err=True)
    sys.exit(1)
