"""Confirmations in batches (issue 18, Deliver 3): one mail job sends every mail that waits,
claimed together, rendered with what they share read once, over one SMTP connection; each
mail exactly once, also when the worker is killed in the middle of a batch. Real aiosmtpd,
real Redis and rq, a real worker process where it is killed."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from app.extensions import db
from app.mail import delivery
from app.mail.models import OutboxMail
from app.tenancy.scope import all_tenants
from tests.conftest import REDIS_URL, HostClient, close, counted, make_app, needs_redis, next_weekday
from tests.test_mail_delivery import book, later
from tests.workers import Sink, deployed_app, free_port, kill, worker_process


def statuses(app) -> list[str]:
    with app.app_context(), all_tenants():
        result = list(db.session.scalars(select(OutboxMail.status).order_by(OutboxMail.id)))
        db.session.remove()
        return result


@pytest.fixture
def queued_app(pg_url, tmp_path):
    """The app as deployed (jobs in Redis, mail to an SMTP server), no worker running yet."""
    with deployed_app(pg_url, tmp_path, smtp_timeout=30) as (app, port):
        yield app, port


def book_many(app, n: int) -> None:
    client = HostClient(app, "steinfurt.localhost")
    monday = next_weekday(0)
    for i in range(n):
        assert book(client, monday, 8 + i // 3, (i % 3) * 20, i=i).status_code == 201


@needs_redis
def test_bookings_mails_go_out_in_batches_over_one_connection_each_once(queued_app, monkeypatch):
    from app.jobs.due import run_due
    from app.jobs.queue import queue
    from app.jobs.worker import run_worker

    app, port = queued_app
    monkeypatch.setattr(delivery, "BATCH", 4)  # seven mails: batches of 4 and 3
    sink = Sink(port).start()
    try:
        book_many(app, 7)
        with app.app_context():
            # One mail job waits for all seven (each booking would otherwise queue its own).
            assert queue("mail").count == 1
        assert statuses(app) == ["pending"] * 7
        with app.app_context():
            run_worker(app, burst=True)
        assert sorted(m["To"] for m in sink.messages) == sorted(f"citizen{i}@example.org" for i in range(7))
        assert len({m["Message-ID"] for m in sink.messages}) == 7
        assert len(set(sink.peers)) == 1  # one SMTP connection for both batches
        assert statuses(app) == ["sent"] * 7
        with app.app_context():
            assert run_due(now=later(900))["mails"] == 0
        assert len(sink.messages) == 7

        # A booking after the job ran gets a job of its own, and its mail arrives.
        client = HostClient(app, "steinfurt.localhost")
        assert book(client, next_weekday(1), 9, i=7).status_code == 201
        with app.app_context():
            assert queue("mail").count == 1
            run_worker(app, burst=True)
        assert sink.messages[-1]["To"] == "citizen7@example.org" and len(sink.messages) == 8
    finally:
        sink.stop()


@needs_redis
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(queued_app, tmp_path):
    from app.jobs.due import run_due

    app, port = queued_app
    sink = Sink(port, stall_at=3, stall_seconds=30).start()
    book_many(app, 5)
    try:
        with worker_process(app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL, app.config["MAIL_URL"],
                            tmp_path / "worker", "--burst") as worker:
            assert sink.stalled.wait(60), "the worker never reached the third mail"
            kill(worker)
        # Two went out and are recorded; the third was being said, the rest claimed with it.
        assert sorted(m["To"] for m in sink.messages) == ["citizen0@example.org", "citizen1@example.org"]
        assert statuses(app) == ["sent", "sent", "sending", "sending", "sending"]
        with app.app_context():
            assert run_due()["mails"] == 0  # their lease still holds: nobody else sends them yet
            assert run_due(now=later(180))["mails"] == 3
            assert run_due(now=later(900))["mails"] == 0
            db.session.remove()
        per_id = Counter(m["Message-ID"] for m in sink.messages)
        assert len(per_id) == 5 and set(per_id.values()) == {1}
        assert sorted(m["To"] for m in sink.messages) == sorted(f"citizen{i}@example.org" for i in range(5))
        assert statuses(app) == ["sent"] * 5
    finally:
        sink.stop()


def _delivery_statements(app, n: int, first_day: int) -> list[str]:
    client = HostClient(app, "steinfurt.localhost")
    day = next_weekday(first_day)
    for i in range(n):
        assert book(client, day, 8 + i // 3, (i % 3) * 20, i=100 * first_day + i).status_code == 201
    with app.app_context(), all_tenants():
        first = db.session.scalar(select(OutboxMail.id).where(OutboxMail.status == "pending").order_by(OutboxMail.id))
        db.session.remove()
    with counted(app) as statements:
        with app.app_context():
            assert delivery.deliver(first)
            db.session.remove()
    return statements


def test_rendering_a_tenants_mails_costs_one_statement_per_mail(database_url, tmp_path):
    """N confirmations of one town: claimed in one statement, their appointments, visits,
    town and texts read once, the claims written in one; per mail only its outcome."""
    # Redis unreachable: the bookings' jobs are not queued, the rows wait for this delivery.
    app = make_app(database_url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    try:
        _delivery_statements(app, 1, 0)  # warm: the worker's first mail
        three = _delivery_statements(app, 3, 1)
        eight = _delivery_statements(app, 8, 2)
        assert statuses(app) == ["sent"] * 12
        shared = [s for s in eight if not s.startswith("UPDATE outbox_mails SET sent_at")]
        assert len(eight) - len(shared) == 8  # each mail's outcome, recorded once it is known
        assert len(shared) == len(three) - 3, "\n".join(shared)
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            # The claim; the town and its district; the appointments with office, entrance and
            # service; their visits; the texts; the claims and rendered texts written.
            assert len(shared) == 7, "\n".join(shared)
    finally:
        close(app)


def test_a_mail_that_cannot_be_rendered_holds_up_no_other(database_url, tmp_path, monkeypatch):
    from app.booking import notifications
    from app.jobs.due import run_due
    from tests.conftest import mails

    app = make_app(database_url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    try:
        book_many(app, 3)
        real = notifications.appointment_context

        def broken_for_one(tenant, appt, lang, **extra):
            if appt.email == "citizen1@example.org":
                raise ValueError("a broken value")
            return real(tenant, appt, lang, **extra)

        monkeypatch.setattr(notifications, "appointment_context", broken_for_one)
        with app.app_context(), all_tenants():
            first = db.session.scalar(select(OutboxMail.id).order_by(OutboxMail.id))
            db.session.remove()
        with app.app_context():
            assert delivery.deliver(first)
            db.session.remove()
        assert [m["To"] for m in mails(app)] == ["citizen0@example.org", "citizen2@example.org"]
        assert statuses(app) == ["sent", "pending", "sent"]
        monkeypatch.undo()  # mended: it goes out with the next try
        with app.app_context():
            assert run_due(now=later(600))["mails"] == 1
            db.session.remove()
        assert sorted(m["To"] for m in mails(app)) == [f"citizen{i}@example.org" for i in range(3)]
    finally:
        close(app)


def test_a_late_give_back_leaves_rows_another_worker_claimed_since(database_url, tmp_path):
    """A batch whose lease ran out (its last send and record took long, or the database
    was away while it gave rows back) must not put back rows the sweeper has claimed
    since: they would go 'pending' while that worker sends them, and a third one would
    claim and send them again."""
    from datetime import timedelta

    from app import clock
    from app.jobs import lease

    app = make_app(database_url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    try:
        book_many(app, 2)
        with app.app_context():
            t0 = clock.now()
            taken, claimed = lease.take_many(OutboxMail, t0, limit=5)
            assert claimed == 2
            # The lease runs out; the sweeper claims both anew and starts sending them.
            again, reclaimed = lease.take_many(OutboxMail, t0 + lease.LEASE + timedelta(seconds=1), fresh=False,
                                               limit=5)
            assert reclaimed == 2
            # The first batch, late, gives back what it did not send.
            lease.release(OutboxMail, [row for row, _ in taken], t0)
            db.session.remove()
        assert statuses(app) == ["sending", "sending"]
        with app.app_context():  # still no third claim while the sweeper's lease holds
            third, n = lease.take_many(OutboxMail, t0 + lease.LEASE + timedelta(seconds=2), limit=5)
            assert n == 0
            # The sweeper's own give-back still works.
            assert lease.release(OutboxMail, [row for row, _ in again], t0)
            db.session.remove()
        assert statuses(app) == ["pending", "pending"]
    finally:
        close(app)


def test_a_batch_of_two_towns_mails_gives_each_its_own_towns_name_and_sender(database_url, tmp_path):
    """Mails of Steinfurt and Emsdetten claimed, preloaded and rendered in one batch: each
    carries its own town's name and sender, never the other's."""
    from tests.conftest import mails

    app = make_app(database_url, tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    try:
        monday = next_weekday(0)
        towns = {"steinfurt": HostClient(app, "steinfurt.localhost"),
                 "emsdetten": HostClient(app, "emsdetten.localhost")}
        starts = {slug: [s["start"] for s in client.get(
            f"/api/v1/services/personalausweis/slots?from={monday}&to={monday}").get_json()["slots"]]
            for slug, client in towns.items()}
        for i in range(4):
            slug = ("steinfurt", "emsdetten")[i % 2]
            answer = towns[slug].post("/api/v1/appointments", json={
                "service": "personalausweis", "start": starts[slug][i], "name": "Erika Mustermann",
                "email": f"citizen{i}@example.org"})
            assert answer.status_code == 201, answer.get_json()
        with app.app_context(), all_tenants():
            from app.tenancy.models import Tenant

            first = db.session.scalar(select(OutboxMail.id).order_by(OutboxMail.id))
            names = dict(db.session.execute(select(Tenant.slug, Tenant.name)).all())
            db.session.remove()
        with app.app_context():
            assert delivery.deliver(first)
            db.session.remove()
        got = mails(app)
        assert len(got) == 4 and statuses(app) == ["sent"] * 4
        for i, msg in enumerate(got):
            own, other = ("steinfurt", "emsdetten") if i % 2 == 0 else ("emsdetten", "steinfurt")
            text = msg.get_body(preferencelist=("plain",)).get_content()
            assert msg["To"] == f"citizen{i}@example.org"
            assert names[own] in msg["From"] and names[other] not in msg["From"]
            assert names[own] in text and names[other] not in text, text
    finally:
        close(app)
