"""/slots (a) at one connection as a time series around the large past's bulk insert
(issue 18, the growth with past appointments): `.venv/bin/python -m bench.growth_series`.

bench/run.py compares a few samples taken before and after the insert; this follows the
same request for minutes on either side, with a hello sample after each one as the
machine's own noise, and notes what PostgreSQL did meanwhile (checkpoints, WAL, autovacuum).
Phases: 10k past; the large past inserted (with run.py's VACUUM ANALYZE), sampled at once;
CHECKPOINT, sampled again; deleted, sampled at once; CHECKPOINT, sampled again. It prints
one JSON line per sample and a summary per phase; a benchmark, not a test.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from bench import load, seed
from bench.run import drop_database, flush_redis, parse_args as bench_args, seed_the_rush
from bench.rounds import HOST
from bench.servers import CpuMeter, Server, app_env, loadavg, log, measured, stop_servers


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.growth_series", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db-name", default="amtstermin_bench_series")
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"))
    p.add_argument("--past-big", type=int, default=1_000_000)
    p.add_argument("--samples", type=int, default=8, help="samples per phase (the raw phase after the insert: twice)")
    p.add_argument("--seconds", type=float, default=2.0, help="seconds per /slots sample (hello: half)")
    opts = p.parse_args(argv)
    args = bench_args(["--db-name", opts.db_name, "--redis-url", opts.redis_url, "--quick"])
    bench = seed_the_rush(args)
    env = app_env(bench.db_url, args.redis_url, bench.instance)
    rows: list[dict] = []
    try:
        app_srv = Server("app", "wsgi:app", env, bench.work)
        hello_srv = Server("hello", "bench.hello:app", env, bench.work)
        app_srv.wait_ready("/healthz", HOST)
        hello_srv.wait_ready("/", "localhost")
        meter, hello_meter = CpuMeter(app_srv, bench.db_url), CpuMeter(hello_srv, None)
        job = load.Job(app_srv.port, bench.window, HOST)
        hello = load.Job(hello_srv.port, "/", "localhost")
        load.run(job, connections=1, duration=2.0)
        t0 = time.monotonic()

        def phase(tag: str, n: int) -> None:
            for _ in range(n):
                before = seed.db_activity(bench.app)
                r = measured(load, job, meter, connections=1, duration=opts.seconds)
                after = seed.db_activity(bench.app)
                h = measured(load, hello, hello_meter, connections=1, duration=opts.seconds / 2)
                row = {"phase": tag, "t_s": round(time.monotonic() - t0, 1), "p50_ms": round(r["p50_ms"], 2),
                       "cpu_ms": round(r["cpu_app_ms"] + r["cpu_db_ms"], 2), "hello_p50_ms": round(h["p50_ms"], 2),
                       "checkpoints": after["checkpoints"] - before["checkpoints"],
                       "wal_mib": round((after["wal_bytes"] - before["wal_bytes"]) / 2**20, 1),
                       "autovacuum": max(before["autovacuum"], after["autovacuum"]), "load": loadavg().split()[0]}
                rows.append(row)
                print(json.dumps(row), flush=True)

        phase("10k", opts.samples)
        t = time.monotonic()
        n = seed.seed_past(bench.app, bench.town, opts.past_big, args.past_small)
        log(f"inserted {n} past appointments in {time.monotonic() - t:.1f} s (VACUUM ANALYZE included)")
        phase("large, at once", 2 * opts.samples)
        log(f"settled: {seed.settle(bench.app)}")
        phase("large, after CHECKPOINT", opts.samples)
        t = time.monotonic()
        n = seed.remove_past(bench.app, bench.town, args.past_small)
        log(f"deleted {n} in {time.monotonic() - t:.1f} s")
        phase("10k again, at once", opts.samples)
        log(f"settled: {seed.settle(bench.app)}")
        phase("10k again, after CHECKPOINT", opts.samples)
    finally:
        stop_servers()
        flush_redis(args.redis_url)
        drop_database(args.pg, args.db_name)
    print("| phase | samples | p50 ms: best, median | server CPU ms/req: median | hello p50 ms: median |")
    print("|---|---:|---|---:|---:|")
    for tag in dict.fromkeys(r["phase"] for r in rows):
        rs = [r for r in rows if r["phase"] == tag]
        print(f"| {tag} | {len(rs)} | {min(r['p50_ms'] for r in rs):.2f}, "
              f"{statistics.median(r['p50_ms'] for r in rs):.2f} | {statistics.median(r['cpu_ms'] for r in rs):.2f} | "
              f"{statistics.median(r['hello_p50_ms'] for r in rs):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
