"""`flask jobs worker`: an rq worker on this app's queues that also runs due work."""
from __future__ import annotations

import logging
import threading

from flask import Flask

log = logging.getLogger(__name__)


def run_worker(app: Flask, *, burst: bool = False, sweep_every: float = 10.0) -> None:
    from rq import SimpleWorker

    from app.jobs.due import start_background_sweeper
    from app.jobs.queue import QUEUES, queue, redis_connection

    conn = redis_connection()
    if conn is None:
        raise SystemExit("REDIS_URL is not set: jobs run in-process in the web server; no worker is needed.")
    if not burst:
        start_background_sweeper(app, interval=sweep_every)
    # SimpleWorker runs jobs in this process, inside the app context pushed by the CLI.
    worker = SimpleWorker([queue(name) for name in QUEUES], connection=conn)
    log.info("worker started", extra={"job": ",".join(QUEUES)})
    worker.work(burst=burst, with_scheduler=False)
    _ = threading  # the sweeper thread is a daemon; it stops with the worker
