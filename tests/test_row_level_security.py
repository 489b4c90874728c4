"""The database's own wall (PostgreSQL row-level security): raw SQL that never passes the
ORM's tenant scope still sees and writes only its own tenant's rows, every table with a
tenant_id has the policy (tables added later included), and the app is no role that
skips policies."""
from __future__ import annotations

import warnings

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from app.extensions import db
from app.tenancy.rls import init_engine
from app.tenancy.scope import all_tenants, tenant_scope
from tests.conftest import close, make_app
from tests.test_backoffice_support import tenant_id

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(pg_url, tmp_path):
    """The app as production runs it: switched to the role row-level security applies to
    (the tests' login is a superuser, whom every policy lets through)."""
    app = make_app(pg_url, tmp_path, DATABASE_ROLE="amtstermin_app")
    yield app
    close(app)


def test_raw_sql_without_the_orm_scope_sees_only_its_tenant(pg_app):
    steinfurt, emsdetten = tenant_id(pg_app, "steinfurt"), tenant_id(pg_app, "emsdetten")
    with pg_app.app_context():
        with tenant_scope(steinfurt):
            seen = set(db.session.execute(text("SELECT DISTINCT tenant_id FROM services")).scalars())
            offices = db.session.execute(text("SELECT count(*) FROM offices")).scalar_one()
        assert seen == {steinfurt} and offices >= 1
        with tenant_scope(emsdetten):
            assert set(db.session.execute(text("SELECT DISTINCT tenant_id FROM services")).scalars()) == {emsdetten}
            # Naming the other tenant outright does not help.
            assert db.session.execute(text("SELECT count(*) FROM services WHERE tenant_id = :t"),
                                      {"t": steinfurt}).scalar_one() == 0
        db.session.rollback()
        # No tenant and no all_tenants(): nothing at all (default deny).
        assert db.session.execute(text("SELECT count(*) FROM services")).scalar_one() == 0
        with all_tenants():
            assert set(db.session.execute(text("SELECT DISTINCT tenant_id FROM services")).scalars()) \
                >= {steinfurt, emsdetten}


def test_raw_sql_cannot_write_into_another_tenant(pg_app):
    steinfurt, emsdetten = tenant_id(pg_app, "steinfurt"), tenant_id(pg_app, "emsdetten")
    with pg_app.app_context():
        with tenant_scope(steinfurt):
            # Changing another tenant's rows matches nothing …
            hit = db.session.execute(text("UPDATE offices SET name = 'gekapert' WHERE tenant_id = :t"),
                                     {"t": emsdetten})
            assert hit.rowcount == 0
            # … and a row for another tenant is refused outright.
            with pytest.raises(ProgrammingError, match="row-level security"):
                db.session.execute(text("INSERT INTO audit_entries (tenant_id, at, actor, action, object_type, "
                                        "object_id) VALUES (:t, now(), 'x', 'x', 'x', '')"), {"t": emsdetten})
        db.session.rollback()
        with tenant_scope(emsdetten):
            assert "gekapert" not in db.session.execute(text("SELECT name FROM offices")).scalars().all()


def test_the_scope_follows_a_tenant_change_inside_one_transaction(pg_app):
    steinfurt, emsdetten = tenant_id(pg_app, "steinfurt"), tenant_id(pg_app, "emsdetten")
    with pg_app.app_context():
        with tenant_scope(steinfurt):
            first = set(db.session.execute(text("SELECT tenant_id FROM offices")).scalars())
            with tenant_scope(emsdetten):  # the same transaction, another tenant
                second = set(db.session.execute(text("SELECT tenant_id FROM offices")).scalars())
            again = set(db.session.execute(text("SELECT tenant_id FROM offices")).scalars())
        assert (first, second, again) == ({steinfurt}, {emsdetten}, {steinfurt})
        db.session.rollback()


def test_every_table_with_a_tenant_id_has_row_level_security(pg_app):
    with pg_app.app_context():
        rows = db.session.execute(text("""
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                          AND NOT a.attisdropped)""")).all()
    assert len(rows) >= 15 and {"appointments", "user_sessions", "tenant_hosts", "memberships"} <= {r[0] for r in rows}
    missing = [name for name, enabled, forced, policy in rows if not (enabled and forced and policy)]
    assert missing == [], "call enable_tenant_rls(op, table) in the migration (app/tenancy/rls.py)"


def test_the_app_is_no_role_that_skips_policies(pg_app):
    with pg_app.app_context():
        user, superuser, bypass = db.session.execute(text(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        owns = db.session.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")).scalar_one()
        db.session.rollback()
    assert (user, superuser, bypass, owns) == ("amtstermin_app", False, False, 0)


def test_a_booking_and_the_back_office_work_under_row_level_security(pg_app):
    from tests.conftest import HostClient, at, next_weekday
    from tests.test_backoffice_support import logged_in

    citizen = HostClient(pg_app, "steinfurt.localhost")
    day = next_weekday(1)
    booked = citizen.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(day, 9).isoformat(),
                                                         "name": "Rita Rolle", "email": "rita@example.org"})
    assert booked.status_code == 201, booked.json
    assert citizen.get(f"/api/v1/appointments/{booked.json['manage_token']}").status_code == 200
    clerk = logged_in(pg_app, HostClient(pg_app, "steinfurt.localhost"), "staff")
    assert "Rita Rolle" in clerk.get(f"/admin/day?date={day.isoformat()}").get_data(as_text=True)
    other = logged_in(pg_app, HostClient(pg_app, "emsdetten.localhost"), "staff")
    assert "Rita Rolle" not in other.get(f"/admin/day?date={day.isoformat()}").get_data(as_text=True)


def test_a_pooled_connection_carries_no_tenant_into_the_next_transaction(pg_app):
    steinfurt = tenant_id(pg_app, "steinfurt")
    with pg_app.app_context():
        with tenant_scope(steinfurt):
            assert db.session.execute(text("SELECT count(*) FROM offices")).scalar_one() >= 1
            db.session.commit()
        # Same pooled connection, next transaction, no scope: the setting went with the commit.
        assert db.session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar_one() in ("", None)
        assert db.session.execute(text("SELECT count(*) FROM offices")).scalar_one() == 0
        db.session.rollback()


def test_the_pool_listeners_are_written_for_the_current_sqlalchemy(pg_url):
    # SQLAlchemy converts a listener of a pre-2.0 signature with a deprecation warning and
    # will drop the conversion: the pool's reset would then no longer forget the tenant mark.
    engine = create_engine(pg_url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init_engine(engine, None)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    engine.dispose()
    assert [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)] == []
