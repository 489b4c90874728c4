"""What one confirmation costs the jobs worker: `.venv/bin/python -m bench.mail_cost`.

Books N appointments through the test client (their mail jobs queued in Redis, no worker
running), then works the queue once in this process with the project's worker class
(`app.jobs.worker.AppWorker`, burst) against an aiosmtpd server in a thread, and prints
the worker's CPU ms, SQL statements and Python calls per mail (and, with --profile, the
top of the profile). Its own database (dropped and created); a measurement, not a test.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import tempfile
import time

from redis import Redis
from sqlalchemy import event

from app.extensions import db
from app.jobs.queue import QUEUES, queue, redis_connection
from app.jobs.worker import AppWorker
from bench import seed
from bench.mail import MailSink, match_mail
from bench.rounds import API, HOST
from bench.servers import free_port, loadavg


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.mail_cost", description=__doc__)
    p.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    p.add_argument("--db-name", default="amtstermin_bench_mail")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    p.add_argument("-n", type=int, default=100, help="bookings (and confirmations) per run (default 100)")
    p.add_argument("--profile", action="store_true", help="print the top of the worker's cProfile")
    args = p.parse_args(argv)

    instance = tempfile.mkdtemp(prefix="amtstermin-mailcost-")
    os.environ.setdefault("SECRET_KEY", "bench-secret-key")
    url = seed.reset_database(args.pg, args.db_name)
    app = seed.make_app(url, instance)
    seed.migrate_and_sync(app)
    Redis.from_url(args.redis_url).flushdb()
    sink = MailSink(free_port()).start()
    app.config.update(REDIS_URL=args.redis_url, MAIL_URL=f"smtp://127.0.0.1:{sink.port}")
    try:
        client = app.test_client()
        body = client.get(f"{API}/slots", headers={"Host": HOST}).get_data()
        starts = [s["start"] for s in json.loads(body)["slots"]]
        statements = [0]
        wall = cpu = 0.0
        n_jobs = 0

        def count(*_a, **_k):
            statements[0] += 1

        prof = cProfile.Profile() if args.profile else None

        def work() -> None:
            nonlocal wall, cpu, n_jobs
            with app.app_context():
                n_jobs += queue("mail").count
                engine = db.engine
                event.listen(engine, "before_cursor_execute", count)
                worker = AppWorker([queue(name) for name in QUEUES], connection=redis_connection())
                t0, c0 = time.perf_counter(), time.process_time()
                if prof:
                    prof.enable()
                worker.work(burst=True, with_scheduler=False)
                if prof:
                    prof.disable()
                wall, cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
                event.remove(engine, "before_cursor_execute", count)

        booked = 0
        for i, start in enumerate(starts):
            r = client.post("/api/v1/appointments", headers={"Host": HOST}, json={
                "service": "personalausweis", "start": start, "name": "Bench Citizen",
                "email": f"bench-mc-{i}@example.org"})
            booked += r.status_code == 201
            if booked >= args.n:
                break
        work()
        sink.wait_for({f"bench-mc-{i}@example.org" for i in range(booked)}, 10)
        got = match_mail(seed.booked_at(app, "bench-mc-%@example.org"), sink.arrivals())
        n = got["delivered"] or 1
        print(f"bookings {booked}, mail jobs {n_jobs}, delivered {got['delivered']}, duplicates {got['duplicates']}, "
              f"missing {got['missing']}")
        print(f"worker: {1000 * cpu / n:.2f} ms CPU/mail, {1000 * wall / n:.2f} ms wall/mail, "
              f"{statements[0] / n:.2f} statements/mail" + (
                  f", {sum(s[1] for s in pstats.Stats(prof).stats.values()) / n:.0f} Python calls/mail" if prof else "")
              + f"; load average {loadavg()}")
        if prof:
            stats = pstats.Stats(prof)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(40)
    finally:
        sink.stop()
        Redis.from_url(args.redis_url).flushdb()
        with app.app_context():
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
