"""`flask jobs worker`: an rq worker on this app's queues that also runs due work."""
from __future__ import annotations

import logging
import time

from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker

from app.extensions import db
from app.faults import discard_session
from app.jobs.due import start_background_sweeper
from app.jobs.queue import QUEUES, queue, redis_connection
from app.mail.transport import close_connections

log = logging.getLogger(__name__)
RETRY_SECONDS = 5


class AppWorker(SimpleWorker):
    """Runs each job in this process and leaves the session clean after it, failed or
    not: a job that lost its database connection must not poison the next one."""

    def execute_job(self, job, queue):
        try:
            return super().execute_job(job, queue)
        finally:
            discard_session()
            db.session.remove()


def run_worker(app: Flask, *, burst: bool = False, sweep_every: float = 10.0) -> None:
    """Work the queues until stopped. Redis going away does not stop the worker: it
    waits and reconnects, and meanwhile its sweeper thread (due work from the database:
    held mail, reminders, retention) keeps delivering."""
    conn = redis_connection()
    if conn is None:
        raise SystemExit("REDIS_URL is not set: jobs run in-process in the web server; no worker is needed.")
    if not burst:
        start_background_sweeper(app, interval=sweep_every)
    while True:
        try:
            # SimpleWorker runs jobs in this process, inside the app context pushed by the CLI.
            worker = AppWorker([queue(name) for name in QUEUES], connection=conn)
            log.info("worker started", extra={"job": ",".join(QUEUES)})
            worker.work(burst=burst, with_scheduler=False)
            close_connections()
            return
        except (RedisConnectionError, RedisTimeoutError):
            if burst:
                raise
            log.warning("Redis unreachable; the worker retries shortly, due work goes on meanwhile")
            time.sleep(RETRY_SECONDS)
