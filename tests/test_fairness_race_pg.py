"""Issue 16's settings do not weaken the no-double-booking promise (point 7): on PostgreSQL,
with `release_time`, `altcha` and both caps on, parallel clients at the moment of release
get exactly the free places, the caps hold under the race, and one solved challenge books
once however many clients send it at the same time; a cancelled start that opens after its
cooling-off goes to exactly one of the clients and the waiting-list offer holder racing for it."""
from __future__ import annotations

from collections import Counter as Tally
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.booking.models import Appointment
from app.extensions import db
from app.proof_of_work import solve
from app.tenancy.scope import all_tenants
from tests.conftest import HostClient, at, mails, make_app, next_weekday
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


def test_a_cancelled_start_that_opens_to_everyone_and_its_offer_holder_at_once_is_booked_once(release_app, fixed_now):
    """Cooling-off (`release_cancelled_after_minutes`): at the minute a cancelled start
    opens online, the waiting-list citizen with the offer link and many clients with solved
    challenges send their booking at the same moment, each on its own connection: one of
    them gets the place, the others hear it is taken, and no counter is booked twice."""
    set_settings(release_app, "steinfurt", release_cancelled_after_minutes=30)
    client = HostClient(release_app, "steinfurt.localhost")
    target, start = release_app.target, at(release_app.target, 11)
    tokens = [body["manage_token"] for code, body in
              (_post(client, start, f"fill{i}@example.org", s) for i, s in enumerate(_solutions(release_app, 3)))
              if code == 201]
    assert len(tokens) == 3  # the start is full online
    assert client.post("/waitlist", data={"service": "personalausweis", "name": "Wanda Warteliste",
                                          "email": "wanda@example.org"}).status_code == 303
    cancelled = at(target - timedelta(days=56), 7, 40)
    fixed_now(cancelled)
    assert client.delete(f"/api/v1/appointments/{tokens[0]}").status_code == 204
    [offer] = [m for m in mails(release_app) if m["To"] == "wanda@example.org" and "frei geworden" in m["Subject"]]
    link = next(w for w in offer.get_body(("plain",)).get_content().split() if "/book?" in w)
    path, token = link.split("steinfurt.localhost", 1)[1], parse_qs(urlsplit(link).query)["offer"][0]

    fixed_now(cancelled + timedelta(minutes=30))
    solutions = _solutions(release_app, CLIENTS)

    def attempt(c, i):
        if i == 0:  # the offer holder, through the booking page
            r = c.post(path, data={"name": "Wanda Warteliste", "email": "wanda@example.org", "offer": token,
                                   "altcha": solutions[0]})
            return "booked" if r.status_code == 303 else f"page {r.status_code}"
        code, _ = _post(c, start, f"rush{i}@example.org", solutions[i])
        return "booked" if code == 201 else code

    results = _parallel(release_app, CLIENTS, attempt)
    tally = Tally(results)
    assert tally["booked"] == 1 and tally[409] + tally["page 200"] == CLIENTS - 1, tally
    with release_app.app_context(), all_tenants():
        assert _overlaps() == 0
        assert db.session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.starts_at == start, Appointment.status == "booked")) == 3
