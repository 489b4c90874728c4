"""What the tests run beside the app: a free port, an SMTP sink (aiosmtpd) that can stall a
conversation, the app as deployed (jobs in Redis, mail over SMTP) and a real `flask jobs
worker` process."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from redis import Redis
from rq import Worker

from app import ROOT
from app.mail.transport import close_connections
from tests.conftest import REDIS_URL, close, make_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """An SMTP server that keeps what it accepts. With `stall_at`, it holds the conversation of
    that recipient (1-based, counted over all connections) for `stall_seconds`, and sets
    `stalled` as it starts to."""

    def __init__(self, port: int, *, stall_at: int | None = None, stall_seconds: float = 20):
        self.port = port
        self.messages: list = []
        self.peers: list = []  # the client's (address, port) per accepted mail: one per connection
        self.stall_at = stall_at
        self.stall_seconds = stall_seconds
        self.rcpts = 0
        self.stalled = threading.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpts += 1
        if self.rcpts == self.stall_at:
            self.stalled.set()
            await asyncio.sleep(self.stall_seconds)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.peers.append(session.peer)
        return "250 Message accepted"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


@contextmanager
def deployed_app(database_url: str, tmp_path, *, smtp_timeout: int):
    """The app as deployed: jobs in Redis (emptied before and after), mail to an SMTP server on
    a free port where nothing listens yet: (app, port). Skipped without TEST_REDIS_URL."""
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL not set: Redis test skipped")
    Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    app = make_app(database_url, tmp_path, REDIS_URL=REDIS_URL,
                   MAIL_URL=f"smtp://127.0.0.1:{port}?timeout={smtp_timeout}")
    try:
        yield app, port
    finally:
        close_connections()
        close(app)
        Redis.from_url(REDIS_URL).flushdb()


def _registered(pid: int, redis_url: str) -> bool:
    connection = Redis.from_url(redis_url)
    try:
        return any(w.pid == pid for w in Worker.all(connection=connection))
    finally:
        connection.close()


def kill(worker: subprocess.Popen) -> None:
    """SIGKILL, as a crash would end it, and wait until it is gone."""
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)


@contextmanager
def worker_process(database_url: str, redis_url: str, mail_url: str, instance, *args: str, up_within: float = 60,
                   **env: str):
    """A `flask jobs worker *args` process on these services (its instance folder `instance`,
    further environment `env`), yielded once rq has it registered in Redis. At the end it is
    stopped if it still runs: terminated, and killed if it does not end within 10 s."""
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url, MAIL_URL=mail_url,
               AMTSTERMIN_INSTANCE=str(instance), **env)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", *args],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + up_within
        while not _registered(worker.pid, redis_url):
            if worker.poll() is not None:
                pytest.fail(f"the worker ended before it was up (exit code {worker.returncode})")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker was not up within {up_within} s")
            time.sleep(0.05)
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(5)
