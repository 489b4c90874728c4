"""The shared answer cache in one process: a hit runs no SQL and opens no connection, a
committed change or the passing of time is never answered from an old entry, and Redis
down falls back to the database (tests/test_shared_cache_processes.py: across processes)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app import shared_cache
from app.extensions import db
from app.offices.models import Closure, Office
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope
from app.transaction import commit
from tests.conftest import REDIS_URL, HostClient, at, close, make_app, needs_redis, next_weekday

pytestmark = needs_redis

READS = ["/api/v1/services/personalausweis/slots?from={day}&to={day}",
         "/api/v1/slots?services=personalausweis:2&from={day}&to={day}",
         "/api/v1/services/personalausweis/next", "/api/v1/next?services=personalausweis"]


@pytest.fixture
def shared_app(pg_url, tmp_path):
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL)
    yield app
    close(app)


class Statements:
    """Every SQL statement and pool checkout of the app's engine while counting."""

    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine
        self.sql: list[str] = []
        self.checkouts = 0
        event.listen(self.engine, "before_cursor_execute", self._sql)
        event.listen(self.engine.pool, "checkout", self._checkout)

    def _sql(self, conn, cursor, statement, *args):
        self.sql.append(statement)

    def _checkout(self, *args):
        self.checkouts += 1

    def reset(self):
        self.sql.clear()
        self.checkouts = 0

    def remove(self):
        event.remove(self.engine, "before_cursor_execute", self._sql)
        event.remove(self.engine.pool, "checkout", self._checkout)


def in_steinfurt(app):
    with app.app_context(), all_tenants():
        tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
    return tenant_scope(tid)


def test_a_hit_runs_no_sql_and_opens_no_connection(shared_app):
    client = HostClient(shared_app, "steinfurt.localhost")
    monday = next_weekday(0)
    paths = [p.format(day=monday) for p in READS]
    first = {p: client.get(p) for p in paths}
    assert all(r.status_code == 200 for r in first.values()), {p: r.status_code for p, r in first.items()}
    counted = Statements(shared_app)
    try:
        for path in paths:
            counted.reset()
            again = client.get(path)
            assert again.status_code == 200
            assert again.get_data() == first[path].get_data()
            assert again.content_type == first[path].content_type
            assert counted.sql == [] and counted.checkouts == 0, (path, counted.sql)
        # A miss does read the database (the counting itself is no test that cannot fail).
        counted.reset()
        assert client.get(f"/api/v1/services/personalausweis/slots?from={monday}&to={monday + timedelta(days=1)}"
                          ).status_code == 200
        assert counted.sql and counted.checkouts >= 1
    finally:
        counted.remove()


def test_a_committed_change_is_answered_at_once(shared_app):
    client = HostClient(shared_app, "steinfurt.localhost")
    monday = next_weekday(0)
    path = f"/api/v1/services/personalausweis/slots?from={monday}&to={monday}"
    nine = at(monday, 9).isoformat()
    before = {s["start"]: s["free"] for s in client.get(path).json["slots"]}
    assert before[nine] == 3
    r = client.post("/api/v1/appointments", json={"service": "personalausweis", "start": nine, "name": "Erika",
                                                  "email": "e@example.org"})
    assert r.status_code == 201
    assert {s["start"]: s["free"] for s in client.get(path).json["slots"]}[nine] == 2
    assert client.delete(f"/api/v1/appointments/{r.json['manage_token']}").status_code == 204
    after_cancel = {s["start"]: s["free"] for s in client.get(path).json["slots"]}
    assert after_cancel.get(nine, 2) in (2, 3)  # held back or free again, as the tenant's cooling-off says
    with shared_app.app_context(), in_steinfurt(shared_app):
        office = db.session.scalar(select(Office))
        db.session.add(Closure(office_id=office.id, starts_at=at(monday, 0), ends_at=at(monday, 23)))
        commit()
    assert client.get(path).json["slots"] == []
    # A setting of the tenant (the tenants version): the horizon now ends before Monday.
    with shared_app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt"))
        tenant.contact_phone = "02551 999"
        commit()
    r = client.get("/api/v1/next?services=personalausweis")
    assert r.status_code in (200, 404)
    assert client.get("/api/v1/tenant").json["contact"]["phone"] == "02551 999"


def test_an_answer_is_not_served_after_time_alone_changed_it(shared_app, fixed_now):
    client = HostClient(shared_app, "steinfurt.localhost")
    monday = next_weekday(0)
    fixed_now(at(monday - timedelta(days=7), 8))
    first = client.get("/api/v1/services/personalausweis/next").json
    assert client.get("/api/v1/services/personalausweis/next").json == first  # a hit
    counted = Statements(shared_app)
    try:
        fixed_now(at(monday - timedelta(days=7), 8) + timedelta(days=1))  # the first start became too soon
        later = client.get("/api/v1/services/personalausweis/next").json
        assert counted.sql  # computed again, not served from the entry
    finally:
        counted.remove()
    assert later["start"] > first["start"]


def test_redis_down_answers_from_the_database(pg_url, tmp_path):
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL)
    try:
        client = HostClient(app, "steinfurt.localhost")
        monday = next_weekday(0)
        path = f"/api/v1/services/personalausweis/slots?from={monday}&to={monday}"
        nine = at(monday, 9).isoformat()
        assert {s["start"]: s["free"] for s in client.get(path).json["slots"]}[nine] == 3
        app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nobody listens there
        assert {s["start"]: s["free"] for s in client.get(path).json["slots"]}[nine] == 3
        with app.app_context(), in_steinfurt(app):
            office = db.session.scalar(select(Office))
            db.session.add(Closure(office_id=office.id, starts_at=at(monday, 8), ends_at=at(monday, 10)))
            commit()  # the raise cannot be published: it waits in this process
        assert nine not in {s["start"] for s in client.get(path).json["slots"]}
        app.config["REDIS_URL"] = REDIS_URL  # back: what waited is published before any hit
        shared_cache.reset_down()
        assert nine not in {s["start"] for s in client.get(path).json["slots"]}
    finally:
        close(app)


def test_a_tenant_switched_off_is_not_answered_from_the_cache(shared_app):
    """The tenant of a hit is the host cache's, confirmed in the same round trip: a
    tenant switched off since is answered 503 at once, not with its stored slots."""
    client = HostClient(shared_app, "steinfurt.localhost")
    path = "/api/v1/services/personalausweis/next"
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200  # a hit
    with shared_app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt"))
        status, tenant.status = tenant.status, "disabled"
        commit()
    r = client.get(path)
    assert r.status_code == 503 and "tenant-disabled" in r.json["type"]
    with shared_app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt"))
        tenant.status = status
        commit()
    assert client.get(path).status_code == 200
