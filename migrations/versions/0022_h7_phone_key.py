"""appointments.phone_key: the line a number reaches (digits only, +49/0049 as 0), so the
optional per-phone cap `max_active_per_phone` counts "+49 171 555-1234" as "0171 5551234".

Revision ID: 0022_h7_phone_key
Revises: 0021_h4_reconfirmation
"""
import sqlalchemy as sa
from alembic import op

from app.validators import phone_key

revision = "0022_h7_phone_key"
down_revision = "0021_h4_reconfirmation"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.add_column(sa.Column("phone_key", sa.String(64), nullable=False, server_default=""))
        batch_op.create_index("ix_appointments_tenant_phone_key", ["tenant_id", "phone_key"])
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, phone FROM appointments WHERE phone <> ''")).all()
    for row_id, phone in rows:
        conn.execute(sa.text("UPDATE appointments SET phone_key = :k WHERE id = :id"),
                     {"k": phone_key(phone), "id": row_id})


def downgrade():
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.drop_index("ix_appointments_tenant_phone_key")
        batch_op.drop_column("phone_key")
