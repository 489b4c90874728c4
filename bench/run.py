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
import shutil
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from redis import Redis

from bench import load, seed
from bench.mail import MailSink
from bench.report import merge_page, render, table
from bench.rounds import HOST, SLUG, Bench, profile_missed, scale_rounds, scenarios, throughput_rounds
from bench.seed import plain_url
from bench.servers import (ROOT, CpuMeter, JobsWorker, Server, app_env, free_port, loadavg, log, machine, on_signal,
                           stop_servers)


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_signal)
    atexit.register(stop_servers)
    started, t_run = datetime.now(timezone.utc), time.monotonic()
    bench = seed_the_rush(args)
    bench.sink = MailSink(free_port())
    try:
        bench.sink.start()
        app_srv, hello_srv = start_servers(bench)
        jobs, starts, slot_counts = scenarios(bench, app_srv, hello_srv)
        meters = {"hello": CpuMeter(hello_srv, None), "app": CpuMeter(app_srv, bench.db_url)}
        summary = throughput_rounds(bench, jobs, meters)
        # Stopped after the storm: its sweep every 10 s over all tenants would fall on the
        # 300-tenant samples, and the mail profile runs the mail job in this process instead.
        bench.servers.pop("worker").stop()
        profile_missed(bench, summary, starts)
        scale = scale_rounds(bench, app_srv, meters["app"])
        bench.loads["end"] = loadavg()
    finally:
        stop_servers()
        bench.sink.stop()
        flush_redis(args.redis_url)
    doubles = sum(bench.results["double"].values())
    write_report({
        "args": args, "argv": argv if argv is not None else sys.argv[1:], "info": bench.info, "loads": bench.loads,
        "started": started, "finished": datetime.now(timezone.utc), "minutes": (time.monotonic() - t_run) / 60,
        "today": bench.today, "full_until": bench.full_until, "n_full": bench.n_full, "summary": summary,
        "results": bench.results, "scale": scale, "slot_counts": slot_counts, "n_starts": len(starts),
        "doubles": doubles, "make": bool(os.environ.get("BENCH_VIA_MAKE")),
    })
    if not args.keep_db:
        drop_database(args.pg, args.db_name)
    shutil.rmtree(bench.work, ignore_errors=True)  # kept when the run fails: the servers' logs are there
    if doubles:
        log(f"DOUBLE BOOKINGS FOUND: {bench.results['double']}")
        return 1
    return 0


def seed_the_rush(args) -> Bench:
    """A fresh database with the demo tenants and Steinfurt's rush: every counter booked
    solid for the first four calendar weeks of an eight-week horizon, plus past appointments."""
    work = Path(tempfile.mkdtemp(prefix="amtstermin-bench-"))
    instance = work / "instance"
    instance.mkdir()
    os.environ["AMTSTERMIN_INSTANCE"] = str(instance)
    os.environ.setdefault("SECRET_KEY", "bench-secret-key")
    loads = {"start": loadavg()}
    log(f"load average {loads['start']}; work dir {work}")
    rush = seed.seed_rush(args.pg, args.db_name, str(instance), SLUG, args.past_small)
    log(f"seeded {rush.n_full} appointments {rush.today}..{rush.full_until} (every counter, every 10 minutes) "
        f"and {rush.n_past} past ones")
    info = machine(rush.db_url)
    flush_redis(args.redis_url)
    return Bench(args=args, work=work, instance=instance, db_url=rush.db_url, app=rush.app, town=rush.town,
                 today=rush.today, full_until=rush.full_until, n_full=rush.n_full, info=info, loads=loads)


def start_servers(bench: Bench) -> tuple[Server, Server]:
    """The app and a bare Flask hello, both under gunicorn with the same settings, and the
    jobs worker delivering the app's mail to the benchmark's SMTP server."""
    env = app_env(bench.db_url, bench.args.redis_url, bench.instance, mail_url=f"smtp://127.0.0.1:{bench.sink.port}")
    app_srv = Server("app", "wsgi:app", env, bench.work)
    hello_srv = Server("hello", "bench.hello:app", env, bench.work)
    worker = JobsWorker(env, bench.work)
    app_srv.wait_ready("/healthz", HOST)
    hello_srv.wait_ready("/", "localhost")
    worker.wait_ready(bench.args.redis_url)
    bench.servers.update(app=app_srv, hello=hello_srv, worker=worker)
    log(f"app on :{app_srv.port}, hello on :{hello_srv.port}, jobs worker pid {worker.proc.pid}, SMTP on "
        f":{bench.sink.port}, driver {'wrk' if bench.args.driver == 'auto' and load.have_wrk() else bench.args.driver}")
    return app_srv, hello_srv


def write_report(ctx: dict) -> None:
    report = render(ctx)
    if ctx["args"].output != "-":
        out = Path(ctx["args"].output)
        out.write_text(merge_page(out.read_text() if out.exists() else None, report))
        log(f"wrote {ctx['args'].output}")
    print(table(ctx))


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
    p.add_argument("--mail-wait", type=float, default=120.0,
                   help="seconds to wait after a booking round for every booking's mail (default 120)")
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
        Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except Exception as exc:
        log(f"warning: could not empty {url}: {exc}")


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(plain_url(server_url.rstrip("/")) + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        stop_servers()
        sys.exit(130)
