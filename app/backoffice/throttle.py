"""Login throttling: after too many failures per account or per client address, refuse
for a while. Counters live in Redis when REDIS_URL is set (shared by every web
process), else in this process's memory."""
from __future__ import annotations

import hashlib
import threading
import time

MAX_FAILURES = 5  # per account
# Per client address: more, since a town hall's clerks share one address (NAT).
ADDRESS_MAX_FAILURES = 20
WINDOW_SECONDS = 15 * 60


def _key(kind: str, value: str) -> str:
    # Hashed: the counter store never holds an e-mail address or an IP in clear.
    return "login-fail:" + kind + ":" + hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


class MemoryCounters:
    def __init__(self) -> None:
        self._fails: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        stamps = [t for t in self._fails.get(key, []) if now - t < WINDOW_SECONDS]
        if stamps:
            self._fails[key] = stamps
        else:
            self._fails.pop(key, None)
        return stamps

    def count(self, key: str) -> int:
        with self._lock:
            return len(self._recent(key, time.monotonic()))

    def add(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent(key, now)
            if len(self._fails) > 100_000:
                self._fails.clear()
            self._fails.setdefault(key, []).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)


class RedisCounters:
    """A fixed window per key: the first failure starts the 15 minutes."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def count(self, key: str) -> int:
        return int(self.conn.get(key) or 0)

    def add(self, key: str) -> None:
        pipe = self.conn.pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS, nx=True)
        pipe.execute()

    def reset(self, key: str) -> None:
        self.conn.delete(key)


_memory = MemoryCounters()


def counters():
    from app.jobs.queue import redis_connection

    conn = redis_connection()
    return RedisCounters(conn) if conn is not None else _memory


def is_blocked(email: str, address: str) -> bool:
    store = counters()
    return (store.count(_key("account", email)) >= MAX_FAILURES
            or store.count(_key("address", address)) >= ADDRESS_MAX_FAILURES)


def failed(email: str, address: str) -> None:
    store = counters()
    store.add(_key("account", email))
    store.add(_key("address", address))


def succeeded(email: str) -> None:
    counters().reset(_key("account", email))


def clear_memory() -> None:
    """For tests: forget every in-process counter."""
    _memory._fails.clear()

