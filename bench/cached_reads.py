"""Server CPU per request of the cached reads against hello, and nothing else (issue 18):
`.venv/bin/python -m bench.cached_reads --db-name amtstermin_bench_h2 --redis-url redis://127.0.0.1:6379/2`.

Seeds the rush like bench/run.py (or reuses the database with `--reuse`), serves the app
and bench/hello.py with `gunicorn -w 2` (sync), and runs hello → (a) /slots → (b) /next
interleaved for a few rounds with wrk, printing the worker CPU ms per request and its
ratio to hello's. A quick check while working on the hit path; `make bench` stays the
benchmark of record.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from bench import load, seed
from bench.rounds import API, HOST, SLUG
from bench.servers import VENV_BIN, CpuMeter, Server, app_env, loadavg, log, measured, stop_servers


def served(name: str, target: str, env: dict, work: Path, port: int) -> Server:
    srv = Server(name, target, env, work, cmd=[str(VENV_BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", target])
    srv.port = port
    return srv


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.cached_reads", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432"))
    p.add_argument("--db-name", default="amtstermin_bench")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    p.add_argument("--reuse", action="store_true", help="the database is seeded already")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=5)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--port", type=int, default=18200, help="the app's port; hello's is the next one")
    p.add_argument("--flask", action="store_true",
                   help="also serve the app with FASTPATH=false (port + 2) and measure its hits, interleaved")
    p.add_argument("--ratelimit", action="store_true", help="serve with RATELIMIT_ENABLED=true")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="amtstermin-cached-"))
    os.environ.setdefault("SECRET_KEY", "bench-secret-key")
    os.environ["AMTSTERMIN_INSTANCE"] = str(work)
    if args.reuse:
        db_url = f"{args.pg.rstrip('/')}/{args.db_name}"
    else:
        db_url = seed.seed_rush(args.pg, args.db_name, str(work), SLUG, 10_000).db_url
    today = seed.local_today()
    env = app_env(db_url, args.redis_url, work, ratelimit=args.ratelimit)
    try:
        app_srv = served("app", "wsgi:app", env, work, args.port)
        hello_srv = served("hello", "bench.hello:app", env, work, args.port + 1)
        app_srv.wait_ready("/healthz", HOST)
        hello_srv.wait_ready("/", "localhost")
        window = f"{API}/slots?from={today}&to={today + timedelta(days=27)}"
        jobs = [("hello", load.Job(hello_srv.port, "/", "localhost")),
                ("slots", load.Job(app_srv.port, window, HOST)),
                ("next", load.Job(app_srv.port, f"{API}/next", HOST))]
        meters = {"hello": CpuMeter(hello_srv, None), "app": CpuMeter(app_srv, db_url)}
        if args.flask:
            flask_srv = served("flask", "wsgi:app", dict(env, FASTPATH="false"), work, args.port + 2)
            flask_srv.wait_ready("/healthz", HOST)
            jobs += [("slots-flask", load.Job(flask_srv.port, window, HOST)),
                     ("next-flask", load.Job(flask_srv.port, f"{API}/next", HOST))]
            meters["flask"] = CpuMeter(flask_srv, db_url)
        for _, job in jobs:
            load.run(job, connections=4, duration=1)
        cpu: dict[str, list[float]] = {name: [] for name, _ in jobs}
        for rnd in range(args.rounds):
            for name, job in jobs:
                res = measured(load, job, meters["flask" if name.endswith("-flask") else "hello" if name == "hello" else "app"],
                               connections=args.connections, duration=args.duration)
                cpu[name].append(res["cpu_app_ms"] + res["cpu_db_ms"])
                log(f"round {rnd + 1} {name:11s} {res['rps']:7.0f} req/s p99 {res['p99_ms']:6.1f} ms "
                    f"cpu {res['cpu_app_ms']:.3f}+{res['cpu_db_ms']:.3f} ms/req codes {res['codes']} load {loadavg()}")
        hello = statistics.median(cpu["hello"])
        for name, values in cpu.items():
            mid = statistics.median(values)
            print(f"{name:11s} median CPU {mid:.3f} ms/req  hello/this {hello / mid:.3f}")
    finally:
        stop_servers()
    return 0


if __name__ == "__main__":
    sys.exit(main())
