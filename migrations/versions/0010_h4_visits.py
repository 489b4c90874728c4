"""Visits: one appointment may combine several services, each for a number of persons.

`appointment_services` holds the services of a visit with their counts; every existing
appointment becomes a visit of its one service for its `persons`. Services learn how
long each further person takes and whether they may share a visit.

Revision ID: 0010_h4_visits
Revises: 0009_h5_queue
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_h4_visits"
down_revision = "0009_h5_queue"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("services") as batch_op:
        batch_op.add_column(sa.Column("additional_person_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("combinable", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.create_check_constraint(
            "additional_person_minutes_range",
            "additional_person_minutes IS NULL OR additional_person_minutes BETWEEN 1 AND 480")
    with op.batch_alter_table("services") as batch_op:
        batch_op.alter_column("combinable", server_default=None)

    op.create_table(
        "appointment_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("count BETWEEN 1 AND 10", name=op.f("ck_appointment_services_count_range")),
        sa.ForeignKeyConstraint(["tenant_id", "appointment_id"], ["appointments.tenant_id", "appointments.id"],
                                name=op.f("fk_appointment_services_tenant_id_appointment_id_appointments"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "service_id"], ["services.tenant_id", "services.id"],
                                name=op.f("fk_appointment_services_tenant_id_service_id_services"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_appointment_services_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_services")),
        sa.UniqueConstraint("tenant_id", "appointment_id", "service_id",
                            name=op.f("uq_appointment_services_tenant_id_appointment_id_service_id")),
    )
    with op.batch_alter_table("appointment_services") as batch_op:
        batch_op.create_index("ix_appointment_services_tenant_service", ["tenant_id", "service_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_services_tenant_id"), ["tenant_id"], unique=False)
    op.execute(
        "INSERT INTO appointment_services (tenant_id, appointment_id, service_id, count, position) "
        "SELECT tenant_id, id, service_id, persons, 0 FROM appointments"
    )


def downgrade():
    op.drop_table("appointment_services")
    with op.batch_alter_table("services") as batch_op:
        batch_op.drop_constraint("additional_person_minutes_range", type_="check")
        batch_op.drop_column("combinable")
        batch_op.drop_column("additional_person_minutes")
