"""Issue 16's settings do not weaken the no-double-booking promise (point 7): on PostgreSQL,
with `release_time`, `altcha` and both caps on, parallel clients at the moment of release
get exactly the free places, the caps hold under the race, and one solved challenge books
once however many clients send it at the same time."""
from __future__ import annotations

from collections import Counter as Tally
from datetime import timedelta

import pytest

from app.extensions import db
from app.proof_of_work import solve
from tests.conftest import HostClient, at, make_app, next_weekday
from tests.test_citizen_pages import set_settings
from tests.test_concurrency_pg import _overlaps, _parallel

CLIENTS = 16


@pytest.fixture
def release_app(pg_url, tmp_path, fixed_now):
    app = make_app(pg_url, tmp_path, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": CLIENTS + 5, "max_overflow": 0})
    set_settings(app, "steinfurt", release_time="07:30", altcha=True, max_active_per_email=2,
                 max_active_per_phone=2)
    target = next_weekday(0, after_days=60)
    fixed_now(at(target - timedelta(days=56), 7, 30))  # the moment the day is released
    app.target = target
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _solutions(app, n: int) -> list[str]:
    client = HostClient(app, "steinfurt.localhost")
    return [solve(client.get("/api/v1/altcha").json) for _ in range(n)]


def _post(client, start, email, altcha, phone=""):
    r = client.post("/api/v1/appointments", json={
        "service": "personalausweis", "start": start.isoformat(), "name": "Person", "email": email,
        "phone": phone, "altcha": altcha})
    return r.status_code, r.json


def test_at_the_release_parallel_clients_get_exactly_the_free_places(release_app):
    target, start = release_app.target, at(release_app.target, 10)
    slots = HostClient(release_app, "steinfurt.localhost").get(
        f"/api/v1/services/personalausweis/slots?from={target}&to={target}").json["slots"]
    free = next(s["free"] for s in slots if s["start"] == start.isoformat())
    solutions = _solutions(release_app, CLIENTS)
    results = _parallel(release_app, CLIENTS, lambda c, i: _post(c, start, f"race{i}@example.org", solutions[i]))
    tally = Tally(code for code, _ in results)
    assert tally == {201: free, 409: CLIENTS - free}, tally
    with release_app.app_context():
        assert _overlaps() == 0


def test_the_caps_hold_under_the_race(release_app):
    target = release_app.target
    starts = [at(target, 8) + timedelta(minutes=10 * i) for i in range(CLIENTS)]
    solutions = _solutions(release_app, CLIENTS)
    # Half race with +tags of one mailbox, half with spellings of one phone number.
    phones = ("0171 5551234", "+49 171 555-1234", "0049 171 5551234", "0171/5551234")

    def attempt(c, i):
        if i % 2:
            return _post(c, starts[i], f"Erika+{i}@Example.org", solutions[i])
        return _post(c, starts[i], f"person{i}@example.org", solutions[i], phone=phones[i % 4])

    results = _parallel(release_app, CLIENTS, attempt)
    made = Tally(("email" if i % 2 else "phone") for i, (code, _) in enumerate(results) if code == 201)
    refused = Tally(body.get("cap") for code, body in results if code == 409)
    assert made == {"email": 2, "phone": 2}, results
    assert refused == {"email": CLIENTS // 2 - 2, "phone": CLIENTS // 2 - 2}, results
    with release_app.app_context():
        assert _overlaps() == 0


def test_one_solution_sent_by_many_clients_at_once_books_once(release_app):
    target = release_app.target
    solution = _solutions(release_app, 1)[0]
    results = _parallel(release_app, CLIENTS, lambda c, i: _post(
        c, at(target, 8) + timedelta(minutes=10 * i), f"same{i}@example.org", solution))
    tally = Tally(code for code, _ in results)
    assert tally == {201: 1, 422: CLIENTS - 1}, tally
