"""webhook_deliveries.status may be 'sending': a delivery claimed for one POST, with
next_attempt_at as the end of that lease — so no transaction is held while the
receiver is talked to (the lease protocol of app/jobs/lease.py, as for mail).

Revision ID: 0025_h1_webhook_sending
Revises: 0024_h7_refusal_counts
"""
from alembic import op

revision = "0025_h1_webhook_sending"
down_revision = "0024_h7_refusal_counts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webhook_deliveries") as batch_op:
        batch_op.drop_constraint(op.f("ck_webhook_deliveries_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('pending', 'sending', 'sent', 'failed')")


def downgrade():
    op.execute("UPDATE webhook_deliveries SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("webhook_deliveries") as batch_op:
        batch_op.drop_constraint(op.f("ck_webhook_deliveries_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('pending', 'sent', 'failed')")
