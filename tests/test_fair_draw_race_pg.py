"""The fair draw does not weaken the no-double-booking promise (issue 16), on PostgreSQL:
two workers holding the same draw at once hold it once, with no overlap and one mail per
entry; parallel entries under spellings of one mailbox make one entry."""
from __future__ import annotations

import threading
from collections import Counter as Tally
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.booking.models import DrawEntry, FairDraw
from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope
from tests.conftest import HostClient, at, count_rows, make_app, mails, next_weekday
from tests.test_citizen_pages import set_settings
from tests.test_concurrency_pg import _overlaps, _parallel

CLIENTS = 12


@pytest.fixture
def race_app(pg_url, tmp_path, fixed_now):
    app = make_app(pg_url, tmp_path, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": CLIENTS + 5, "max_overflow": 0})
    set_settings(app, "steinfurt", release_time="07:30", fair_draw_services=["personalausweis"],
                 fair_draw_minutes=30, max_active_per_email=2)
    app.target = next_weekday(0, after_days=60)
    app.today = app.target - timedelta(days=56)
    fixed_now(at(app.today, 7, 40))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _enter(client, start, email):
    r = client.post("/api/v1/appointments", json={"service": "personalausweis", "start": start.isoformat(),
                                                  "name": "Person", "email": email})
    return r.status_code, r.json


def test_two_workers_holding_the_draw_at_once_hold_it_once(race_app, fixed_now):
    from app.jobs.due import run_due

    target = race_app.target
    client = HostClient(race_app, "steinfurt.localhost")
    emails = [f"los{i}@example.org" for i in range(CLIENTS)]
    for i, email in enumerate(emails):  # everyone asks for one of two starts
        assert _enter(client, at(target, 9 + i % 2), email)[0] == 202
    fixed_now(at(race_app.today, 8))
    barrier = threading.Barrier(2)
    held = [0, 0]

    def worker(i):
        with race_app.app_context():
            barrier.wait()
            held[i] = run_due()["draws"]
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(held) == [0, 1]
    with race_app.app_context():
        assert _overlaps() == 0
        with all_tenants():
            tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
        with tenant_scope(tid):
            fair = db.session.scalar(select(FairDraw))
            results = Tally(e.result for e in db.session.scalars(select(DrawEntry)))
            assert fair.status == "drawn" and len(fair.ranking) == CLIENTS
            assert sorted(e.position for e in db.session.scalars(select(DrawEntry))) == list(range(1, CLIENTS + 1))
    assert results == {"booked": CLIENTS}  # the day has room for all twelve, nearest starts first
    assert count_rows(race_app, "appointments") == CLIENTS
    per = Tally(m["To"] for m in mails(race_app) if m["To"] in emails)
    assert set(per.values()) == {2}, per  # entered, then booked: one mail each, not two


def test_parallel_entries_of_one_mailbox_make_one_entry(race_app):
    target = race_app.target
    spellings = [f"Erika+{i}@Example.org" if i % 2 else f"erika+{i}@example.org" for i in range(CLIENTS)]
    results = _parallel(race_app, CLIENTS, lambda c, i: _enter(c, at(target, 9) + timedelta(minutes=10 * (i % 4)),
                                                                spellings[i]))
    tally = Tally(code for code, _ in results)
    assert tally == {202: 1, 409: CLIENTS - 1}, results
    assert all(body["type"].endswith("draw-already-entered") for code, body in results if code == 409)
    assert count_rows(race_app, "draw_entries") == 1 and count_rows(race_app, "fair_draws") == 1
