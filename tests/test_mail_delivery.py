"""Mail is never lost: a real SMTP server (aiosmtpd), real Redis, faults on purpose."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import wait_for_background
from app.mail.models import OutboxMail
from app.mail.transport import build_message, close_connections, send
from app.tenancy.scope import all_tenants
from tests.conftest import REDIS_URL, HostClient, at, count_rows, make_app, needs_redis, next_weekday
from tests.workers import Sink, free_port, kill, worker_process


@pytest.fixture
def smtp_port():
    return free_port()


def book(client, day, hh, mm=0, i=0, name="Erika Mustermann"):
    return client.post("/api/v1/appointments", json={
        "service": "personalausweis", "start": at(day, hh, mm).isoformat(), "name": name,
        "email": f"citizen{i}@example.org"})


def later(seconds=120):
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def test_smtp_down_during_ten_bookings_then_each_mail_arrives_once(database_url, tmp_path, smtp_port):
    from app.jobs.due import run_due

    app = make_app(database_url, tmp_path, MAIL_URL=f"smtp://127.0.0.1:{smtp_port}?timeout=3")
    client = HostClient(app, "steinfurt.localhost")
    monday = next_weekday(0)
    for i in range(10):
        assert book(client, monday, 8 + i // 3, (i % 3) * 20, i=i).status_code == 201
    assert count_rows(app, "appointments") == 10
    wait_for_background()
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(OutboxMail.status)).all() == ["pending"] * 10
    sink = Sink(smtp_port).start()
    try:
        with app.app_context():
            run_due(now=later())
            run_due(now=later(600))
        assert sorted(m["To"] for m in sink.messages) == sorted(f"citizen{i}@example.org" for i in range(10))
        assert len({m["Message-ID"] for m in sink.messages}) == 10
        # The ten went over one kept connection, not ten connects and greetings.
        assert len(set(sink.peers)) == 1
        # The server restarts: this thread's kept connection is dead; the next send notices
        # before saying anything of the mail and goes out once over a new connection.
        sink.stop()
        sink = Sink(smtp_port).start()
        with app.app_context(), all_tenants():
            row = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).first()
            send(build_message(row), row)
        assert [m["Message-ID"] for m in sink.messages] == [row.message_id]
    finally:
        sink.stop()
        close_connections()
        with app.app_context():
            db.engine.dispose()


def test_smtp_confirmation_is_complete_and_escapes_what_citizens_type(database_url, tmp_path, smtp_port):
    sink = Sink(smtp_port).start()
    app = make_app(database_url, tmp_path, MAIL_URL=f"smtp://127.0.0.1:{smtp_port}")
    try:
        client = HostClient(app, "steinfurt.localhost")
        monday = next_weekday(0)
        r = book(client, monday, 9, name="<script>alert(1)</script>")
        assert r.status_code == 201
        wait_for_background()
        [mail] = sink.messages
        html = mail.get_body(("html",)).get_content()
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert r.json["manage_url"] in mail.get_body(("plain",)).get_content()
        assert mail["From"].startswith("Stadt Steinfurt <termine@")
    finally:
        sink.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def redis_app(database_url, tmp_path):
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL not set: Redis test skipped")
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()
    app = make_app(database_url, tmp_path, REDIS_URL=REDIS_URL)
    yield app
    Redis.from_url(REDIS_URL).flushdb()
    with app.app_context():
        db.engine.dispose()


def _burst(app):
    from rq import SimpleWorker

    from app.jobs.queue import QUEUES, queue, redis_connection

    with app.app_context():
        SimpleWorker([queue(q) for q in QUEUES], connection=redis_connection()).work(burst=True)


@needs_redis
def test_with_redis_a_worker_delivers_and_health_says_ok(redis_app):
    from tests.conftest import mails

    client = HostClient(redis_app, "steinfurt.localhost")
    assert client.get("/healthz").json == {"database": "ok", "jobs": "ok"}
    assert book(client, next_weekday(0), 9).status_code == 201
    assert mails(redis_app) == []  # queued, not sent in the request
    _burst(redis_app)
    [mail] = mails(redis_app)
    assert "Terminbestätigung" in mail["Subject"]


@needs_redis
def test_redis_flushed_while_jobs_wait_the_sweeper_delivers(redis_app):
    from redis import Redis

    from app.jobs.due import run_due
    from tests.conftest import mails

    client = HostClient(redis_app, "steinfurt.localhost")
    for i in range(3):
        assert book(client, next_weekday(0), 9 + i, i=i).status_code == 201
    Redis.from_url(REDIS_URL).flushdb()
    _burst(redis_app)
    assert mails(redis_app) == []
    with redis_app.app_context():
        assert run_due(now=later())["mails"] == 3
        assert run_due(now=later(600))["mails"] == 0
    assert len(mails(redis_app)) == 3


def test_redis_down_delays_mail_but_never_drops_it(database_url, tmp_path):
    from app.jobs.due import run_due
    from tests.conftest import mails

    app = make_app(database_url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    client = HostClient(app, "steinfurt.localhost")
    assert client.get("/healthz").json["jobs"] == "unreachable"
    assert book(client, next_weekday(0), 9).status_code == 201
    assert mails(app) == []
    with app.app_context():
        run_due(now=later())
        db.engine.dispose()
    assert len(mails(app)) == 1


@needs_redis
def test_a_worker_killed_mid_delivery_sends_exactly_once(redis_app, database_url, tmp_path, smtp_port):
    from app.jobs.due import run_due

    sink = Sink(smtp_port, stall_at=1, stall_seconds=20).start()
    redis_app.config["MAIL_URL"] = f"smtp://127.0.0.1:{smtp_port}?timeout=30"
    client = HostClient(redis_app, "steinfurt.localhost")
    assert book(client, next_weekday(0), 9).status_code == 201
    try:
        with worker_process(redis_app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL, redis_app.config["MAIL_URL"],
                            tmp_path / "worker", "--burst") as worker:
            assert sink.stalled.wait(30), "the worker never reached the SMTP server"
            kill(worker)
        time.sleep(0.5)
        assert sink.messages == []
        with redis_app.app_context():
            run_due(now=later())
            run_due(now=later(600))
        assert len(sink.messages) == 1
    finally:
        sink.stop()
