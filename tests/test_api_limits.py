"""Rate limits and the cost of a slot query."""
from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from tests.conftest import HostClient, at, counted, make_app, next_weekday


def test_writes_over_the_limit_get_429_with_retry_after(database_url, tmp_path):
    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    client = HostClient(app, "steinfurt.localhost")
    monday = next_weekday(0)
    codes = []
    for i in range(11):
        r = client.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(monday, 8).isoformat(),
                                                      "name": "N", "email": "bad"})
        codes.append(r.status_code)
    assert codes[:10] == [422] * 10 and codes[10] == 429
    assert r.mimetype == "application/problem+json" and int(r.headers["Retry-After"]) > 0
    # Reads are counted apart and still answer.
    assert client.get("/api/v1/services").status_code == 200
    # Another client address has its own allowance.
    other = client.client.post("/api/v1/appointments", json={}, headers={"Host": "steinfurt.localhost"},
                               environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 422
    with app.app_context():
        db.engine.dispose()


def test_reads_over_the_limit_get_429(database_url, tmp_path):
    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    client = HostClient(app, "steinfurt.localhost")
    codes = [client.get("/api/v1/tenant").status_code for _ in range(121)]
    assert codes.count(200) == 120 and codes[-1] == 429
    with app.app_context():
        db.engine.dispose()


def test_limits_can_be_switched_off(steinfurt):
    assert all(steinfurt.get("/api/v1/tenant").status_code == 200 for _ in range(130))



def test_slot_queries_do_not_grow_with_the_window(app, steinfurt):
    monday = next_weekday(0)
    for i in range(3):
        r = steinfurt.post("/api/v1/appointments", json={"service": "personalausweis",
                                                         "start": at(monday + timedelta(days=i), 9).isoformat(),
                                                         "name": "Quentin Q", "email": f"q{i}@example.org"})
        assert r.status_code == 201, r.json  # the window really holds bookings
    steinfurt.get("/api/v1/services")  # warm caches
    with counted(app) as one_day:
        assert steinfurt.get(f"/api/v1/services/personalausweis/slots?from={monday}&to={monday}").status_code == 200
    with counted(app) as four_weeks:
        r = steinfurt.get(f"/api/v1/services/personalausweis/slots?from={monday}&to={monday + timedelta(days=27)}")
        assert r.status_code == 200 and len(r.json["slots"]) > 200
    # Tenant lookup (uncached in tests), service, slot-cache version, counters, hours, closures,
    # appointments, office: the same statements for one day as for four weeks.
    assert len(four_weeks) == len(one_day) <= 9, four_weeks


def test_limits_are_counted_in_redis_when_configured(database_url, tmp_path):
    from tests.conftest import REDIS_URL

    if not REDIS_URL:
        import pytest

        pytest.skip("TEST_REDIS_URL not set: Redis test skipped")
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()
    apps = [make_app(database_url, tmp_path, RATELIMIT_ENABLED=True, REDIS_URL=REDIS_URL) for _ in range(2)]
    # Two web processes share one allowance per client.
    codes = [HostClient(apps[i % 2], "steinfurt.localhost").get("/api/v1/tenant").status_code for i in range(121)]
    assert codes.count(200) == 120 and codes[-1] == 429
    assert any(key.startswith(b"LIMITS") for key in Redis.from_url(REDIS_URL).keys("*"))
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_bookings_go_through_when_redis_is_down(database_url, tmp_path):
    from tests.conftest import at, next_weekday

    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=True, REDIS_URL="redis://127.0.0.1:1/0")
    client = HostClient(app, "steinfurt.localhost")
    r = client.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(next_weekday(0), 9).isoformat(),
                                                  "name": "Erika", "email": "e@example.org"})
    assert r.status_code == 201
    with app.app_context():
        db.engine.dispose()


def test_a_booking_reads_the_office_schedule_once(app, steinfurt):
    monday = next_weekday(0)
    steinfurt.get("/api/v1/services")  # warm caches
    with counted(app) as statements:
        r = steinfurt.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(monday, 10).isoformat(),
                                                         "name": "Erika Mustermann", "email": "erika@example.org"})
        assert r.status_code == 201, r.json
    # Counters, opening hours and closures: read once, under the booking's lock.
    for table in ("counters", "opening_hours", "closures"):
        reads = [s for s in statements if s.lstrip().startswith("SELECT") and f"FROM {table}" in s]
        assert len(reads) == 1, (table, reads)
    # An invalid start is still refused with its reason, before anything is written.
    r = steinfurt.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(monday, 10, 7).isoformat(),
                                                     "name": "Erika Mustermann", "email": "erika2@example.org"})
    assert r.status_code == 422 and "slot grid" in str(r.json), r.json
