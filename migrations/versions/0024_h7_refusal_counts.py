"""refusal_counts: refused online bookings per tenant, local day and reason (rate limit,
e-mail cap, phone cap, proof of work), for the back office; counters only, no addresses.

Revision ID: 0024_h7_refusal_counts
Revises: 0023_lc_cooling_off
"""
import sqlalchemy as sa
from alembic import op

from app.tenancy.rls import disable_tenant_rls, enable_tenant_rls

revision = "0024_h7_refusal_counts"
down_revision = "0023_lc_cooling_off"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "refusal_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_refusal_counts_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refusal_counts")),
        sa.UniqueConstraint("tenant_id", "day", "reason", name=op.f("uq_refusal_counts_tenant_id_day_reason")),
    )
    with op.batch_alter_table("refusal_counts") as batch_op:
        batch_op.create_index(batch_op.f("ix_refusal_counts_tenant_id"), ["tenant_id"], unique=False)
    enable_tenant_rls(op, "refusal_counts")


def downgrade():
    disable_tenant_rls(op, "refusal_counts")
    with op.batch_alter_table("refusal_counts") as batch_op:
        batch_op.drop_index(batch_op.f("ix_refusal_counts_tenant_id"))
    op.drop_table("refusal_counts")
