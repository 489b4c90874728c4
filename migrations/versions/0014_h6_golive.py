"""Going live: tenants may be drafts, carry their own postal address and the fields of the
legal pages; accessibility feedback is tracked per tenant.

Revision ID: 0014_h6_golive
Revises: 0013_h3_accounts_security
"""
import sqlalchemy as sa
from alembic import op

import app.extensions

revision = "0014_h6_golive"
down_revision = "0013_h3_accounts_security"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(300), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("legal", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.drop_constraint(op.f("ck_tenants_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('draft', 'pilot', 'live', 'disabled')")
    op.create_table(
        "accessibility_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("page", sa.String(300), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(5), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("received_at", app.extensions.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_at", app.extensions.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(254), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('received', 'answered')", name=op.f("ck_accessibility_feedback_status")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_accessibility_feedback_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accessibility_feedback")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_accessibility_feedback_tenant_id_id")),
    )
    op.create_index("ix_accessibility_feedback_tenant_status", "accessibility_feedback",
                    ["tenant_id", "status", "due_on"])
    op.create_index(op.f("ix_accessibility_feedback_tenant_id"), "accessibility_feedback", ["tenant_id"])


def downgrade():
    op.drop_table("accessibility_feedback")
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_constraint(op.f("ck_tenants_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('pilot', 'live', 'disabled')")
        batch_op.drop_column("legal")
        batch_op.drop_column("address")
