"""The mail worker under database faults: a real rq worker process, real Redis, real
PostgreSQL connections cut with pg_terminate_backend while it talks to an aiosmtpd sink."""
from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import create_engine, select, text

from app.extensions import db
from app.mail.models import OutboxMail
from app.tenancy.scope import all_tenants
from tests.conftest import PG_URL, REDIS_URL, HostClient, next_weekday
from tests.test_mail_delivery import book, later
from tests.workers import Sink, deployed_app, worker_process

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


class HoldingSink(Sink):
    """A sink that, while `hold` is set, keeps each conversation at RCPT until released."""

    def __init__(self, port: int):
        super().__init__(port)
        self.hold = False
        self.arrived = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.hold:
            self.arrived.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        envelope.rcpt_tos.append(address)
        return "250 OK"


def cut_connections(url: str) -> int:
    """Terminate every other backend of the test database: the worker's and the web's."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
    finally:
        engine.dispose()


def wait_for(predicate, timeout: float, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


@pytest.fixture
def worker_setup(pg_url, tmp_path):
    with deployed_app(pg_url, tmp_path, smtp_timeout=10) as (app, port):
        sink = HoldingSink(port).start()
        try:
            # The sweeper is kept out of the way: every mail here must come from a job.
            with worker_process(pg_url, REDIS_URL, app.config["MAIL_URL"], tmp_path / "worker",
                                "--sweep-every", "3600", AMTSTERMIN_ENV="development") as worker:
                yield app, sink, worker
        finally:
            sink.stop()


def statuses(app) -> list[str]:
    with app.app_context(), all_tenants():
        result = list(db.session.scalars(select(OutboxMail.status).order_by(OutboxMail.id)))
        db.session.remove()
        return result


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set: PostgreSQL test skipped")
def test_worker_heals_after_its_connection_is_cut_mid_send(worker_setup, pg_url):
    """One cut while the worker hands a mail to SMTP: that mail arrives once, is recorded
    sent, and the next booking's mail goes out within seconds — no restart, no sweeper."""
    app, sink, _ = worker_setup
    client = HostClient(app, "steinfurt.localhost")
    monday = next_weekday(0)
    sink.hold = True
    assert book(client, monday, 9, i=1).status_code == 201
    assert sink.arrived.wait(20), "the worker never reached the SMTP server"
    assert cut_connections(pg_url) >= 1
    sink.hold = False
    sink.release.set()
    assert wait_for(lambda: len(sink.messages) == 1, 10)
    assert wait_for(lambda: statuses(app) == ["sent"], 10), statuses(app)

    started = time.monotonic()
    assert book(client, monday, 10, i=2).status_code == 201
    assert wait_for(lambda: len(sink.messages) == 2, 5), "the worker did not heal: no second mail within 5 s"
    assert time.monotonic() - started < 5
    assert wait_for(lambda: statuses(app) == ["sent", "sent"], 5), statuses(app)

    # Nothing is left for a sweeper to send again.
    from app.jobs.due import run_due

    with app.app_context():
        assert run_due(now=later(900))["mails"] == 0
        db.session.remove()
    assert sorted(m["To"] for m in sink.messages) == ["citizen1@example.org", "citizen2@example.org"]


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set: PostgreSQL test skipped")
def test_twenty_cuts_mid_send_every_mail_arrives_exactly_once(worker_setup, pg_url):
    app, sink, _ = worker_setup
    client = HostClient(app, "steinfurt.localhost")
    monday = next_weekday(0)
    tuesday = next_weekday(1)
    sink.hold = True
    for i in range(20):
        day, n = (monday, i) if i < 10 else (tuesday, i - 10)
        sink.arrived.clear()
        sink.release.clear()
        assert book(client, day, 8 + n // 3, (n % 3) * 20, i=i).status_code == 201
        assert sink.arrived.wait(20), f"mail {i}: the worker never reached the SMTP server"
        assert cut_connections(pg_url) >= 1
        sink.release.set()
        assert wait_for(lambda: len(sink.messages) == i + 1, 15), f"mail {i} did not arrive"
    sink.hold = False
    assert wait_for(lambda: statuses(app) == ["sent"] * 20, 15), statuses(app)

    from app.jobs.due import run_due

    with app.app_context():
        assert run_due(now=later(900))["mails"] == 0
        db.session.remove()
    time.sleep(0.5)
    per_id = Counter(m["Message-ID"] for m in sink.messages)
    assert len(per_id) == 20 and set(per_id.values()) == {1}
    assert sorted(m["To"] for m in sink.messages) == sorted(f"citizen{i}@example.org" for i in range(20))
