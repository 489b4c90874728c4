"""Row-level security on every table with a tenant_id column (PostgreSQL only): the
database refuses another tenant's rows even to SQL that bypasses the ORM's scope. Creates
the app's role `amtstermin_app` (no BYPASSRLS, no superuser) where the login may, with
the rights on every table; the app switches to it with DATABASE_ROLE.

Revision ID: 0020_h3_row_level_security
Revises: 0019_h7_leika
"""
from alembic import op

from app.tenancy.rls import disable_tenant_rls, enable_tenant_rls, grant_app_role, tenant_tables

revision = "0020_h3_row_level_security"
down_revision = "0019_h7_leika"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tenant_tables(op.get_bind()):
        enable_tenant_rls(op, table)
    grant_app_role(op)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tenant_tables(op.get_bind()):
        disable_tenant_rls(op, table)
