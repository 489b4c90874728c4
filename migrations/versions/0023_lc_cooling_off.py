"""Cooling-off for cancelled slots (`release_cancelled_after_minutes`): until when a start
freed by a citizen's cancellation stays held back from online booking.

Revision ID: 0023_lc_cooling_off
Revises: 0022_h7_phone_key
"""
import sqlalchemy as sa
from alembic import op

import app.extensions

revision = "0023_lc_cooling_off"
down_revision = "0022_h7_phone_key"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.add_column(sa.Column("online_again_at", app.extensions.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.drop_column("online_again_at")
