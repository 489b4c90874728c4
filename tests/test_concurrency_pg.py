"""No double booking under parallel clients, proven on PostgreSQL with real connections."""
from __future__ import annotations

import threading
from collections import Counter as Tally

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from tests.conftest import HostClient, at, make_app, next_weekday

CLIENTS = 60


@pytest.fixture
def race_app(pg_url, tmp_path):
    app = make_app(pg_url, tmp_path, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": CLIENTS + 5, "max_overflow": 0})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _parallel(app, n, action):
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        client = HostClient(app, "steinfurt.localhost")
        barrier.wait()
        results[i] = action(client, i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_parallel_clients_on_one_start_get_exactly_free(race_app):
    monday = next_weekday(0)
    start = at(monday, 10)
    slots = HostClient(race_app, "steinfurt.localhost").get(
        f"/api/v1/services/personalausweis/slots?from={monday}&to={monday}").json["slots"]
    free = next(s["free"] for s in slots if s["start"] == start.isoformat())

    def attempt(client, i):
        r = client.post("/api/v1/appointments", json={
            "service": "personalausweis", "start": start.isoformat(), "name": f"Person {i}",
            "email": f"race{i}@example.org"})
        return r.status_code, r.json

    results = _parallel(race_app, CLIENTS, attempt)
    tally = Tally(code for code, _ in results)
    assert tally == {201: free, 409: CLIENTS - free}, tally
    assert all(body["next"]["start"] != start.isoformat() for code, body in results if code == 409)
    with race_app.app_context():
        counters = db.session.execute(text(
            "SELECT counter_id FROM appointments WHERE status <> 'cancelled'")).scalars().all()
        assert len(counters) == free and len(set(counters)) == free
        assert _overlaps() == 0


def test_parallel_moves_and_bookings_never_overlap(race_app):
    """Bookings and moves racing for the same two starts: the database keeps every counter single."""
    monday = next_weekday(0)
    client = HostClient(race_app, "steinfurt.localhost")
    tokens = [client.post("/api/v1/appointments", json={
        "service": "personalausweis", "start": at(monday, 8, 0).isoformat(), "name": "Mover",
        "email": f"mover{i}@example.org"}).json["manage_token"] for i in range(3)]

    def action(c, i):
        target = at(monday, 11, 0).isoformat()
        if i < 3:
            return c.patch(f"/api/v1/appointments/{tokens[i]}", json={"start": target}).status_code
        return c.post("/api/v1/appointments", json={
            "service": "personalausweis", "start": target, "name": "Booker", "email": f"b{i}@example.org"}).status_code

    results = _parallel(race_app, 30, action)
    assert Tally(results)[200] + Tally(results)[201] == 3
    with race_app.app_context():
        assert _overlaps() == 0


def test_parallel_visits_and_single_bookings_share_the_counters_exactly(race_app):
    """Visits (ID card ×2 + passport, 10:00–10:50) race single ID cards (10:30–10:50): every
    booking holds 10:30–10:50, so whatever the order, exactly three of the four counters
    are given out online, each visit on one counter for its whole time."""
    monday = next_weekday(0)
    visit_start, single_start = at(monday, 10), at(monday, 10, 30)

    def attempt(client, i):
        body = {"start": (visit_start if i % 2 else single_start).isoformat(), "name": f"Person {i}",
                "email": f"visit{i}@example.org"}
        if i % 2:
            body["services"] = [{"slug": "personalausweis", "count": 2}, {"slug": "reisepass", "count": 1}]
        else:
            body["service"] = "personalausweis"
        r = client.post("/api/v1/appointments", json=body)
        return i % 2, r.status_code, r.json

    results = _parallel(race_app, CLIENTS, attempt)
    tally = Tally(code for _, code, _ in results)
    assert tally == {201: 3, 409: CLIENTS - 3}, tally
    for is_visit, code, body in results:
        if code == 201 and is_visit:
            assert body["start"] == visit_start.isoformat() and body["end"] == at(monday, 10, 50).isoformat()
            assert [s["count"] for s in body["services"]] == [2, 1]
    with race_app.app_context():
        rows = db.session.execute(text(
            "SELECT a.counter_id, count(x.id) FROM appointments a JOIN appointment_services x "
            "ON x.appointment_id = a.id WHERE a.status <> 'cancelled' GROUP BY a.id, a.counter_id")).all()
        assert len(rows) == 3 and len({cid for cid, _ in rows}) == 3
        visits_booked = sum(1 for is_visit, code, _ in results if is_visit and code == 201)
        assert sorted(n for _, n in rows).count(2) == visits_booked
        assert _overlaps() == 0


def test_parallel_moves_of_visits_never_overlap(race_app):
    """Visits moving onto one start while others book it: the database keeps every counter single."""
    monday = next_weekday(0)
    client = HostClient(race_app, "steinfurt.localhost")
    family = [{"slug": "personalausweis", "count": 2}, {"slug": "reisepass", "count": 1}]
    tokens = [client.post("/api/v1/appointments", json={
        "services": family, "start": at(monday, 8, 0).isoformat(), "name": "Mover",
        "email": f"vmover{i}@example.org"}).json["manage_token"] for i in range(3)]

    def action(c, i):
        target = at(monday, 11, 0).isoformat()
        if i < 3:
            return c.patch(f"/api/v1/appointments/{tokens[i]}", json={"start": target}).status_code
        return c.post("/api/v1/appointments", json={
            "services": family, "start": target, "name": "Booker", "email": f"vb{i}@example.org"}).status_code

    results = _parallel(race_app, 30, action)
    assert Tally(results)[200] + Tally(results)[201] == 3
    with race_app.app_context():
        assert _overlaps() == 0
        durations = db.session.execute(text(
            "SELECT DISTINCT extract(epoch FROM ends_at - starts_at) FROM appointments WHERE status <> 'cancelled'"
        )).scalars().all()
        assert [float(d) for d in durations] == [50 * 60.0]


def test_the_database_itself_refuses_an_overlap(race_app):
    monday = next_weekday(0)
    client = HostClient(race_app, "steinfurt.localhost")
    client.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(monday, 9).isoformat(),
                                              "name": "First", "email": "first@example.org"})
    with race_app.app_context():
        with pytest.raises(IntegrityError, match="ex_appointments_no_overlap"):
            db.session.execute(text(
                "INSERT INTO appointments (tenant_id, code, manage_token, service_id, office_id, counter_id, "
                "starts_at, ends_at, status, source, name, email, phone, note, persons, lang, overbooked, "
                "overbook_reason, sequence, created_at, updated_at) "
                "SELECT tenant_id, 'ZZZZ-ZZZZ', 'tok', service_id, office_id, counter_id, starts_at + interval '5 min', "
                "ends_at + interval '5 min', 'booked', 'phone', 'Second', '', '', '', 1, 'de', false, '', 0, now(), now() "
                "FROM appointments LIMIT 1"))
        db.session.rollback()


def _overlaps() -> int:
    return db.session.execute(text(
        "SELECT count(*) FROM appointments a JOIN appointments b ON a.counter_id = b.counter_id AND a.id < b.id "
        "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at WHERE a.status <> 'cancelled' "
        "AND b.status <> 'cancelled' AND NOT a.overbooked AND NOT b.overbooked")).scalar_one()


def test_parallel_clients_on_sqlite_are_serialised_too(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 0})
    try:
        monday = next_weekday(0)
        start = at(monday, 10)

        def attempt(client, i):
            return client.post("/api/v1/appointments", json={
                "service": "personalausweis", "start": start.isoformat(), "name": f"P {i}",
                "email": f"s{i}@example.org"}).status_code

        tally = Tally(_parallel(app, 12, attempt))
        assert tally == {201: 3, 409: 9}, tally
        with app.app_context():
            assert _overlaps() == 0
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
