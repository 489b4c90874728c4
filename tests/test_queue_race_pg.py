"""Nobody is called twice: clerks at many counters press "Nächste Person aufrufen" at the
same moment, each on a connection of their own, on PostgreSQL."""
from __future__ import annotations

import threading
from collections import Counter as Tally
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.offices.models import Counter
from app.queue import operations as queue
from app.queue.models import QueueCall, QueueEntry
from app.transaction import commit
from tests.conftest import at, make_app, next_weekday
from tests.queue_factory import counter, office, service, switch_on, town

CLERKS = 12
WAITING = 60

pytestmark = pytest.mark.postgres


@pytest.fixture
def race_app(pg_url, tmp_path):
    app = make_app(pg_url, tmp_path, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": CLERKS + 4, "max_overflow": 0})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _in_parallel(n, work):
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # reported below, with the thread's number
            errors.append((i, repr(exc)))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return results


def test_parallel_calls_at_many_counters_call_everyone_exactly_once(race_app):
    day = next_weekday(0)
    now = at(day, 9)
    with town(race_app) as t:
        switch_on({"anmeldung": WAITING, "personalausweis": WAITING})
        o = office()
        for i in range(5, CLERKS + 1):
            o.counters.append(Counter(tenant_id=t.id, slug=f"schalter-{i}", name=f"Schalter {i}", position=i))
        for i in range(WAITING):
            queue.draw_ticket(t, o, service("anmeldung" if i % 2 else "personalausweis"),
                              now - timedelta(minutes=WAITING - i))
        commit()

    def clerk(i):
        called = []
        with town(race_app) as t:
            desk = counter(f"schalter-{i + 1}")
            serving = None
            while True:
                entry = queue.call_next(t, desk, now, serving=serving)
                commit()
                if entry is None:
                    return called
                called.append(entry.id)
                serving = entry.id

    results = _in_parallel(CLERKS, clerk)
    tally = Tally(entry_id for called in results for entry_id in called)
    assert len(tally) == WAITING and set(tally.values()) == {1}
    assert sum(1 for called in results if called) > 1  # the calls really were shared out
    with town(race_app):
        assert db.session.scalar(select(func.count()).select_from(QueueCall)) == WAITING
        assert set(db.session.scalars(select(QueueEntry.call_count))) == {1}


def test_two_clicks_at_one_counter_at_once_call_one_person(race_app):
    day = next_weekday(0)
    now = at(day, 9)
    with town(race_app) as t:
        switch_on()
        for _ in range(3):
            queue.draw_ticket(t, office(), service("anmeldung"), now)
        commit()

    def click(i):
        with town(race_app) as t:
            try:
                entry = queue.call_next(t, counter("schalter-1"), now, serving=None)
                commit()
                return entry.id
            except queue.QueueError as err:
                db.session.rollback()
                return err.code

    results = _in_parallel(2, click)
    assert len([r for r in results if isinstance(r, int)]) == 1 and results.count("stale") == 1, results
    with town(race_app):
        assert db.session.scalar(select(func.count()).select_from(QueueEntry)
                                 .where(QueueEntry.status == "called")) == 1
