"""waitlist_entries.offer_appointment_id: which freed slot an offer was for, so a lapsed
offer can pass to the next citizen waiting.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("waitlist_entries") as batch_op:
        batch_op.add_column(sa.Column("offer_appointment_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_waitlist_entries_tenant_id_offer_appointment_id_appointments", "appointments",
            ["tenant_id", "offer_appointment_id"], ["tenant_id", "id"], ondelete="RESTRICT",
        )


def downgrade():
    with op.batch_alter_table("waitlist_entries") as batch_op:
        batch_op.drop_constraint("fk_waitlist_entries_tenant_id_offer_appointment_id_appointments",
                                 type_="foreignkey")
        batch_op.drop_column("offer_appointment_id")
