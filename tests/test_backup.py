"""The restore drill: a backup of a seeded PostgreSQL database restores into a fresh one
that holds every tenant, appointment and outbox row as before, at the newest migration."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.jobs.queue import wait_for_background
from app.ops.backup import BackupError, _major, check
from app import create_app
from tests.conftest import PG_URL, _pg_url, at, close, make_app, needs_pg, next_weekday

SNAPSHOT = {
    "tenants": "SELECT id, slug, name, parent_id, status FROM tenants ORDER BY id",
    "appointments": "SELECT id, tenant_id, code, manage_token, status, starts_at, ends_at, counter_id, email "
                    "FROM appointments ORDER BY id",
    "outbox_mails": "SELECT id, tenant_id, appointment_id, event, status, message_id, subject, text_body "
                    "FROM outbox_mails ORDER BY id",
}


def snapshot(url: str) -> dict[str, list]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: [tuple(r) for r in conn.execute(text(sql))] for name, sql in SNAPSHOT.items()}
    finally:
        engine.dispose()


@pytest.fixture
def fresh_database():
    """A new, empty database beside the test database (named after it, so parallel runs
    with their own TEST_DATABASE_URL do not clash); dropped afterwards."""
    url = make_url(_pg_url(PG_URL))
    name = f"{url.database}_restore"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@needs_pg
def test_restore_drill_brings_back_every_tenant_appointment_and_mail(pg_url, tmp_path, fresh_database):
    # Mail to a server that is not there: some outbox rows stay pending, as in a real backup.
    app = make_app(pg_url, tmp_path, MAIL_URL="smtp://127.0.0.1:9?timeout=1")
    client = app.test_client()
    day = next_weekday(2)
    for i, host in enumerate(["steinfurt.localhost", "emsdetten.localhost", "steinfurt.localhost"]):
        made = client.post("/api/v1/appointments", headers={"Host": host}, json={
            "service": "personalausweis", "start": at(day, 9 + i, 0).isoformat(), "name": "Erika Mustermann",
            "email": f"citizen{i}@example.org"})
        assert made.status_code == 201, made.get_json()
    assert client.delete(f"/api/v1/appointments/{made.get_json()['manage_token']}",
                         headers={"Host": "steinfurt.localhost"}).status_code == 204
    wait_for_background()  # the failed first tries run in a background thread: let them settle first
    before = snapshot(pg_url)
    assert len(before["appointments"]) == 3 and len(before["outbox_mails"]) == 4

    dump = tmp_path / "amtstermin.dump"
    runner = app.test_cli_runner()
    done = runner.invoke(args=["ops", "backup", "-o", str(dump)])
    assert done.exit_code == 0, done.output
    assert dump.stat().st_size > 0

    done = runner.invoke(args=["ops", "restore", str(dump), "--database", fresh_database])
    assert done.exit_code == 0, done.output
    assert "matches the code" in done.output
    with app.app_context():
        assert check(fresh_database, db.metadata) == []
    assert snapshot(fresh_database) == before

    # The restored database serves: the first citizen's manage link finds the appointment.
    restored = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_database, "MAIL_URL": "console",
                           "MAIL_DIR": str(tmp_path / "mail2"), "REDIS_URL": None, "HOST_CACHE_SECONDS": 0})
    token = before["appointments"][0][3]
    found = restored.test_client().get(f"/api/v1/appointments/{token}", headers={"Host": "steinfurt.localhost"})
    assert found.status_code == 200 and found.get_json()["status"] == "booked"
    close(restored)

    # Restoring twice into the same database is refused, and nothing changes.
    again = runner.invoke(args=["ops", "restore", str(dump), "--database", fresh_database])
    assert again.exit_code == 1 and "not empty" in again.output
    assert snapshot(fresh_database) == before


@needs_pg
def test_check_names_a_database_behind_the_newest_migration(pg_url, tmp_path, fresh_database):
    app = make_app(pg_url, tmp_path, demo=False)
    with app.app_context():
        problems = check(fresh_database, db.metadata)
    assert problems and "flask db upgrade" in problems[0]


def test_backup_of_the_embedded_sqlite_database_is_a_working_copy(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path)
    dump = tmp_path / "copy.db"
    done = app.test_cli_runner().invoke(args=["ops", "backup", "-o", str(dump)])
    assert done.exit_code == 0, done.output
    copy = f"sqlite:///{dump}"
    assert snapshot(copy)["tenants"] == snapshot(sqlite_url)["tenants"]
    with app.app_context():
        assert check(copy, db.metadata) == []


def test_the_client_version_is_read_from_pg_dump():
    assert _major("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)") == 15
    assert _major("pg_restore (PostgreSQL) 17.2") == 17
    with pytest.raises(BackupError):
        _major("something else")
