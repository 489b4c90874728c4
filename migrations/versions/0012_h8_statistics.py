"""Pilot statistics: anonymous daily figures per tenant, office, service and source, the
deltas not yet folded into them, open counter minutes per office and day, the days until
the next free slot per service and day, and which days a tenant's recording ran.

Revision ID: 0012_h8_statistics
Revises: 0011_h7_webhooks
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_h8_statistics'
down_revision = '0011_h7_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statistics_deltas',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('bookings', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('lead_minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('appointments', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('booked_minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('services', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('persons', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('no_shows', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('checked_in', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('completed', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('waited', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('wait_seconds', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('served', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('service_seconds', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cancelled', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cancelled_by_office', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('moves', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('waitlist_entries', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('waitlist_offers', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('waitlist_taken', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('emergency_requests', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('emergency_answered', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('emergency_answer_minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('walk_ins_served', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('queue_missed', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'office_id'], ['offices.tenant_id', 'offices.id'], name=op.f('fk_statistics_deltas_tenant_id_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'service_id'], ['services.tenant_id', 'services.id'], name=op.f('fk_statistics_deltas_tenant_id_service_id_services'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_statistics_deltas_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statistics_deltas'))
    )
    with op.batch_alter_table('statistics_deltas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statistics_deltas_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('statistics_recordings',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_statistics_recordings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'day', name=op.f('pk_statistics_recordings'))
    )
    op.create_table('statistics_office_days',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('open_minutes', sa.Integer(), nullable=False),
    sa.Column('held_back_minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'office_id'], ['offices.tenant_id', 'offices.id'], name=op.f('fk_statistics_office_days_tenant_id_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_statistics_office_days_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'day', 'office_id', name=op.f('pk_statistics_office_days'))
    )
    op.create_table('statistics_days',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('bookings', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('lead_minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('appointments', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('booked_minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('services', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('persons', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('no_shows', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('checked_in', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('completed', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('waited', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('wait_seconds', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('served', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('service_seconds', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cancelled', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('cancelled_by_office', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('moves', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('waitlist_entries', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('waitlist_offers', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('waitlist_taken', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('emergency_requests', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('emergency_answered', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('emergency_answer_minutes', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('walk_ins_served', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('queue_missed', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'office_id'], ['offices.tenant_id', 'offices.id'], name=op.f('fk_statistics_days_tenant_id_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'service_id'], ['services.tenant_id', 'services.id'], name=op.f('fk_statistics_days_tenant_id_service_id_services'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_statistics_days_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'day', 'office_id', 'service_id', 'source', name=op.f('pk_statistics_days'))
    )
    op.create_table('statistics_next_free',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'service_id'], ['services.tenant_id', 'services.id'], name=op.f('fk_statistics_next_free_tenant_id_service_id_services'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_statistics_next_free_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'day', 'service_id', name=op.f('pk_statistics_next_free'))
    )


def downgrade():
    op.drop_table('statistics_next_free')
    op.drop_table('statistics_days')
    op.drop_table('statistics_office_days')
    op.drop_table('statistics_recordings')
    with op.batch_alter_table('statistics_deltas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statistics_deltas_tenant_id'))

    op.drop_table('statistics_deltas')
