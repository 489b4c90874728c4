"""One waiting mail job (issue 18, Deliver 3): a flag in Redis names the job that waits, and a
dispatch queues none while rq still holds that job as queued. A flag that names no waiting
job — its enqueue lost when Redis dropped, or its job already taken by a worker — must not hold
the next booking's mail back until the flag runs out. Real Redis, rq, PostgreSQL, aiosmtpd."""
from __future__ import annotations

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from rq.job import Job, JobStatus

from app.jobs.queue import waiting_key
from tests.conftest import REDIS_URL, HostClient, needs_redis, next_weekday
from tests.test_mail_delivery import book
from tests.workers import Sink, deployed_app

MAIL_JOB = "app.mail.delivery.deliver"


@pytest.fixture
def deployed(pg_url, tmp_path):
    with deployed_app(pg_url, tmp_path, smtp_timeout=30) as (app, port):
        sink = Sink(port).start()
        try:
            yield app, sink
        finally:
            sink.stop()


def waiting_mail_jobs(app) -> list[Job]:
    from app.jobs.queue import queue

    with app.app_context():
        return [job for job in queue("mail").get_jobs() if job.get_status() == JobStatus.QUEUED]


def deliver_queued(app) -> None:
    from app.jobs.worker import run_worker

    with app.app_context():
        run_worker(app, burst=True)


@needs_redis
def test_a_flag_left_by_a_lost_enqueue_holds_no_later_mail_back(deployed, monkeypatch):
    app, sink = deployed
    client = HostClient(app, "steinfurt.localhost")
    monday = next_weekday(0)

    # Redis drops after the flag is set: the enqueue fails, and so would any clean-up.
    with monkeypatch.context() as m:
        def lost(*args, **kwargs):
            raise RedisConnectionError("Redis went away")
        m.setattr(Queue, "enqueue", lost)
        m.setattr(Redis, "delete", lost)
        assert book(client, monday, 9, i=0).status_code == 201
    redis = Redis.from_url(REDIS_URL)
    assert redis.exists(waiting_key(MAIL_JOB))  # the flag stayed behind
    assert waiting_mail_jobs(app) == []

    # The next booking queues a job at once, and the worker sends both mails.
    assert book(client, monday, 10, i=1).status_code == 201
    jobs = waiting_mail_jobs(app)
    assert len(jobs) == 1
    assert redis.get(waiting_key(MAIL_JOB)).decode() == jobs[0].id
    deliver_queued(app)
    assert sorted(m["To"] for m in sink.messages) == ["citizen0@example.org", "citizen1@example.org"]


@needs_redis
def test_one_job_waits_for_many_bookings_and_a_taken_job_does_not_count(deployed):
    app, sink = deployed
    client = HostClient(app, "steinfurt.localhost")
    monday = next_weekday(0)
    for i in range(3):
        assert book(client, monday, 9, 20 * i, i=i).status_code == 201
    jobs = waiting_mail_jobs(app)
    assert len(jobs) == 1  # one job does the three mails

    # A worker has taken the job but not yet cleared the flag: a booking now queues its own.
    jobs[0].set_status(JobStatus.STARTED)
    assert book(client, monday, 10, 20, i=3).status_code == 201
    assert len(waiting_mail_jobs(app)) == 1
    assert waiting_mail_jobs(app)[0].id != jobs[0].id

    deliver_queued(app)
    assert sorted(m["To"] for m in sink.messages) == [f"citizen{i}@example.org" for i in range(4)]
    assert len({m["Message-ID"] for m in sink.messages}) == 4  # each once
