"""Nobody is called twice: clerks at many counters press "Nächste Person aufrufen" at the
same moment, each on a connection of their own (threads of one process, and separate OS
processes like several web workers), on PostgreSQL."""
from __future__ import annotations

import multiprocessing
import threading
from collections import Counter as Tally
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import create_app
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


PROCESSES = 4


def _clerk_process(url: str, mail_dir: str, slug: str, day_iso: str, barrier, results) -> None:
    """One web worker of its own: its own app, engine and connections; calls until nobody waits."""
    from datetime import date

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "MAIL_URL": "console", "MAIL_DIR": mail_dir,
                      "REDIS_URL": None, "RATELIMIT_ENABLED": False})
    now = at(date.fromisoformat(day_iso), 9)
    called: list[int] = []
    try:
        with town(app) as t:
            desk = counter(slug)
            serving = None
            barrier.wait(60)
            while True:
                entry = queue.call_next(t, desk, now, serving=serving)
                commit()
                if entry is None:
                    break
                called.append(entry.id)
                serving = entry.id
        results.put((slug, called))
    except Exception as exc:  # reported by the test, with the counter
        results.put((slug, repr(exc)))
    finally:
        with app.app_context():
            db.engine.dispose()


def test_parallel_calls_from_separate_processes_call_everyone_exactly_once(race_app, pg_url, tmp_path):
    day = next_weekday(0)
    now = at(day, 9)
    with town(race_app) as t:
        switch_on({"anmeldung": WAITING, "personalausweis": WAITING})
        o = office()
        for i in range(5, PROCESSES + 1):
            o.counters.append(Counter(tenant_id=t.id, slug=f"schalter-{i}", name=f"Schalter {i}", position=i))
        for i in range(WAITING):
            queue.draw_ticket(t, o, service("anmeldung" if i % 2 else "personalausweis"),
                              now - timedelta(minutes=WAITING - i))
        commit()
    ctx = multiprocessing.get_context("spawn")  # nothing shared with this process: like separate web workers
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    workers = [ctx.Process(target=_clerk_process, args=(pg_url, str(tmp_path / "mail"), f"schalter-{i + 1}",
                                                        day.isoformat(), barrier, results))
               for i in range(PROCESSES)]
    for w in workers:
        w.start()
    answers = dict(results.get(timeout=180) for _ in workers)
    for w in workers:
        w.join(30)
    errors = {slug: a for slug, a in answers.items() if isinstance(a, str)}
    assert not errors, errors
    tally = Tally(entry_id for called in answers.values() for entry_id in called)
    assert len(tally) == WAITING and set(tally.values()) == {1}
    assert sum(1 for called in answers.values() if called) > 1  # the calls really were shared out
    with town(race_app):
        assert db.session.scalar(select(func.count()).select_from(QueueCall)) == WAITING
        assert set(db.session.scalars(select(QueueEntry.call_count))) == {1}
