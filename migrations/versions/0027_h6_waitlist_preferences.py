"""Waiting-list preferences (issue 14 point 7): weekdays, morning/afternoon and a date
range an entry wants offers for. Additive with neutral defaults (any weekday, any time,
no range), so the previous release keeps writing entries.

Revision ID: 0027_h6_waitlist_preferences
Revises: 0026_h5_english
"""
import sqlalchemy as sa
from alembic import op

revision = "0027_h6_waitlist_preferences"
down_revision = "0026_h5_english"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weekdays", sa.String(length=7), server_default="", nullable=False))
        batch_op.add_column(sa.Column("daypart", sa.String(length=10), server_default="", nullable=False))
        batch_op.add_column(sa.Column("date_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("date_until", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("waitlist_entries", schema=None) as batch_op:
        batch_op.drop_column("date_until")
        batch_op.drop_column("date_from")
        batch_op.drop_column("daypart")
        batch_op.drop_column("weekdays")
