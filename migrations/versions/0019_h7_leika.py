"""Federal service keys (issue 19): each service may carry its LeiKa key (14 digits).
Additive: empty by default, so the previous release keeps writing services.

Revision ID: 0019_h7_leika
Revises: 0018_h2_idempotency_keys
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_h7_leika"
down_revision = "0018_h2_idempotency_keys"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leika_key", sa.String(length=14), server_default="", nullable=False))
        batch_op.create_check_constraint("leika_key_length", "length(leika_key) IN (0, 14)")


def downgrade():
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_constraint("ck_services_leika_key_length", type_="check")
        batch_op.drop_column("leika_key")
