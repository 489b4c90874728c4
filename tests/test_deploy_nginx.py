"""The README's production setup — Debian's nginx (deploy/nginx/amtstermin.conf) buffering
in front of gunicorn's sync workers — under 50 slowloris connections: bookings still
answer within a second. Runs in CI; nginx missing is a failure, not a skip."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests as http

from app import ROOT
from tests.conftest import at, next_weekday
from tests.workers import free_port

pytestmark = pytest.mark.postgres

SLOW_CLIENTS = 50
HOLD_SECONDS = 20
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def site_config(listen: int, upstream: int, log_dir: Path) -> str:
    """deploy/nginx/amtstermin.conf as shipped, with the test's ports and log folder."""
    text = (ROOT / "deploy" / "nginx" / "amtstermin.conf").read_text()
    swaps = {
        "listen 80 default_server;": f"listen 127.0.0.1:{listen} default_server;",
        "listen [::]:80 default_server;": "",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream};",
        "/var/log/nginx/": f"{log_dir}/",
    }
    for old, new in swaps.items():
        assert old in text, f"deploy/nginx/amtstermin.conf no longer has {old!r}; update this test with it"
        text = text.replace(old, new)
    return text


def main_config(tmp: Path, site: Path) -> str:
    """What Debian's /etc/nginx/nginx.conf gives a site, in a folder of the test's own."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temps = "\n".join(f"  {kind}_temp_path {tmp / kind};" for kind in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}daemon off;\nworker_processes auto;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'};\n"
            f"events {{ worker_connections 768; }}\n"
            f"http {{\n  sendfile on;\n  tcp_nopush on;\n  types_hash_max_size 2048;\n"
            f"  default_type application/octet-stream;\n{temps}\n  include {site};\n}}\n")


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{proc.args[0]} exited with {proc.returncode}"
        try:
            if http.get(url, headers={"Host": "steinfurt.localhost"}, timeout=2).status_code == 200:
                return
            time.sleep(0.2)
        except http.RequestException:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


class Slowloris:
    """Connections that send a request's headers a few bytes at a time and never finish;
    one that the server drops is opened again at once."""

    def __init__(self, port: int, count: int):
        self.port = port
        self.count = count
        self.stop = threading.Event()
        self.open_now = 0
        self.reopened = 0
        self._lock = threading.Lock()

    def _one(self) -> None:
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                s.sendall(b"GET / HTTP/1.1\r\nHost: steinfurt.localhost\r\n")
            except OSError:
                time.sleep(0.2)
                continue
            with self._lock:
                self.open_now += 1
            try:
                while not self.stop.wait(1.0):
                    s.sendall(b"X-Slow: x\r\n")
            except OSError:
                with self._lock:
                    self.reopened += 1
            finally:
                with self._lock:
                    self.open_now -= 1
                s.close()

    def start(self) -> Slowloris:
        self.threads = [threading.Thread(target=self._one, daemon=True) for _ in range(self.count)]
        for t in self.threads:
            t.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(10)


def test_fifty_slow_clients_do_not_stall_bookings_behind_nginx(pg_app, pg_url, tmp_path):
    assert Path(NGINX).exists(), "nginx is not installed (Debian: apt-get install nginx); this test needs it"
    web_port, nginx_port = free_port(), free_port()
    env = dict(os.environ, DATABASE_URL=pg_url, SECRET_KEY="deploy-test-secret", AMTSTERMIN_ENV="production",
               BASE_DOMAIN="localhost", MAIL_URL="console", AMTSTERMIN_INSTANCE=str(tmp_path / "instance"),
               TRUSTED_PROXIES="1", RATELIMIT_ENABLED="false", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    env.pop("REDIS_URL", None)
    # The README's line: gunicorn -c deploy/gunicorn.conf.py -w 4 -b 127.0.0.1:8000 wsgi:app
    gunicorn = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "-w", "4",
                                 "-b", f"127.0.0.1:{web_port}", "wsgi:app"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert "gunicorn -c deploy/gunicorn.conf.py -w 4 -b 127.0.0.1:8000 wsgi:app" in (ROOT / "README.md").read_text()
    site = tmp_path / "amtstermin.conf"
    site.write_text(site_config(nginx_port, web_port, tmp_path))
    conf = tmp_path / "nginx.conf"
    conf.write_text(main_config(tmp_path, site))
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    slow = None
    try:
        base = f"http://127.0.0.1:{nginx_port}"
        wait_until_up(f"http://127.0.0.1:{web_port}/healthz", gunicorn)
        wait_until_up(base + "/healthz", nginx)
        days = [next_weekday(d) for d in range(4)]
        session = http.Session()

        def book(i: int) -> float:
            started = time.monotonic()
            r = session.post(base + "/api/v1/appointments", headers={"Host": "steinfurt.localhost"}, timeout=10,
                             json={"service": "personalausweis",
                                   "start": at(days[i // 9], 9 + (i % 9) // 3, (i % 3) * 20).isoformat(),
                                   "name": "Erika Mustermann", "email": f"slow{i}@example.org"})
            assert r.status_code == 201, r.text[:300]
            return time.monotonic() - started

        for path in ("/", "/services/personalausweis", "/api/v1/services"):  # every worker warm
            for _ in range(8):
                assert session.get(base + path, headers={"Host": "steinfurt.localhost"}, timeout=10).status_code == 200
        book(0)

        slow = Slowloris(nginx_port, SLOW_CLIENTS).start()
        deadline = time.monotonic() + 5
        while slow.open_now < SLOW_CLIENTS and time.monotonic() < deadline:
            time.sleep(0.1)
        assert slow.open_now == SLOW_CLIENTS
        held_until = time.monotonic() + HOLD_SECONDS
        took = []
        i = 1
        while time.monotonic() < held_until:
            took.append(book(i))
            i += 1
            time.sleep(1.0)
        assert slow.open_now >= SLOW_CLIENTS - 5  # still held at the end
        assert len(took) >= 10
        assert max(took) < 1.0, f"bookings took {[round(t, 2) for t in took]} s"
    finally:
        if slow is not None:
            slow.finish()
        for proc in (nginx, gunicorn):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    # nginx's log holds no path (tokens), the format the repository ships.
    log = (tmp_path / "amtstermin.access.log").read_text()
    assert " POST 201 " in log and "/api/" not in log
