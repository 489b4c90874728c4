"""Reconfirmation ("Kommen Sie?"): when it was asked and answered, and when an unanswered
appointment was released; the statistics count all three.

Revision ID: 0021_h4_reconfirmation
Revises: 0020_h3_row_level_security
"""
import sqlalchemy as sa
from alembic import op

import app.extensions

revision = "0021_h4_reconfirmation"
down_revision = "0020_h3_row_level_security"
branch_labels = None
depends_on = None

FIGURES = ("reconfirm_sent", "reconfirm_confirmed", "reconfirm_released")


def upgrade():
    with op.batch_alter_table("appointments") as batch_op:
        for column in ("reconfirm_sent_at", "reconfirmed_at", "released_at"):
            batch_op.add_column(sa.Column(column, app.extensions.UTCDateTime(timezone=True), nullable=True))
    for table in ("statistics_days", "statistics_deltas"):
        with op.batch_alter_table(table) as batch_op:
            for figure in FIGURES:
                batch_op.add_column(sa.Column(figure, sa.BigInteger(), nullable=False, server_default="0"))


def downgrade():
    for table in ("statistics_days", "statistics_deltas"):
        with op.batch_alter_table(table) as batch_op:
            for figure in FIGURES:
                batch_op.drop_column(figure)
    with op.batch_alter_table("appointments") as batch_op:
        for column in ("reconfirm_sent_at", "reconfirmed_at", "released_at"):
            batch_op.drop_column(column)
