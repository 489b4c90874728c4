"""The database refuses overlapping appointments on one counter.

PostgreSQL: an exclusion constraint over (tenant, counter, [starts_at, ends_at)) for
rows that are not cancelled and not an explicit emergency overbooking.
SQLite: triggers that abort such an insert or update with 'appointment_overlap'.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_CHECK = """
SELECT RAISE(ABORT, 'appointment_overlap')
WHERE NEW.status <> 'cancelled' AND NOT NEW.overbooked AND EXISTS (
    SELECT 1 FROM appointments a
    WHERE a.counter_id = NEW.counter_id AND a.tenant_id = NEW.tenant_id AND a.id <> NEW.id
      AND a.status <> 'cancelled' AND NOT a.overbooked
      AND a.starts_at < NEW.ends_at AND a.ends_at > NEW.starts_at
);
"""


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE appointments ADD CONSTRAINT ex_appointments_no_overlap "
            "EXCLUDE USING gist (tenant_id WITH =, counter_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status <> 'cancelled' AND NOT overbooked)"
        )
    elif bind.dialect.name == "sqlite":
        op.execute(f"CREATE TRIGGER ex_appointments_no_overlap_insert BEFORE INSERT ON appointments BEGIN {SQLITE_CHECK} END")
        op.execute(
            "CREATE TRIGGER ex_appointments_no_overlap_update BEFORE UPDATE OF starts_at, ends_at, counter_id, status, "
            f"overbooked ON appointments BEGIN {SQLITE_CHECK} END"
        )
    else:
        raise RuntimeError(f"no overlap guard for {bind.dialect.name}; PostgreSQL or SQLite only")


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE appointments DROP CONSTRAINT ex_appointments_no_overlap")
    else:
        op.execute("DROP TRIGGER IF EXISTS ex_appointments_no_overlap_insert")
        op.execute("DROP TRIGGER IF EXISTS ex_appointments_no_overlap_update")
