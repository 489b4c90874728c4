"""The benchmark (issue 3, point 6): `.venv/bin/python -m bench.run [--quick]`, or `make bench`.

It creates (drops first) its own PostgreSQL database, migrates it, imports the demo
tenants, seeds Steinfurt's rush (four counters, 8-week horizon, the first four weeks
booked solid, 10k past appointments), serves the app and a bare Flask "hello" app with
the same gunicorn settings, drives both from separate processes, and rewrites
docs/benchmarks.md with the figures, the targets met or missed, and a profile of every
request whose target was missed. A benchmark, not a test: it fails only when the
set-up fails or a double booking is found.
"""
from __future__ import annotations

import argparse
import atexit
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SLUG = "steinfurt"
SERVICE = "personalausweis"

TARGETS = {
    "slots_ratio": 0.40, "slots_p99_ms": 25.0, "next_ratio": 0.50, "book_ratio": 0.20,
    "past_growth": 0.15, "tenant_growth": 0.10,
}


def log(msg: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", flush=True)


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


# --- servers ------------------------------------------------------------------------------
_servers: list["Server"] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`gunicorn -w 2 -b 127.0.0.1:PORT <module:app>` in its own process group."""

    def __init__(self, name: str, target: str, env: dict, logdir: Path, workers: int = 2):
        self.name = name
        self.port = free_port()
        self.cmd = [str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}", target]
        self.logfile = open(logdir / f"{name}.log", "wb")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=env, stdout=self.logfile, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _servers.append(self)

    def wait_ready(self, path: str, host: str, timeout: float = 60) -> None:
        from bench.load import fetch

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


def stop_servers() -> None:
    for server in list(_servers):
        try:
            server.stop()
        except Exception as exc:  # keep stopping the others
            print(f"could not stop {server.name}: {exc}", file=sys.stderr)


def _on_signal(signum, frame):
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
            import psycopg

            from bench.seed import plain_url

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
    import psycopg

    from bench.seed import plain_url

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor() or "n/a")
    with psycopg.connect(plain_url(db_url)) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "nproc": sh("nproc"), "free": sh("free -h"), "cpu": cpu, "python": platform.python_version(),
        "postgres": pg, "gunicorn": sh(f"{VENV_BIN / 'gunicorn'} --version"), "wrk": sh("wrk -v 2>&1 | head -1"),
        "kernel": platform.release(), "commit": commit(),
    }


def commit() -> str:
    """The code measured: a commit, and whether app/ had uncommitted changes."""
    if (ROOT / ".git").exists():
        head = sh(f"git -C {ROOT} rev-parse --short HEAD")
        dirty = sh(f"git -C {ROOT} status --porcelain -- app templates migrations wsgi.py")
        return head + (" plus uncommitted changes in app/ or templates/" if dirty else "")
    return os.environ.get("BENCH_COMMIT", "unknown") + f" (a copy in {ROOT})"


# --- the run ------------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="short run (< 2 min): 4 s per scenario, one round, 200k instead of 1M past appointments")
    p.add_argument("--duration", type=float, help="seconds per scenario and round (default 15, quick 5)")
    p.add_argument("--rounds", type=int, help="rounds of hello/slots/next/booking, interleaved (default 2, quick 1)")
    p.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    p.add_argument("--driver", choices=("auto", "wrk", "python"), default="auto",
                   help="load generator: wrk when installed (auto), or the multi-process Python driver")
    p.add_argument("--past-big", type=int, help="past appointments of the large case (default 1000000, quick 200000)")
    p.add_argument("--past-small", type=int, default=10_000, help="past appointments of the small case (10000)")
    p.add_argument("--extra-towns", type=int, default=297, help="towns added for the many-tenants case (297)")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432"),
                   help="PostgreSQL server URL, without the database")
    p.add_argument("--db-name", default="amtstermin_bench", help="database to (re)create; must start with amtstermin_bench")
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
                   help="Redis the served app queues its mail jobs in (its database is emptied before and after)")
    p.add_argument("--profile", choices=("missed", "always", "never"), default="missed",
                   help="cProfile the requests whose target was missed (default), all of them, or none")
    p.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"), help="report file ('-' for none)")
    p.add_argument("--keep-db", action="store_true", help="keep the benchmark database afterwards")
    args = p.parse_args(argv)
    args.duration = args.duration or (4.0 if args.quick else 15.0)
    args.rounds = args.rounds or (1 if args.quick else 2)
    args.past_big = args.past_big or (200_000 if args.quick else 1_000_000)
    args.low_duration = 3.0
    args.low_samples = 1 if args.quick else 2  # per visit of a case
    args.low_pairs = 2 if args.quick else 3  # visits of the 3-tenant and 300-tenant cases, in turn
    return args


def flush_redis(url: str) -> None:
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except Exception as exc:
        log(f"warning: could not empty {url}: {exc}")


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    atexit.register(stop_servers)
    started = datetime.now(timezone.utc)
    t_run = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="amtstermin-bench-"))
    instance = work / "instance"
    instance.mkdir()
    os.environ["AMTSTERMIN_INSTANCE"] = str(instance)
    os.environ.setdefault("SECRET_KEY", "bench-secret-key")

    from bench import load, seed

    loads = {"start": loadavg()}
    log(f"load average {loads['start']}; work dir {work}")
    db_url = seed.reset_database(args.pg, args.db_name)
    app = seed.make_app(db_url, str(instance))
    seed.migrate_and_sync(app)
    seed.set_setting(app, SLUG, "horizon_days", 56)
    town = seed.Town(app, SLUG)
    today = seed.local_today()
    full_until = today + timedelta(days=6 - today.weekday() + 21)  # Sunday of the fourth calendar week
    n_full = seed.seed_full(app, town, today, full_until)
    n_past = seed.seed_past(app, town, args.past_small)
    seed.analyze(app)
    log(f"seeded {n_full} appointments {today}..{full_until} (every counter, every 10 minutes) "
        f"and {n_past} past ones")
    info = machine(db_url)
    flush_redis(args.redis_url)

    env = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=args.redis_url, RATELIMIT_ENABLED="false",
               BASE_DOMAIN="localhost", MAIL_URL="console", AMTSTERMIN_INSTANCE=str(instance),
               SECRET_KEY=os.environ["SECRET_KEY"])
    env.pop("AMTSTERMIN_ENV", None)
    host = f"{SLUG}.localhost"
    results: dict = {"rounds": [], "low": {}, "double": {}, "profiles": []}
    try:
        app_srv = Server("app", "wsgi:app", env, work)
        hello_srv = Server("hello", "bench.hello:app", env, work)
        app_srv.wait_ready("/healthz", host)
        hello_srv.wait_ready("/", "localhost")
        log(f"app on :{app_srv.port}, hello on :{hello_srv.port}, driver "
            f"{'wrk' if args.driver == 'auto' and load.have_wrk() else args.driver}")

        api = "/api/v1/services/" + SERVICE
        w4 = f"{api}/slots?from={today}&to={today + timedelta(days=27)}"
        wx = f"{api}/slots?from={today + timedelta(days=14)}&to={today + timedelta(days=41)}"
        status, body = load.fetch(app_srv.port, f"{api}/slots?from={today}&to={today + timedelta(days=56)}", host)
        import json

        if status != 200:
            raise RuntimeError(f"/slots answered {status}: {body[:300]!r}")
        starts = [s["start"] for s in json.loads(body)["slots"]]
        if not starts:
            raise RuntimeError("no free slot to book in the horizon")
        slot_counts = {name: len(json.loads(load.fetch(app_srv.port, path, host)[1])["slots"])
                       for name, path in (("slots", w4), ("slots_x", wx))}
        log(f"{len(starts)} free starts to book; /slots 4-week window lists {slot_counts['slots']}, "
            f"crossing window {slot_counts['slots_x']}")

        scenarios = [
            ("hello", load.Job(hello_srv.port, "/", "localhost")),
            ("slots", load.Job(app_srv.port, w4, host)),
            ("slots_x", load.Job(app_srv.port, wx, host)),
            ("next", load.Job(app_srv.port, f"{api}/next", host)),
            ("tenant", load.Job(app_srv.port, "/api/v1/tenant", host)),
            ("book", load.Job(app_srv.port, "/api/v1/appointments", host, method="POST", book=True, starts=starts)),
        ]
        # Warm-up: every worker imports, connects and fills its caches before anything counts.
        for name, job in scenarios:
            if job.book:
                continue
            load.run(job, connections=4, duration=1 if args.quick else 2, driver=args.driver)

        meters = {"hello": CpuMeter(hello_srv, None), "app": CpuMeter(app_srv, db_url)}
        for rnd in range(args.rounds):
            loads[f"round {rnd + 1}"] = loadavg()
            row = {}
            for name, job in scenarios:
                if name == "book":
                    job.tag = f"r{rnd + 1}"
                res = measured(load, job, meters["hello" if name == "hello" else "app"],
                               connections=args.connections, duration=args.duration, driver=args.driver)
                row[name] = res
                log(f"round {rnd + 1} {name:8s} {res['rps']:8.1f} req/s  p50 {res['p50_ms']:7.2f} ms  "
                    f"p99 {res['p99_ms']:7.2f} ms  cpu {res['cpu_app_ms']:.2f}+{res['cpu_db_ms']:.2f} ms/req  "
                    f"driver {res['driver_cpu_ms']:.3f} ms/req  codes {res['codes']} {res['errors'] or ''}")
                if name == "book":
                    results["double"][f"after booking round {rnd + 1}"] = seed.double_bookings(app)
                    row["book_created"] = seed.count_rows(
                        app, "SELECT count(*) FROM appointments WHERE email LIKE %(e)s", e=f"bench-r{rnd + 1}-%")
                    seed.delete_bench_bookings(app, f"bench-r{rnd + 1}-%@example.org")
            results["rounds"].append(row)
        summary = summarize(results["rounds"])
        if load.have_wrk() and args.driver != "python":
            # For reference only: the same hello through the Python driver, which is CPU-bound itself.
            ref = measured(load, scenarios[0][1], meters["hello"], connections=args.connections,
                           duration=min(args.duration, 3 if args.quick else 5), driver="python")
            results["hello_python"] = ref
            log(f"hello via the Python driver: {ref['rps']:.0f} req/s, p50 {ref['p50_ms']:.2f} ms, "
                f"driver {ref['driver_cpu_ms']:.3f} ms/req")

        # Profiles of what missed its throughput target, in the state the load ran against.
        want = {"slots": not summary["slots"]["met"], "next": not summary["next"]["met"],
                "book": not summary["book"]["met"]}
        if args.profile != "never":
            prof_app = seed.make_app(db_url, str(instance))
            prof_app.config["REDIS_URL"] = args.redis_url
            from bench import profiling

            jobs = {"slots": ("GET", w4, 40), "next": ("GET", f"{api}/next", 40),
                    "book": ("POST", "/api/v1/appointments", 40)}
            for name, (method, path, n) in jobs.items():
                if args.profile == "always" or want[name]:
                    log(f"profiling {name}")
                    prof = profiling.profile_requests(prof_app, host=host, method=method, path=path, n=n,
                                                      starts=starts)
                    prof["name"] = name
                    prof["state"] = "seeded calendar, 3 tenants, 10k past appointments"
                    prof["sql"] = profiling.sql_count(prof_app, host=host, method=method, path=path, starts=starts)
                    results["profiles"].append(prof)
            seed.delete_bench_bookings(app, "bench-profile-%@example.org")
            prof_app = None

        # Latency at low concurrency. Tenants: A (3) and B (300) measured in turn, towns added and
        # removed in between, so drift in the machine's other load hits both alike. Past
        # appointments: B, then C (1M) bracketed by B again after the big insert is deleted.
        slots_job = load.Job(app_srv.port, w4, host)
        seed.analyze(app, vacuum=True)
        loads["low concurrency"] = loadavg()
        meter = meters["app"]
        n_tenants0 = seed.count_rows(app, "SELECT count(*) FROM tenants")
        label_a = f"{n_tenants0} tenants, {human(args.past_small)} past"
        label_b = label_c = None
        visits: dict[str, list[dict]] = {}
        adjacent: list[dict] = []  # the 10k samples right before the big insert and right after its removal

        def sample(label, k=args.low_samples, mark=""):
            got = low_samples(load, slots_job, meter, args, k)
            visits.setdefault(label, []).extend(got)
            if mark:
                adjacent.extend(got)

        sample(label_a)
        for i in range(args.low_pairs):
            secs = seed.add_towns(app, args.extra_towns)
            seed.analyze(app)
            n_tenants = seed.count_rows(app, "SELECT count(*) FROM tenants")
            label_b = f"{n_tenants} tenants, {human(args.past_small)} past"
            log(f"added {args.extra_towns} towns in {secs:.1f} s ({n_tenants} tenants)")
            time.sleep(2.5)  # the host cache's lifetime: every worker sees the new towns
            sample(label_b, args.low_samples, "before" if i == args.low_pairs - 1 else "")
            if i < args.low_pairs - 1:
                seed.remove_towns(app)
                time.sleep(2.5)
                sample(label_a)
        from bench import profiling

        explain_app = seed.make_app(db_url, str(instance))
        explain = {label_b: profiling.explain_request_sql(explain_app, host=host, path=w4)}
        t0 = time.monotonic()
        added = seed.seed_past(app, town, args.past_big, args.past_small)
        n_past_total = seed.count_rows(app, "SELECT count(*) FROM appointments WHERE ends_at < now()")
        log(f"inserted {added} past appointments in {time.monotonic() - t0:.1f} s ({n_past_total} past in all)")
        label_c = f"{n_tenants} tenants, {human(args.past_big)} past"
        explain[label_c] = profiling.explain_request_sql(explain_app, host=host, path=w4)
        sample(label_c, 2 * args.low_samples)
        results["double"]["with the large past (whole table)"] = seed.double_bookings(app)
        big_profile = None
        if args.profile != "never":
            big_profile = profile_slots(seed, db_url, instance, host, w4,
                                        f"{n_tenants} tenants, {human(n_past_total)} past appointments")
        t0 = time.monotonic()
        removed = seed.remove_past(app, town, args.past_small)
        log(f"deleted {removed} past appointments again in {time.monotonic() - t0:.1f} s")
        sample(label_b, args.low_samples, "after")
        results["low"] = {label: summarize_low(v) for label, v in visits.items()}
        # The big past is compared with the 10k samples taken right before and right after it,
        # under the most similar conditions on the machine.
        label_b_adj = f"{label_b} (right before/after {human(args.past_big)})"
        results["low"][label_b_adj] = summarize_low(adjacent)
        results["explain"] = explain
        scale = {
            "tenants": {"from": label_a, "to": label_b, "ratio": ratio_p50(results["low"], label_a, label_b),
                        "limit": 1 + TARGETS["tenant_growth"]},
            "past": {"from": label_b_adj, "to": label_c, "ratio": ratio_p50(results["low"], label_b_adj, label_c),
                     "limit": 1 + TARGETS["past_growth"]},
        }
        for sc in scale.values():
            sc["met"] = sc["ratio"] <= sc["limit"]
        if big_profile and (args.profile == "always" or not all(sc["met"] for sc in scale.values())):
            results["profiles"].append(big_profile)
        loads["end"] = loadavg()
    finally:
        stop_servers()
        flush_redis(args.redis_url)

    finished = datetime.now(timezone.utc)
    doubles = sum(results["double"].values())
    ctx = {
        "args": args, "argv": argv if argv is not None else sys.argv[1:], "info": info, "loads": loads,
        "started": started, "finished": finished, "minutes": (time.monotonic() - t_run) / 60,
        "today": today, "full_until": full_until, "n_full": n_full, "summary": summary, "results": results,
        "scale": scale, "slot_counts": slot_counts, "n_starts": len(starts), "doubles": doubles,
    }
    report = render(ctx)
    if args.output != "-":
        Path(args.output).write_text(report)
        log(f"wrote {args.output}")
    print(table(ctx))
    if not args.keep_db:
        drop_database(args.pg, args.db_name)
    shutil.rmtree(work, ignore_errors=True)  # kept when the run fails: the servers' logs are there
    if doubles:
        log(f"DOUBLE BOOKINGS FOUND: {results['double']}")
        return 1
    return 0


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    from bench.seed import plain_url

    with psycopg.connect(plain_url(server_url.rstrip("/")) + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def human(n: int) -> str:
    return f"{n / 1e6:.3g}M" if n >= 1e6 else f"{n / 1e3:.3g}k" if n >= 1e3 else str(n)


def low_samples(load, job, meter, args, k: int) -> list[dict]:
    out = []
    for _ in range(k):
        r = measured(load, job, meter, connections=1, duration=args.low_duration, driver=args.driver)
        r["load"] = loadavg()
        out.append(r)
    log("low concurrency: p50 " + ", ".join(f"{r['p50_ms']:.2f}" for r in out) + " ms, server CPU "
        + ", ".join(f"{r['cpu_app_ms'] + r['cpu_db_ms']:.2f}" for r in out) + " ms/req")
    return out


def summarize_low(samples: list[dict]) -> dict:
    """The sample with the lowest median stands for the case: the one least disturbed by
    whatever else runs on the machine. CPU per request: the median of the samples."""
    best = min(samples, key=lambda r: r["p50_ms"])
    return dict(best, samples_p50=[s["p50_ms"] for s in samples],
                cpu_ms=statistics.median(s["cpu_app_ms"] + s["cpu_db_ms"] for s in samples),
                median_p50=statistics.median(s["p50_ms"] for s in samples))


def profile_slots(seed, db_url, instance, host, path, state) -> dict:
    from bench import profiling

    prof_app = seed.make_app(db_url, str(instance))
    log(f"profiling slots ({state})")
    prof = profiling.profile_requests(prof_app, host=host, method="GET", path=path, n=40)
    prof["name"] = "slots"
    prof["state"] = state
    prof["sql"] = profiling.sql_count(prof_app, host=host, method="GET", path=path)
    return prof


def ratio_p50(low: dict, a: str, b: str) -> float:
    return low[b]["p50_ms"] / low[a]["p50_ms"] if low[a]["p50_ms"] else float("inf")


def summarize(rounds: list[dict]) -> dict:
    """Pooled over the rounds: requests per second from all requests and seconds; p50
    the median and p99 the worst of the rounds; each ratio against hello's pooled rate."""
    out = {}
    for name in SCENARIOS:
        rs = [r[name] for r in rounds]
        req = sum(r["requests"] for r in rs)
        secs = sum(r["seconds"] for r in rs)
        codes: dict[int, int] = {}
        for r in rs:
            for k, v in r["codes"].items():
                codes[k] = codes.get(k, 0) + v
        cpu_app = sum(r["cpu_app_ms"] * r["requests"] for r in rs) / (req or 1)
        cpu_db = sum(r["cpu_db_ms"] * r["requests"] for r in rs) / (req or 1)
        drv = sum(r["driver_cpu_ms"] * r["requests"] for r in rs) / (req or 1)
        out[name] = {"rps": req / secs if secs else 0.0, "requests": req, "cpu_app_ms": cpu_app,
                     "cpu_db_ms": cpu_db, "cpu_ms": cpu_app + cpu_db, "driver_cpu_ms": drv,
                     "p50_ms": statistics.median(r["p50_ms"] for r in rs), "p99_ms": max(r["p99_ms"] for r in rs),
                     "codes": codes, "errors": [r["errors"] for r in rs if r["errors"]],
                     "round_rps": [r["rps"] for r in rs]}
    hello = out["hello"]["rps"] or 1e-9
    for name, s in out.items():
        s["ratio"] = s["rps"] / hello
        s["cpu_ratio"] = s["cpu_ms"] / out["hello"]["cpu_ms"] if out["hello"]["cpu_ms"] else 0.0
        s["p50_ratio"] = s["p50_ms"] / out["hello"]["p50_ms"] if out["hello"]["p50_ms"] else 0.0
        s["p99_ratio"] = s["p99_ms"] / out["hello"]["p99_ms"] if out["hello"]["p99_ms"] else 0.0
    for name in ("slots", "slots_x"):
        out[name]["met"] = out[name]["ratio"] >= TARGETS["slots_ratio"] and out[name]["p99_ms"] <= TARGETS["slots_p99_ms"]
    out["next"]["met"] = out["next"]["ratio"] >= TARGETS["next_ratio"]
    out["book"]["met"] = out["book"]["ratio"] >= TARGETS["book_ratio"]
    out["hello"]["met"] = None
    out["tenant"]["met"] = None
    return out


# --- report -------------------------------------------------------------------------------
SCENARIOS = ("hello", "slots", "slots_x", "next", "book", "tenant")
LABELS = {
    "hello": "hello (bare Flask, `GET /`)",
    "tenant": "`GET /api/v1/tenant` (reference: the app's floor, one light query)",
    "slots": "(a) `GET …/personalausweis/slots`, today … today+27",
    "slots_x": "(a′) `GET …/slots`, today+14 … today+41 (2 full + 2 free weeks)",
    "next": "(b) `GET …/personalausweis/next`",
    "book": "(c) `POST /api/v1/appointments` (attempts)",
}
TARGET_TEXT = {
    "hello": "—",
    "tenant": "—",
    "slots": "≥ 0.40 × hello and p99 ≤ 25 ms",
    "slots_x": "(same as (a))",
    "next": "≥ 0.50 × hello",
    "book": "≥ 0.20 × hello",
}


def driver_text(res, info) -> str:
    if res["rounds"] and res["rounds"][0]["hello"]["driver"] == "wrk":
        return f"`{info['wrk']}` (2 threads, Lua script; a separate process)"
    return "the Python driver in bench/load.py (http.client, threads in 4 processes)"


def verdict(met) -> str:
    return "—" if met is None else ("**met**" if met else "**missed**")


def table(ctx) -> str:
    s = ctx["summary"]
    lines = ["| scenario | req/s | × hello | p50 ms | × hello | p99 ms | × hello | server CPU ms/req (app + db) "
             "| target | |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for name in SCENARIOS:
        r = s[name]
        lines.append(f"| {LABELS[name]} | {r['rps']:.0f} | {r['ratio']:.3f} | {r['p50_ms']:.1f} | "
                     f"{r['p50_ratio']:.1f} | {r['p99_ms']:.1f} | {r['p99_ratio']:.1f} | "
                     f"{r['cpu_app_ms']:.2f} + {r['cpu_db_ms']:.2f} | {TARGET_TEXT[name]} | {verdict(r['met'])} |")
    ref = ctx["results"].get("hello_python")
    if ref:
        lines.append(f"| hello through the Python driver (reference, not a target) | {ref['rps']:.0f} | "
                     f"{ref['rps'] / (s['hello']['rps'] or 1):.3f} | {ref['p50_ms']:.1f} | | {ref['p99_ms']:.1f} | | "
                     f"{ref['cpu_app_ms']:.2f} + 0 | — | — |")
    low = ctx["results"]["low"]
    lines += ["", "| /slots (a) at 1 connection | p50 ms (best sample) | its p99 ms | median p50 ms | "
              "samples (p50 ms, in order) | server CPU ms/req (median) |",
              "|---|---:|---:|---:|---|---:|"]
    for key, r in low.items():
        lines.append(f"| {key} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['median_p50']:.2f} | "
                     f"{', '.join(f'{x:.2f}' for x in r['samples_p50'])} | {r['cpu_ms']:.2f} |")
    lines += ["", "| growth | p50 after / before | (server CPU after / before) | target | |", "|---|---:|---:|---|---|"]
    for key, sc in ctx["scale"].items():
        cpu = low[sc["to"]]["cpu_ms"] / low[sc["from"]]["cpu_ms"] if low[sc["from"]]["cpu_ms"] else 0.0
        lines.append(f"| {sc['from']} → {sc['to']} | {sc['ratio']:.3f} | ({cpu:.3f}) | ≤ {sc['limit']:.2f} | "
                     f"{verdict(sc['met'])} |")
    lines.append(f"| double bookings (SQL self-join) | {ctx['doubles']} | | 0 | {verdict(ctx['doubles'] == 0)} |")
    ex = {k: v for k, v in (ctx["results"].get("explain") or {}).items() if v}
    if ex:
        lines += ["", "| /slots' appointment read as the app sends it, EXPLAIN (ANALYZE, BUFFERS), warm | rows "
                  "| buffer accesses | ms | plan |", "|---|---:|---:|---:|---|"]
        for key, e in ex.items():
            lines.append(f"| {key} | {e['rows']} | {e['buffers']} | {e['ms']:.2f} | "
                         f"{', '.join(e['nodes'])} on {', '.join(e['indexes']) or '—'} |")
    return "\n".join(lines)


def render(ctx) -> str:
    a, info, s, res = ctx["args"], ctx["info"], ctx["summary"], ctx["results"]
    cmd = ".venv/bin/python -m bench.run" + (" " + shlex.join(ctx["argv"]) if ctx["argv"] else "")
    book = s["book"]
    created = [r.get("book_created", 0) for r in res["rounds"]]
    out = [
        "# Benchmarks",
        "",
        "Written by `bench/run.py` (issue 3, point 6) — rerun it to refresh this page; it is a",
        "benchmark, not a test. `make bench` runs it with the defaults.",
        "",
        f"- **Date:** {ctx['started']:%Y-%m-%d %H:%M} – {ctx['finished']:%H:%M} UTC ({ctx['minutes']:.1f} min)",
        f"- **Command:** `{cmd}`",
        f"- **Code measured:** {info['commit']}",
        f"- **Machine:** {info['nproc']} CPUs (`nproc`), {info['cpu']}, Linux {info['kernel']}",
        f"- **Software:** Python {info['python']}, PostgreSQL {info['postgres']}, {info['gunicorn']}, "
        f"load generator {driver_text(res, info)}",
        "- **Load average (1/5/15 min)** — the benchmark's own servers and load generator count in it; above ~2 on",
        "  2 cores something else ran too, and absolute numbers get noisy (ratios against hello, measured in the same round, less so):",
    ]
    out += [f"  - {k}: {v}" for k, v in ctx["loads"].items()]
    out += ["", "`free -h`:", "", "```", info["free"], "```", ""]
    out += [
        "## Set-up",
        "",
        f"- Own database `{a.db_name}` (dropped and created), migrated, demo tenants synced; Steinfurt's",
        "  `horizon_days` set to 56 (8 weeks); its office has four counters, `held_back_share` 0.25.",
        f"- The rush: every counter booked solid from {ctx['today']} to {ctx['full_until']} (the first four",
        f"  calendar weeks, this one counted; {ctx['n_full']} appointments of 10 minutes, one per counter and slot,",
        "  bulk-inserted with COPY under the overlap constraint). Weeks 5–8 are free.",
        f"  {a.past_small // 1000}k completed past appointments on the same counters.",
        f"- (a) asks for the window today … today+27 as specified; with the rush ending on a Sunday it lists",
        f"  only {ctx['slot_counts']['slots']} starts (the days after {ctx['full_until']}). (a′) is the same request",
        f"  over today+14 … today+41, which crosses two full and two free weeks and lists",
        f"  {ctx['slot_counts']['slots_x']} starts.",
        f"- (c) each attempt books `personalausweis` for a fresh e-mail at a start drawn at random from the",
        f"  {ctx['n_starts']} free starts `/slots` listed before the round; 201 and 409 both count as an attempt.",
        "  The round's bookings are deleted afterwards, so every round starts from the same calendar.",
        "- Served with `gunicorn -w 2 -b 127.0.0.1:PORT wsgi:app` (sync workers), env",
        "  `RATELIMIT_ENABLED=false`, `REDIS_URL` (mail jobs are queued there; no worker runs, the queue is",
        "  emptied afterwards), `MAIL_URL=console`, `AMTSTERMIN_INSTANCE` a temporary directory. The hello app",
        "  (`bench/hello.py`) is served by `gunicorn -w 2 -b 127.0.0.1:PORT bench.hello:app` at the same time.",
        f"- Load: {a.connections} concurrent connections, {a.duration:g} s per scenario, {a.rounds} round(s) of",
        "  hello → (a) → (a′) → (b) → (c) → tenant, after a short warm-up of each GET. Requests/s pool all rounds;",
        "  p50 is the median, p99 the worst of the rounds. Gunicorn's sync workers close every connection, so",
        "  each request includes a TCP connect (the same for hello).",
        "- Server CPU ms/req: user + system CPU of the two gunicorn workers (app) and of the PostgreSQL",
        "  backends connected to the benchmark database (db) over the scenario, divided by its requests —",
        "  the cost of one request, which the other load on the machine disturbs far less than req/s.",
        "  The load generator's own CPU is listed below (it runs in separate processes).",
        "",
        "## Results",
        "",
        table(ctx),
        "",
        "Status codes and attempts:",
        "",
    ]
    for name in SCENARIOS:
        r = s[name]
        errs = f"; socket errors {r['errors']}" if r["errors"] else ""
        out.append(f"- {name}: {r['requests']} requests, codes {dict(sorted(r['codes'].items()))}, "
                   f"req/s per round {', '.join(f'{x:.0f}' for x in r['round_rps'])}, load generator "
                   f"{r['driver_cpu_ms']:.3f} CPU ms/request{errs}")
    n201 = book["codes"].get(201, 0)
    n409 = book["codes"].get(409, 0)
    out += [
        f"- booking attempts: {n201} × 201 (booked), {n409} × 409 (taken), "
        f"{book['requests'] - n201 - n409} other; rows created per round {created}",
        f"- double bookings (active, not overbooked appointments overlapping on one counter, SQL self-join): "
        + ", ".join(f"{k}: {v}" for k, v in res["double"].items()),
        "",
        "Latency of /slots (a) at one connection, before and after growing the data. Samples of",
        f"{a.low_duration:g} s; the 3-tenant and the 300-tenant case are visited {a.low_pairs} times each in turn",
        f"({a.low_samples} sample(s) per visit; the {a.extra_towns} towns are added with `create_town` from the district",
        "template in one transaction and deleted again in between), then the large past is inserted",
        "(completed, anonymised appointments back to back on Steinfurt's four counters, the worst place",
        "for them, `INSERT … SELECT generate_series`), measured, deleted, and the 10k case measured once",
        "more. Each case keeps its sample with the lowest median — the one least disturbed by the other",
        "load on the machine — and the growth compares those (the large past against the 10k samples",
        "taken right before and right after it); the median server CPU per request and the pages the",
        "appointment read touches are shown as second opinions. Tables are `VACUUM ANALYZE`d after",
        "every bulk change.",
        "",
    ]
    ex = [e for e in (res.get("explain") or {}).values() if e]
    if ex:
        out += ["The appointment read of (a), as captured from the app and explained above:", "", "```sql",
                ex[0]["statement"], "```", ""]
    out += ["## Profiles", ""]
    if not res["profiles"]:
        out += ["No target was missed, so nothing was profiled (`--profile always` profiles anyway).", ""]
    for prof in res["profiles"]:
        out += [
            f"### {prof['name']}: {prof['method']} {prof['path']}",
            "",
            f"cProfile of {prof['n']} requests through the Flask test client in one process ({prof['state']}): "
            f"{prof['wall_ms']:.1f} ms per request under the profiler, {prof['sql']} SQL statements per request, "
            f"{prof['calls_per_request']:.0f} Python function calls per request; statuses {prof['statuses']}.",
            "",
            "By cumulative time (request plumbing above 97 % left out):",
            "",
            "| function | calls/request | cumulative % | ms/request |",
            "|---|---:|---:|---:|",
        ]
        out += [f"| `{r['func']}` | {r['calls'] / prof['n']:.0f} | {r['cum_pct']:.1f} | {r['cum_ms']:.2f} |"
                for r in prof["by_cum"]]
        out += ["", "By own time:", "", "| function | calls/request | own % | ms/request |", "|---|---:|---:|---:|"]
        out += [f"| `{r['func']}` | {r['calls'] / prof['n']:.0f} | {r['own_pct']:.1f} | {r['own_ms']:.2f} |"
                for r in prof["by_own"]]
        out.append("")
    notes = ROOT / "bench" / "analysis.md"
    if notes.exists():
        out += [notes.read_text().rstrip(), ""]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        stop_servers()
        sys.exit(130)
