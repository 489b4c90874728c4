"""The benchmark's processes and meters: gunicorn servers in their own process groups,
the CPU their workers and the PostgreSQL backends spend per request, and what machine
and commit were measured."""
from __future__ import annotations

import os
from importlib.metadata import version
import platform
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import psycopg
from redis import Redis

from bench.load import fetch
from bench.seed import plain_url

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def log(msg: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", flush=True)


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# --- servers ------------------------------------------------------------------------------
_servers: list["Server"] = []


def app_env(db_url: str, redis_url: str, instance, *, mail_url: str = "console", ratelimit: bool = False) -> dict:
    """The environment the benchmark serves the app (and hello, and the jobs worker) in:
    development mode on `*.localhost`, the rate limiter off unless asked for."""
    env = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=redis_url, RATELIMIT_ENABLED="true" if ratelimit else "false",
               BASE_DOMAIN="localhost", MAIL_URL=mail_url, AMTSTERMIN_INSTANCE=str(instance))
    env.setdefault("SECRET_KEY", "bench-secret-key")
    env.pop("AMTSTERMIN_ENV", None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`gunicorn -w 2 -b 127.0.0.1:PORT <module:app>` in its own process group."""

    def __init__(self, name: str, target: str, env: dict, logdir: Path, workers: int = 2,
                 cmd: list[str] | None = None):
        self.name = name
        self.port = free_port()
        self.cmd = cmd or [str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}", target]
        self.logfile = open(logdir / f"{name}.log", "wb")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=env, stdout=self.logfile, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _servers.append(self)

    def wait_ready(self, path: str, host: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited ({self.proc.returncode}); see {self.logfile.name}")
            try:
                status, _ = fetch(self.port, path, host)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} server not ready within {timeout}s; see {self.logfile.name}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group of this gunicorn only
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        self.logfile.close()
        if self in _servers:
            _servers.remove(self)


class JobsWorker(Server):
    """The project's jobs worker, `flask --app wsgi jobs worker` (an rq SimpleWorker: jobs run
    in this one process, which also sweeps due work every 10 s), in its own process group."""

    def __init__(self, env: dict, logdir: Path):
        super().__init__("jobs-worker", "wsgi", env, logdir,
                         cmd=[str(VENV_BIN / "flask"), "--app", "wsgi", "jobs", "worker"])

    def wait_ready(self, redis_url: str, timeout: float = 60) -> None:  # type: ignore[override]
        """Until the worker has registered itself with rq in Redis."""
        conn = Redis.from_url(redis_url, socket_connect_timeout=2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jobs worker exited ({self.proc.returncode}); see {self.logfile.name}")
            if conn.scard("rq:workers"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"jobs worker not registered within {timeout}s; see {self.logfile.name}")

    def worker_pids(self) -> list[int]:
        return [self.proc.pid] if self.proc.poll() is None else []


def memory(pid: int) -> dict:
    """Resident set size now and at its peak (VmRSS, VmHWM from /proc/<pid>/status), in MiB."""
    out = {"pid": pid, "rss_mib": 0.0, "hwm_mib": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out["rss_mib" if key == "VmRSS" else "hwm_mib"] = int(value.split()[0]) / 1024
    except (OSError, ValueError):
        pass
    return out


def stop_servers() -> None:
    for server in list(_servers):
        try:
            server.stop()
        except Exception as exc:  # keep stopping the others
            print(f"could not stop {server.name}: {exc}", file=sys.stderr)


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


# --- CPU accounting -----------------------------------------------------------------------
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """utime + stime of one process, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


class CpuMeter:
    """CPU seconds of one server's gunicorn workers and of the PostgreSQL backends serving
    the benchmark database: a cost per request that other load on the machine barely changes."""

    def __init__(self, server: "Server", db_url: str | None):
        self.server = server
        self.db_url = db_url

    def pids(self) -> tuple[list[int], list[int]]:
        pg: list[int] = []
        if self.db_url:
            with psycopg.connect(plain_url(self.db_url), autocommit=True) as conn:
                pg = [r[0] for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")]
        return self.server.worker_pids(), pg

    def snapshot(self) -> dict[int, float]:
        workers, pg = self.pids()
        return {**{p: proc_cpu(p) for p in workers}, **{-p: proc_cpu(p) for p in pg}}

    @staticmethod
    def delta(before: dict[int, float], after: dict[int, float]) -> tuple[float, float]:
        app = sum(v - before.get(k, 0.0) for k, v in after.items() if k > 0)
        db_ = sum(v - before.get(k, 0.0) for k, v in after.items() if k < 0)
        return app, db_


def measured(load, job, meter: CpuMeter, **kw) -> dict:
    before = meter.snapshot()
    res = load.run(job, **kw)
    app_s, db_s = CpuMeter.delta(before, meter.snapshot())
    n = res["requests"] or 1
    res["cpu_app_ms"] = 1000 * app_s / n
    res["cpu_db_ms"] = 1000 * db_s / n
    res["driver_cpu_ms"] = 1000 * res["driver_cpu_s"] / n
    return res


# --- machine ------------------------------------------------------------------------------
def sh(cmd: str) -> str:
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.rstrip()
    except Exception:
        return "n/a"


def machine(db_url: str) -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor() or "n/a")
    with psycopg.connect(plain_url(db_url)) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "nproc": sh("nproc"), "free": sh("free -h"), "cpu": cpu, "python": platform.python_version(),
        "postgres": pg, "gunicorn": sh(f"{VENV_BIN / 'gunicorn'} --version"), "wrk": sh("wrk -v 2>&1 | head -1"),
        "kernel": platform.release(), "commit": commit(), "aiosmtpd": version("aiosmtpd"),
    }


def commit() -> str:
    """The code measured: a commit, and whether app/ had uncommitted changes."""
    if (ROOT / ".git").exists():
        head = sh(f"git -C {ROOT} rev-parse --short HEAD")
        dirty = sh(f"git -C {ROOT} status --porcelain -- app templates migrations wsgi.py")
        return head + (" plus uncommitted changes in app/ or templates/" if dirty else "")
    return os.environ.get("BENCH_COMMIT", "unknown") + f" (a copy in {ROOT})"
