"""The web under database faults, on PostgreSQL: the database refusing connections,
connections cut under requests in flight (through a TCP proxy the test controls, and
pg_terminate_backend), a table lock held in another session. A missing dependency is a
503 with Retry-After, never a 500, and the next request after the fault works."""
from __future__ import annotations

import select as select_mod
import socket
import threading
import time
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.conftest import PG_URL, HostClient, at, close, make_app, next_weekday
from tests.test_faults_worker import cut_connections, wait_for
from tests.workers import free_port

pytestmark = pytest.mark.postgres


class TcpProxy:
    """127.0.0.1:port -> PostgreSQL. `refuse()` closes the door (connections refused) and
    cuts what is open; `cut()` drops every open connection; `accept()` opens again."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self._server: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def accept(self) -> TcpProxy:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept_loop, args=(server,), daemon=True).start()
        return self

    def _accept_loop(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select_mod.select([a, b], [], [], 1.0)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        with self._lock:
            sockets, self._open = self._open, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def refuse(self) -> None:
        if self._server is not None:
            try:
                self._server.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            except OSError:
                pass
            self._server.close()
            self._server = None
        self.cut()


def _target() -> tuple[str, int]:
    parts = urlsplit(PG_URL.replace("postgresql+psycopg://", "postgresql://"))
    return parts.hostname or "127.0.0.1", parts.port or 5432


def _proxied(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    auth = netloc[0] + "@" if len(netloc) == 2 else ""
    return parts._replace(netloc=f"{auth}127.0.0.1:{port}").geturl()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def proxied(pg_url, tmp_path, request):
    proxy = TcpProxy(_target()).accept()
    lock_ms = getattr(request, "param", None)
    extra = {}
    if lock_ms:
        extra["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": f"-c lock_timeout={lock_ms}"}}
    app = make_app(_proxied(pg_url, proxy.port), tmp_path, **extra)
    try:
        yield app, proxy
    finally:
        proxy.refuse()
        close(app)


def booking(i: int, hh: int = 9, mm: int = 0, day=None) -> dict:
    return {"service": "personalausweis", "start": at(day or next_weekday(0), hh, mm).isoformat(),
            "name": "Erika Mustermann", "email": f"fault{i}@example.org"}


def assert_503_problem(r):
    assert r.status_code == 503, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == "application/problem+json"
    assert r.json["status"] == 503 and r.json["type"].endswith("service-unavailable")
    assert int(r.headers["Retry-After"]) > 0


def test_database_refusing_connections_is_503_everywhere_and_heals(proxied):
    app, proxy = proxied
    client = HostClient(app, "steinfurt.localhost")
    assert client.get("/").status_code == 200  # the town is known to this process
    proxy.refuse()

    assert_503_problem(client.post("/api/v1/appointments", json=booking(1)))
    assert_503_problem(client.get("/api/v1/services"))
    assert_503_problem(client.get("/api/v1/services/personalausweis/slots"))
    page = client.get("/")
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
    text = page.get_data(as_text=True)
    assert "in einer Minute noch einmal" in text and "02551 1-0" in text
    english = client.get("/?lang=en")
    assert english.status_code == 503
    assert "try again in a minute" in english.get_data(as_text=True)
    assert "02551 1-0" in english.get_data(as_text=True)
    assert client.get("/services/personalausweis").status_code == 503
    assert client.get("/healthz").status_code == 503

    proxy.accept()
    r = client.post("/api/v1/appointments", json=booking(2))
    assert r.status_code == 201, r.json
    assert client.get(f"/api/v1/appointments/{r.json['manage_token']}").status_code == 200


def test_connections_cut_between_requests_every_next_request_works(proxied, pg_url):
    app, proxy = proxied
    client = HostClient(app, "steinfurt.localhost")
    for i in range(3):
        assert client.get("/api/v1/services").status_code == 200
        assert client.post("/api/v1/appointments", json=booking(i, 9 + i)).status_code == 201
        proxy.cut()
        assert cut_connections(pg_url) >= 0
    assert client.get("/api/v1/services").status_code == 200


def test_a_booking_waiting_on_a_table_lock_gets_503_quickly(proxied, pg_url):
    app, _ = proxied
    client = HostClient(app, "steinfurt.localhost")
    assert client.get("/api/v1/services/personalausweis/next").status_code == 200
    with psycopg.connect(_libpq(pg_url)) as locker:
        locker.execute("LOCK TABLE appointments IN ACCESS EXCLUSIVE MODE")  # as VACUUM FULL would
        started = time.monotonic()
        r = client.post("/api/v1/appointments", json=booking(1))
        waited = time.monotonic() - started
        assert_503_problem(r)
        assert waited < 4, f"the booking waited {waited:.1f} s for the lock"
        locker.rollback()
    assert client.post("/api/v1/appointments", json=booking(2)).status_code == 201


@pytest.mark.parametrize("proxied", [10_000], indirect=True)  # long enough to cut them while they wait
def test_requests_in_flight_when_connections_are_cut(proxied, pg_url):
    """A booking and a read both wait on a lock when their connections are cut: the
    booking is a 503 (and did not happen), the read is retried on a fresh connection."""
    app, proxy = proxied
    client = HostClient(app, "steinfurt.localhost")
    day = next_weekday(2)
    results: dict[str, object] = {}

    def run(name, call):
        results[name] = call()

    with psycopg.connect(_libpq(pg_url)) as locker:
        locker.execute("LOCK TABLE appointments IN ACCESS EXCLUSIVE MODE")
        threads = [
            threading.Thread(target=run, args=("post", lambda: HostClient(app, "steinfurt.localhost").post(
                "/api/v1/appointments", json=booking(1, day=day)))),
            # Another town's office: not behind the booking in the slot cache, only behind the lock.
            threading.Thread(target=run, args=("get", lambda: HostClient(app, "emsdetten.localhost").get(
                f"/api/v1/services/personalausweis/slots?from={day}&to={day}"))),
        ]
        for t in threads:
            t.start()
        # Both are waiting for the lock (in flight), then their connections go.
        assert wait_for(lambda: _waiting_on_lock(locker) >= 2, 8)
        proxy.cut()
        locker.rollback()
        for t in threads:
            t.join(10)
    assert_503_problem(results["post"])
    got = results["get"]
    assert got.status_code == 200 and got.json["slots"], got.get_data(as_text=True)[:300]
    assert client.post("/api/v1/appointments", json=booking(2, day=day)).status_code == 201


def _waiting_on_lock(conn) -> int:
    conn.execute("SELECT pg_stat_clear_snapshot()")  # fresh figures, inside the locker's transaction too
    return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'").fetchone()[0]
