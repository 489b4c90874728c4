"""English complete (issue 14 point 3): English documents and fee of a service, English
directions of an entrance, English notices of an office, the tenant's English contact
hours. Additive: empty by default (German is shown where no English is set), so the
previous release keeps writing these rows.

Revision ID: 0026_h5_english
Revises: 0025_h1_webhook_sending
"""
import sqlalchemy as sa
from alembic import op

revision = "0026_h5_english"
down_revision = "0025_h1_webhook_sending"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("documents_en", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("fee_en", sa.String(length=200), server_default="", nullable=False))
    with op.batch_alter_table("entrances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("directions_en", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notices_en", sa.JSON(), server_default="[]", nullable=False))
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_hours_en", sa.String(length=200), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("contact_hours_en")
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.drop_column("notices_en")
    with op.batch_alter_table("entrances", schema=None) as batch_op:
        batch_op.drop_column("directions_en")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("fee_en")
        batch_op.drop_column("documents_en")
