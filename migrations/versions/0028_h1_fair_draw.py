"""The fair draw (issue 16): draws of a service's newly released day and their entries.

Revision ID: 0028_h1_fair_draw
Revises: 0027_h6_waitlist_preferences
"""
import sqlalchemy as sa
from alembic import op

from app.extensions import UTCDateTime
from app.tenancy.rls import disable_tenant_rls, enable_tenant_rls

revision = "0028_h1_fair_draw"
down_revision = "0027_h6_waitlist_preferences"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "fair_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opens_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("drawn_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("ranking", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('collecting', 'drawn')", name=op.f("ck_fair_draws_status")),
        sa.CheckConstraint("opens_at < closes_at", name=op.f("ck_fair_draws_window")),
        sa.ForeignKeyConstraint(["tenant_id", "service_id"], ["services.tenant_id", "services.id"],
                                name=op.f("fk_fair_draws_tenant_id_service_id_services"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_fair_draws_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fair_draws")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_fair_draws_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "service_id", "day", name=op.f("uq_fair_draws_tenant_id_service_id_day")),
    )
    with op.batch_alter_table("fair_draws") as batch_op:
        batch_op.create_index(batch_op.f("ix_fair_draws_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_fair_draws_tenant_status_closes", ["tenant_id", "status", "closes_at"], unique=False)
    op.create_table(
        "draw_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("phone_key", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("result IN ('entered', 'booked', 'waitlist')", name=op.f("ck_draw_entries_result")),
        sa.ForeignKeyConstraint(["tenant_id", "draw_id"], ["fair_draws.tenant_id", "fair_draws.id"],
                                name=op.f("fk_draw_entries_tenant_id_draw_id_fair_draws"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "appointment_id"], ["appointments.tenant_id", "appointments.id"],
                                name=op.f("fk_draw_entries_tenant_id_appointment_id_appointments"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_draw_entries_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw_entries")),
        sa.UniqueConstraint("tenant_id", "id", name=op.f("uq_draw_entries_tenant_id_id")),
        sa.UniqueConstraint("tenant_id", "draw_id", "email_key", name=op.f("uq_draw_entries_tenant_id_draw_id_email_key")),
        sa.UniqueConstraint("tenant_id", "reference", name=op.f("uq_draw_entries_tenant_id_reference")),
        sa.UniqueConstraint("token", name=op.f("uq_draw_entries_token")),
    )
    with op.batch_alter_table("draw_entries") as batch_op:
        batch_op.create_index(batch_op.f("ix_draw_entries_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_draw_entries_tenant_draw", ["tenant_id", "draw_id"], unique=False)
    enable_tenant_rls(op, "fair_draws")
    enable_tenant_rls(op, "draw_entries")


def downgrade():
    disable_tenant_rls(op, "draw_entries")
    disable_tenant_rls(op, "fair_draws")
    with op.batch_alter_table("draw_entries") as batch_op:
        batch_op.drop_index("ix_draw_entries_tenant_draw")
        batch_op.drop_index(batch_op.f("ix_draw_entries_tenant_id"))
    op.drop_table("draw_entries")
    with op.batch_alter_table("fair_draws") as batch_op:
        batch_op.drop_index("ix_fair_draws_tenant_status_closes")
        batch_op.drop_index(batch_op.f("ix_fair_draws_tenant_id"))
    op.drop_table("fair_draws")
