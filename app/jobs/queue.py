"""Background work: rq on Redis when REDIS_URL is set, otherwise in-process after the commit.

Jobs take IDs and reload what they need. A job that cannot be queued (Redis down) is
not lost: the work it stands for is in the database (an outbox row, a due reminder),
and the sweeper (`flask jobs run-due`, also run periodically by `flask jobs worker`)
picks it up.
"""
from __future__ import annotations

import importlib
import logging
from functools import lru_cache

from flask import current_app

from app.ops.counters import job_failed

log = logging.getLogger(__name__)

QUEUES = ("mail", "default")
QUEUE_OF = {"app.mail.delivery.deliver": "mail"}


def resolve(func_path: str):
    module, _, name = func_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@lru_cache(maxsize=8)
def _redis(url: str):
    from redis import Redis

    # No read timeout: the worker blocks on BLPOP for minutes by design, and rq quits on
    # a read timeout; a dead server still fails fast at connect.
    return Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)


def redis_connection():
    url = current_app.config.get("REDIS_URL")
    return _redis(url) if url else None


def queue(name: str):
    from rq import Queue

    return Queue(name, connection=redis_connection(), default_timeout=60)


def dispatch(func_path: str, *args) -> None:
    conn = redis_connection()
    if conn is None:
        try:
            resolve(func_path)(*args)
        except Exception:  # the sweeper retries; the commit already stands
            job_failed(func_path)
            log.exception("in-process job failed", extra={"job": func_path})
        return
    from rq import Retry

    try:
        queue(QUEUE_OF.get(func_path, "default")).enqueue(
            func_path, *args, job_timeout=60, retry=Retry(max=5, interval=[5, 15, 30, 60, 120]),
            result_ttl=3600, failure_ttl=7 * 24 * 3600,
        )
    except Exception:
        log.warning("could not queue job; the sweeper will pick the work up", extra={"job": func_path})


def jobs_health() -> str:
    conn = redis_connection()
    if conn is None:
        return "inline"
    conn.ping()
    return "ok"
