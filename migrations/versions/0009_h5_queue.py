"""The office's queue (issue 13): queue set-up per office, walk-in quotas, ticket
numbers per day, queue entries with their check-in/call/finish/missed times, and
every call for the waiting room's screen.

Revision ID: 0009_h5_queue
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

from app.extensions import UTCDateTime

revision = "0009_h5_queue"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('office_queues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('ticket_prefix', sa.String(length=3), nullable=False),
    sa.Column('appointment_prefix', sa.String(length=3), nullable=False),
    sa.Column('kiosk_version', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("ticket_prefix <> ''", name=op.f('ck_office_queues_prefix_not_empty')),
    sa.ForeignKeyConstraint(['tenant_id', 'office_id'], ['offices.tenant_id', 'offices.id'], name=op.f('fk_office_queues_tenant_id_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_office_queues_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_queues')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_office_queues_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'office_id', name=op.f('uq_office_queues_tenant_id_office_id'))
    )
    with op.batch_alter_table('office_queues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_queues_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('queue_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'office_id'], ['offices.tenant_id', 'offices.id'], name=op.f('fk_queue_days_tenant_id_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_queue_days_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_days')),
    sa.UniqueConstraint('tenant_id', 'office_id', 'day', name=op.f('uq_queue_days_tenant_id_office_id_day'))
    )
    with op.batch_alter_table('queue_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_days_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('walk_in_quotas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('per_day', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('per_day BETWEEN 0 AND 999', name=op.f('ck_walk_in_quotas_per_day_range')),
    sa.ForeignKeyConstraint(['tenant_id', 'office_id'], ['offices.tenant_id', 'offices.id'], name=op.f('fk_walk_in_quotas_tenant_id_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'service_id'], ['services.tenant_id', 'services.id'], name=op.f('fk_walk_in_quotas_tenant_id_service_id_services'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_walk_in_quotas_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_walk_in_quotas')),
    sa.UniqueConstraint('tenant_id', 'office_id', 'service_id', name=op.f('uq_walk_in_quotas_tenant_id_office_id_service_id'))
    )
    with op.batch_alter_table('walk_in_quotas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_walk_in_quotas_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('queue_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('ticket', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('emergency', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('due_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('target_counter_id', sa.Integer(), nullable=True),
    sa.Column('call_count', sa.Integer(), nullable=False),
    sa.Column('checked_in_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('called_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_called_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('missed_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('anonymized_at', UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("(kind = 'appointment') = (appointment_id IS NOT NULL)", name=op.f('ck_queue_entries_appointment_kind')),
    sa.CheckConstraint("kind IN ('appointment', 'walk_in')", name=op.f('ck_queue_entries_kind')),
    sa.CheckConstraint("status <> 'called' OR counter_id IS NOT NULL", name=op.f('ck_queue_entries_called_at_counter')),
    sa.CheckConstraint("status IN ('waiting', 'called', 'parked', 'finished', 'missed')", name=op.f('ck_queue_entries_status')),
    sa.ForeignKeyConstraint(['tenant_id', 'appointment_id'], ['appointments.tenant_id', 'appointments.id'], name=op.f('fk_queue_entries_tenant_id_appointment_id_appointments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'counter_id'], ['counters.tenant_id', 'counters.id'], name=op.f('fk_queue_entries_tenant_id_counter_id_counters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'office_id'], ['offices.tenant_id', 'offices.id'], name=op.f('fk_queue_entries_tenant_id_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'service_id'], ['services.tenant_id', 'services.id'], name=op.f('fk_queue_entries_tenant_id_service_id_services'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id', 'target_counter_id'], ['counters.tenant_id', 'counters.id'], name=op.f('fk_queue_entries_tenant_id_target_counter_id_counters'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_queue_entries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_entries')),
    sa.UniqueConstraint('tenant_id', 'appointment_id', name=op.f('uq_queue_entries_tenant_id_appointment_id')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_queue_entries_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'office_id', 'day', 'number', name=op.f('uq_queue_entries_tenant_id_office_id_day_number'))
    )
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.create_index('ix_queue_entries_office_day_status', ['tenant_id', 'office_id', 'day', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_entries_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('uq_queue_entries_one_called_per_counter', ['tenant_id', 'counter_id'], unique=True, postgresql_where=sa.text("status = 'called'"), sqlite_where=sa.text("status = 'called'"))

    op.create_table('queue_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=False),
    sa.Column('called_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'counter_id'], ['counters.tenant_id', 'counters.id'], name=op.f('fk_queue_calls_tenant_id_counter_id_counters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'entry_id'], ['queue_entries.tenant_id', 'queue_entries.id'], name=op.f('fk_queue_calls_tenant_id_entry_id_queue_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'office_id'], ['offices.tenant_id', 'offices.id'], name=op.f('fk_queue_calls_tenant_id_office_id_offices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_queue_calls_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_calls'))
    )
    with op.batch_alter_table('queue_calls', schema=None) as batch_op:
        batch_op.create_index('ix_queue_calls_office_at', ['tenant_id', 'office_id', 'called_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_calls_tenant_id'), ['tenant_id'], unique=False)



def downgrade():
    with op.batch_alter_table('queue_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_calls_tenant_id'))
        batch_op.drop_index('ix_queue_calls_office_at')

    op.drop_table('queue_calls')
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_queue_entries_one_called_per_counter', postgresql_where=sa.text("status = 'called'"), sqlite_where=sa.text("status = 'called'"))
        batch_op.drop_index(batch_op.f('ix_queue_entries_tenant_id'))
        batch_op.drop_index('ix_queue_entries_office_day_status')

    op.drop_table('queue_entries')
    with op.batch_alter_table('walk_in_quotas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_walk_in_quotas_tenant_id'))

    op.drop_table('walk_in_quotas')
    with op.batch_alter_table('queue_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_days_tenant_id'))

    op.drop_table('queue_days')
    with op.batch_alter_table('office_queues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_queues_tenant_id'))

    op.drop_table('office_queues')
