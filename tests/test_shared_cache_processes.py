"""The shared answer cache across processes: two gunicorn servers on one PostgreSQL and
one Redis. Both answer /slots, /next and the citizen service page from the cache; a booking or a cancellation on
process A, a closure, a change of hours or of a setting committed by a third process (this
test's own app) is in process B's very next answer. A cancelled start held back by the
cooling-off comes back on B at its moment without any write. A third server that cannot
reach Redis answers the same from the database throughout. The hits of A and B are
answered by the WSGI fast path (app/fastpath.py, counted in /metrics), so the very next
answer after a change is the fast path's lookup finding the entry stale."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests as http
from sqlalchemy import select, text

from app import ROOT
from app.extensions import db
from app.offices.models import Closure, Office, OpeningHours
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope
from app.transaction import commit
from tests.conftest import REDIS_URL, at, close, make_app, needs_redis, next_weekday
from tests.workers import free_port
from tests.test_shared_cache_page import proposal_text, times

pytestmark = [needs_redis, pytest.mark.postgres]
HOST = {"Host": "steinfurt.localhost"}
METRICS_TOKEN = "test-metrics-token"


class Server:
    def __init__(self, pg_url: str, redis_url: str, folder):
        self.port = free_port()
        env = dict(os.environ, DATABASE_URL=pg_url, REDIS_URL=redis_url, AMTSTERMIN_INSTANCE=str(folder),
                   MAIL_URL="console", RATELIMIT_ENABLED="false", SECRET_KEY="test", AMTSTERMIN_ENV="development",
                   METRICS_TOKEN=METRICS_TOKEN)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "1", "-b", f"127.0.0.1:{self.port}",
             "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self):
        deadline = time.monotonic() + 60
        while True:
            try:
                http.get(self.url + "/healthz", timeout=2)
                return
            except http.RequestException:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    pytest.fail("gunicorn did not start: " + self.proc.stderr.read().decode()[-2000:])
                time.sleep(0.1)

    def get(self, path: str):
        r = http.get(self.url + path, headers=HOST, timeout=30)
        return r.status_code, r.json()

    def page(self, path: str, **headers) -> str:
        r = http.get(self.url + path, headers={**HOST, **headers}, timeout=30)
        assert r.status_code == 200, r.text[:500]
        return r.text

    def fast_answers(self) -> float:
        """Reads this server answered before Flask, from the shared cache (its /metrics)."""
        r = http.get(self.url + "/metrics", headers={**HOST, "Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30)
        assert r.status_code == 200, r.text
        return sum(float(line.rsplit(" ", 1)[1]) for line in r.text.splitlines()
                   if line.startswith("amtstermin_fast_answers_total{"))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(20)


def free_at(server: Server, day) -> dict[str, int]:
    status, body = server.get(f"/api/v1/services/personalausweis/slots?from={day}&to={day}")
    assert status == 200, body
    return {s["start"]: s["free"] for s in body["slots"]}


def proposal(server: Server) -> str | None:
    status, body = server.get("/api/v1/services/personalausweis/next")
    assert status in (200, 404), body
    return body["start"] if status == 200 else None


@pytest.fixture
def servers(pg_url, tmp_path):
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL)  # demo tenants; Redis's shared keys emptied
    started = [Server(pg_url, REDIS_URL, tmp_path / "a"), Server(pg_url, REDIS_URL, tmp_path / "b"),
               Server(pg_url, "redis://127.0.0.1:1/0", tmp_path / "c")]  # C: nobody listens there
    try:
        for s in started:
            s.wait()
        yield app, *started
    finally:
        for s in started:
            s.stop()
        close(app)


def steinfurt(app):
    with app.app_context(), all_tenants():
        tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
    return tenant_scope(tid)


def change_settings(app, **values):
    with app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt"))
        tenant.settings = {**(tenant.settings or {}), **values}
        commit()


def test_a_change_on_one_process_is_in_the_next_answer_of_the_other(servers):
    app, a, b, c = servers
    monday = next_weekday(0)
    nine = at(monday, 9).isoformat()

    def warm_and_agree():
        fast = a.fast_answers(), b.fast_answers()
        for server in (a, b, a, b):  # twice each: the second answer is a hit
            answer = free_at(server, monday), proposal(server)
        # Each server's second /slots and /next were hits, answered before Flask.
        assert a.fast_answers() >= fast[0] + 2 and b.fast_answers() >= fast[1] + 2
        assert (free_at(a, monday), proposal(a)) == answer == (free_at(c, monday), proposal(c))
        return answer

    slots, first = warm_and_agree()
    assert slots[nine] == 3 and first is not None

    # A booking on A: B's next answer has one counter fewer at nine.
    r = http.post(a.url + "/api/v1/appointments", headers=HOST, timeout=30, json={
        "service": "personalausweis", "start": nine, "name": "Erika Muster", "email": "erika@example.org"})
    assert r.status_code == 201, r.text
    assert free_at(b, monday)[nine] == 2
    assert warm_and_agree()[0][nine] == 2

    # Its cancellation on A: free again on B at once (no cooling-off here).
    assert http.delete(a.url + f"/api/v1/appointments/{r.json()['manage_token']}", headers=HOST,
                       timeout=30).status_code == 204
    assert free_at(b, monday)[nine] == 3
    warm_and_agree()

    # A closure over the proposal, committed by a third process: B proposes after it.
    start = datetime.fromisoformat(first)
    with app.app_context(), steinfurt(app):
        office = db.session.scalar(select(Office))
        db.session.add(Closure(office_id=office.id, starts_at=start, ends_at=start + timedelta(days=1)))
        commit()
    moved = proposal(b)
    assert moved is not None and datetime.fromisoformat(moved) >= start + timedelta(days=1)
    warm_and_agree()

    # Opening hours: no Monday any more.
    with app.app_context(), steinfurt(app):
        for rule in db.session.scalars(select(OpeningHours).where(OpeningHours.weekday == 0)):
            db.session.delete(rule)
        commit()
    assert free_at(b, monday) == {}
    warm_and_agree()

    # A setting (the tenants version): a horizon of one day leaves nothing to propose
    # beyond the closure's day, or only what lies within it.
    change_settings(app, horizon_days=1)
    limit = datetime.now(timezone.utc) + timedelta(days=2)
    after = proposal(b)
    assert after is None or datetime.fromisoformat(after) < limit
    assert proposal(a) == after == proposal(b)
    time.sleep(2.2)  # C, without Redis, keeps a tenant for HOST_CACHE_SECONDS as before
    assert proposal(c) == after


def test_a_held_back_start_comes_back_on_time_on_the_other_process(servers):
    app, a, b, c = servers
    monday = next_weekday(0)
    nine = at(monday, 9).isoformat()
    change_settings(app, release_cancelled_after_minutes=60)
    r = http.post(a.url + "/api/v1/appointments", headers=HOST, timeout=30, json={
        "service": "personalausweis", "start": nine, "name": "Erika Muster", "email": "erika@example.org"})
    assert r.status_code == 201, r.text
    assert http.delete(a.url + f"/api/v1/appointments/{r.json()['manage_token']}", headers=HOST,
                       timeout=30).status_code == 204
    # The cooling-off ends in a few seconds instead of an hour (set in the database under
    # the cache, before any process computed the cancelled state: the passing of time
    # alone must bring the start back).
    back = datetime.now(timezone.utc) + timedelta(seconds=4)
    with app.app_context(), all_tenants():
        db.session.execute(text("UPDATE appointments SET online_again_at = :t"), {"t": back})
        db.session.commit()
    for server in (b, a, b):
        assert free_at(server, monday)[nine] == 2  # held back; the last of these answers is a hit
    assert free_at(c, monday)[nine] == 2
    time.sleep(max(0.0, (back - datetime.now(timezone.utc)).total_seconds()) + 0.5)
    assert free_at(b, monday)[nine] == 3
    assert free_at(a, monday)[nine] == 3 == free_at(c, monday)[nine]


def test_a_booking_on_one_process_is_on_the_other_processs_service_page(servers):
    app, a, b, c = servers
    monday = next_weekday(0)
    nine = at(monday, 9).isoformat()
    day_page = f"/services/personalausweis?day={monday}"

    def agree(path: str, **headers) -> str:
        for server in (a, b, a, b):  # twice each: the second view is a hit
            body = server.page(path, **headers)
        assert a.page(path, **headers) == body == c.page(path, **headers)  # C reads the database
        return body

    assert nine in times(agree(day_page))
    english = agree("/services/personalausweis", **{"Accept-Language": "en"})
    assert "Next free appointment" in english
    german = agree("/services/personalausweis")
    assert "Nächster freier Termin" in german
    for n in range(3):  # three counters at nine; the last booking takes the start off the page
        r = http.post(a.url + "/api/v1/appointments", headers=HOST, timeout=30, json={
            "service": "personalausweis", "start": nine, "name": "Erika Muster", "email": f"e{n}@example.org"})
        assert r.status_code == 201, r.text
        assert (nine in times(b.page(day_page))) == (n < 2)
        agree(day_page)
    # The proposal's start booked out on B: A's next view proposes a later one, in both languages.
    first = proposal_text(german)
    start = datetime.fromisoformat(proposal(b))
    while proposal(b) == start.isoformat():
        r = http.post(b.url + "/api/v1/appointments", headers=HOST, timeout=30, json={
            "service": "personalausweis", "start": start.isoformat(), "name": "Max Muster",
            "email": f"m{time.monotonic_ns()}@example.org"})
        assert r.status_code == 201, r.text
    assert proposal_text(a.page("/services/personalausweis")) != first
    assert proposal_text(agree("/services/personalausweis", **{"Accept-Language": "en"})) != proposal_text(english)
