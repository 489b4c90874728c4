"""appointments.email_key: the mailbox an address reaches (lower case, no +tag), so the
per-e-mail cap counts erika+1@… as erika@… (CONTRACT §4).

Revision ID: 0016_lc_email_key
Revises: 0015_h7_oidc
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_lc_email_key"
down_revision = "0015_h7_oidc"
branch_labels = None
depends_on = None


def _key(email: str) -> str:
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if at else email


def upgrade():
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.add_column(sa.Column("email_key", sa.String(254), nullable=False, server_default=""))
        batch_op.create_index("ix_appointments_tenant_email_key", ["tenant_id", "email_key"])
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(
            "UPDATE appointments SET email_key = lower(regexp_replace(email, '\\+[^@]*@', '@')) WHERE email <> ''"))
    else:
        rows = conn.execute(sa.text("SELECT id, email FROM appointments WHERE email <> ''")).all()
        for row_id, email in rows:
            conn.execute(sa.text("UPDATE appointments SET email_key = :k WHERE id = :id"),
                         {"k": _key(email), "id": row_id})


def downgrade():
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.drop_index("ix_appointments_tenant_email_key")
        batch_op.drop_column("email_key")
