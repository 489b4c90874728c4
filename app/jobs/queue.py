"""Background work: rq on Redis when REDIS_URL is set, otherwise in-process after the commit,
in a background thread of the process, so no answer waits for the work (a stalled mail
server, say).

Jobs take IDs and reload what they need. A job that cannot be queued (Redis down) is
not lost: the work it stands for is in the database (an outbox row, a due reminder),
and the sweeper (`flask jobs run-due`, also run periodically by `flask jobs worker`)
picks it up.
"""
from __future__ import annotations

import importlib
import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import lru_cache

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry
from rq.job import Job

from app.extensions import db
from app.faults import discard_session
from app.ops.counters import job_failed

log = logging.getLogger(__name__)
# Every queued job's timeout; a mail job may retry recording its outcome while the
# database is away (app.jobs.lease), well inside this.
JOB_TIMEOUT = 180

QUEUES = ("mail", "default")
QUEUE_OF = {"app.mail.delivery.deliver": "mail"}
# Without Redis, jobs that talk to another server run in a background thread, so no
# answer waits for a slow or stalled mail server or webhook receiver; the rest (quick
# database work) runs in-process right after the commit, as before.
IN_BACKGROUND = frozenset({"app.mail.delivery.deliver", "app.webhooks.delivery.deliver"})
# Jobs that do all the waiting work of their kind when they run (the mail job sends every
# fresh outbox row, the statistics fold folds every delta): while one is queued and has not
# started, a second adds nothing, and rq's own cost per job (a dozen Redis round trips) is
# not paid for it. A flag in Redis names the waiting job; the job clears it as it starts,
# before it reads what to do (`run_coalesced`), so work committed after that queues a new
# one. A dispatch queues a job unless the flag names one that rq still holds as queued
# (`_TAKE_FLAG`, one round trip): a flag whose enqueue was lost (Redis dropped between the
# two) or whose job already started holds nothing up. Two dispatches in that gap may both
# queue a job; the second finds little to do. The flag runs out after COALESCE_TTL anyway.
COALESCED = frozenset({"app.mail.delivery.deliver", "app.statistics.tracking.fold_deltas"})
COALESCE_TTL = 60
# KEYS[1] the flag; ARGV: the new job's id, the TTL, rq's job key prefix. 1: queue it.
_TAKE_FLAG = """
local waiting = redis.call('GET', KEYS[1])
if waiting and redis.call('HGET', ARGV[3] .. waiting, 'status') == 'queued' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""


def resolve(func_path: str):
    module, _, name = func_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@lru_cache(maxsize=8)
def _redis(url: str):
    # No read timeout: the worker blocks on BLPOP for minutes by design, and rq quits on
    # a read timeout; a dead server still fails fast at connect.
    return Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)


def waiting_key(func_path: str) -> str:
    return f"amtstermin:jobs:waiting:{func_path}"


def run_coalesced(func_path: str, *args):
    """A coalesced job as the worker runs it: its flag is cleared first, then the work runs."""
    try:
        redis_connection().delete(waiting_key(func_path))
    except Exception:  # the flag runs out by itself
        log.warning("could not clear a job's waiting flag", extra={"job": func_path})
    return resolve(func_path)(*args)


def redis_connection():
    url = current_app.config.get("REDIS_URL")
    return _redis(url) if url else None


def queue(name: str):
    return Queue(name, connection=redis_connection(), default_timeout=JOB_TIMEOUT)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_running: set[Future] = set()


def _background() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # Two threads: a stalled mail server holds up at most the mail behind it;
            # the sweeper delivers whatever waits too long.
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="amtstermin-job")
        return _pool


def run_job(app: Flask, func_path: str, *args) -> None:
    """One job in its own app context and session, which it leaves clean whatever happens."""
    with app.app_context():
        try:
            resolve(func_path)(*args)
        except Exception:  # the sweeper retries; the commit already stands
            job_failed(func_path)
            log.exception("in-process job failed", extra={"job": func_path})
        finally:
            discard_session()
            db.session.remove()


def run_in_background(func_path: str, *args) -> None:
    future = _background().submit(run_job, current_app._get_current_object(), func_path, *args)
    with _pool_lock:
        _running.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future) -> None:
    with _pool_lock:
        _running.discard(future)


def wait_for_background(timeout: float = 60.0) -> None:
    """Wait until the in-process jobs queued so far are done (tests, a clean shutdown)."""
    with _pool_lock:
        pending = list(_running)
    wait(pending, timeout=timeout)


def dispatch(func_path: str, *args) -> None:
    conn = redis_connection()
    if conn is None:
        if func_path in IN_BACKGROUND:
            run_in_background(func_path, *args)
            return
        try:
            resolve(func_path)(*args)
        except Exception:  # the sweeper retries; the commit already stands
            job_failed(func_path)
            log.exception("in-process job failed", extra={"job": func_path})
        return

    coalesced = func_path in COALESCED
    try:
        target, target_args, job_id = func_path, args, None
        if coalesced:
            job_id = uuid.uuid4().hex
            if not conn.eval(_TAKE_FLAG, 1, waiting_key(func_path), job_id, COALESCE_TTL,
                             Job.redis_job_namespace_prefix):
                return  # one is queued and has not started: it does this work too
            target, target_args = "app.jobs.queue.run_coalesced", (func_path, *args)
        queue(QUEUE_OF.get(func_path, "default")).enqueue(
            target, *target_args, job_timeout=JOB_TIMEOUT, retry=Retry(max=5, interval=[5, 15, 30, 60, 120]),
            result_ttl=3600, failure_ttl=7 * 24 * 3600, job_id=job_id,
        )
    except Exception:  # a flag left behind names no queued job: the next dispatch queues one
        log.warning("could not queue job; the sweeper will pick the work up", extra={"job": func_path})


def jobs_health() -> str:
    conn = redis_connection()
    if conn is None:
        return "inline"
    conn.ping()
    return "ok"
