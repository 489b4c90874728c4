"""Index appointments by (tenant, counter, start): the slot engine's range scan, chosen
over the tenant index however many past appointments a tenant has.

Revision ID: 0006
Revises: 0003
"""
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.drop_index("ix_appointments_counter_start")
        batch_op.create_index("ix_appointments_tenant_counter_start", ["tenant_id", "counter_id", "starts_at"])


def downgrade():
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.drop_index("ix_appointments_tenant_counter_start")
        batch_op.create_index("ix_appointments_counter_start", ["counter_id", "starts_at"])
