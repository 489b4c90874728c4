"""offices.schedule_version: raised with every change to an office's bookable time, so
computed slots can be reused until something changes.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("offices") as batch_op:
        batch_op.add_column(sa.Column("schedule_version", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("offices") as batch_op:
        batch_op.drop_column("schedule_version")
