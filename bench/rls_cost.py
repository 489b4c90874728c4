"""What row-level security costs per request: the same requests against the code before
and after it, each on its own fresh database, served by gunicorn (2 sync workers), driven
by the bench's load generator, in interleaved rounds.

    git archive <commit-before> | tar -x -C /tmp/before
    .venv/bin/python -m bench.rls_cost --before /tmp/before [--rounds 3 --duration 10]

"after" is this working tree, run as the app role `amtstermin_app` (DATABASE_ROLE), so every
policy applies; "before" is the other tree as it ran then. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import load
from bench.run import free_port
from bench.seed import reset_database

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PATHS = {
    "services": "/api/v1/services",
    "next": "/api/v1/services/personalausweis/next",
    "slots": "/api/v1/services/personalausweis/slots",
    "page": "/services/personalausweis",
}


class Gunicorn:
    """`gunicorn -w 2` serving one tree, in its own process group (stopped by its own pid)."""

    def __init__(self, tree: Path, env: dict):
        self.port = free_port()
        self.proc = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{self.port}",
                                      "wsgi:app"], cwd=tree, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if load.fetch(self.port, "/api/v1/services", "steinfurt.localhost")[0] == 200:
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"gunicorn for {tree} did not come up")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)


def prepare(tree: Path, db_url: str, env: dict) -> None:
    for args in (["db", "upgrade"], ["tenants", "sync", str(tree / "tenants")]):
        subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=tree, env=env, check=True,
                       stdout=subprocess.DEVNULL)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.rls_cost", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", required=True, help="a checkout of the code without row-level security")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--connections", type=int, default=8)
    args = p.parse_args(argv)
    sides = {"before": Path(args.before).resolve(), "after": ROOT}
    servers = {}
    for label, tree in sides.items():
        db_url = reset_database(args.pg, f"amtstermin_bench_rls_{label}")
        env = dict(os.environ, DATABASE_URL=db_url, RATELIMIT_ENABLED="false", MAIL_URL="console",
                   AMTSTERMIN_INSTANCE=tempfile.mkdtemp(prefix=f"rls-{label}-"), PYTHONPATH=str(tree))
        env.pop("REDIS_URL", None)
        if label == "after":
            env["DATABASE_ROLE"] = "amtstermin_app"
        prepare(tree, db_url, env)
        servers[label] = Gunicorn(tree, env)
    results: dict[tuple[str, str], list[dict]] = {}
    try:
        for label, server in servers.items():  # warm-up
            for path in PATHS.values():
                load.run(load.Job(server.port, path, "steinfurt.localhost"), connections=2, duration=1)
        for _ in range(args.rounds):
            for name, path in PATHS.items():
                for label, server in servers.items():
                    res = load.run(load.Job(server.port, path, "steinfurt.localhost"),
                                   connections=args.connections, duration=args.duration)
                    bad = {c: n for c, n in res["codes"].items() if str(c) != "200"}
                    if bad or res.get("errors"):
                        raise SystemExit(f"{label} {path}: {bad} {res.get('errors')}")
                    results.setdefault((name, label), []).append(res)
    finally:
        for server in servers.values():
            server.stop()
    print("| request | before req/s | after req/s | change | before p50 ms | after p50 ms | "
          "after − before per request |")
    print("|---|---|---|---|---|---|---|")
    for name in PATHS:
        b, a = results[(name, "before")], results[(name, "after")]
        rb = statistics.median(r["rps"] for r in b)
        ra = statistics.median(r["rps"] for r in a)
        pb = statistics.median(r["p50_ms"] for r in b)
        pa = statistics.median(r["p50_ms"] for r in a)
        per = (1 / ra - 1 / rb) * 1000 * 2  # two workers: wall ms of one worker per request
        print(f"| `{PATHS[name]}` | {rb:.0f} | {ra:.0f} | {100 * (ra - rb) / rb:+.1f} % | {pb:.1f} | {pa:.1f} | "
              f"{per:+.2f} ms |")
    print(f"\n{args.rounds} rounds × {args.duration:.0f} s × {len(PATHS)} requests per side, interleaved; "
          f"{args.connections} connections; medians of the rounds; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
