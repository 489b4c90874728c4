"""Pilot statistics at district scale: a year of 24 towns, the district overview timed.

    .venv/bin/python -m bench.statistics [--towns 24] [--appointments 500000] [--runs 5]

Needs PostgreSQL on 127.0.0.1 (BENCH_PG, default postgresql+psycopg://postgres@127.0.0.1:5432).
On its own database `amtstermin_bench_stats` (dropped and created): migrate, sync the demo
tenants, onboard towns from the district's template until there are --towns, bulk-insert
the appointments of the last 365 days with COPY (5-minute appointments on free counter
slots, mixed sources and outcomes, under the overlap constraint), then fill the daily
figures with `rebuild()` — the bulk path, which runs the same per-appointment
contribution as the incremental one — and the days-until-free line with synthetic values
(that one is recorded day by day and cannot be rebuilt). The incremental path is timed on
its own: changes to seeded appointments through the ORM, then the fold.

Then district IT's GET /admin/statistics on the district's host is timed in-process (Flask
test client, no network), median of --runs after a warm-up, for the last four weeks and
for the whole year, and a town's page and the CSV of the daily rows besides. The result
goes into docs/benchmarks.md between the statistics markers.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics as stats
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psycopg
from sqlalchemy import select, text

from app import ROOT
from app.extensions import db
from bench.run import machine
from bench.seed import make_app, migrate_and_sync, plain_url, reset_database

DB_NAME = "amtstermin_bench_stats"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- statistics:begin -->", "<!-- statistics:end -->"
SLOT = timedelta(minutes=5)  # the template towns have two counters: short slots make room for a year
SOURCES = (("online", 0.70), ("phone", 0.25), ("emergency", 0.05))
OUTCOMES = (("completed", 0.84), ("cancelled", 0.08), ("no_show", 0.05), ("booked", 0.03))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pick(rng: random.Random, table) -> str:
    r, acc = rng.random(), 0.0
    for value, share in table:
        acc += share
        if r < acc:
            return value
    return table[-1][0]


def onboard(app, towns: int) -> list[tuple[int, str]]:
    from app.onboarding.sync import create_town
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants
    from app.transaction import commit

    with app.app_context():
        with all_tenants():
            have = db.session.scalar(select(db.func.count()).select_from(Tenant).where(Tenant.parent_id.is_not(None)))
        for i in range(have, towns):
            create_town(f"gemeinde-{i:02d}", f"Gemeinde {i:02d}", "kreis-steinfurt")
            commit()
        with all_tenants():
            return [(t.id, t.slug) for t in db.session.scalars(
                select(Tenant).where(Tenant.parent_id.is_not(None)).order_by(Tenant.slug))]


def seed_town(app, tenant_id: int, first: date, last: date, share: float, rng: random.Random,
              count_only: bool = False) -> int:
    """Appointments on a share of the free counter slots of every office (or only count the slots)."""
    from app.catalog.models import Service
    from app.offices.models import Office
    from app.scheduling.slots import Policy
    from app.statistics.recording import office_schedule
    from app.tenancy.resolve import tenant_info
    from app.tenancy.scope import tenant_scope

    rows = []
    with app.app_context(), tenant_scope(tenant_id):
        policy = Policy.of(tenant_info(tenant_id))
        for office_id in db.session.scalars(select(Office.id)):
            services = list(db.session.scalars(select(Service.id).where(Service.office_id == office_id)))
            if not services:
                continue
            schedule = office_schedule(office_id, tenant_id, policy, first, last)
            day = first
            while day <= last:
                for cid, spans in schedule.open_spans(day).items():
                    for s, e in spans:
                        t = s
                        while t + SLOT.total_seconds() <= e:
                            if count_only:
                                rows.append(None)
                            elif rng.random() < share:
                                rows.append(_row(rng, tenant_id, office_id, cid, rng.choice(services), t, len(rows)))
                            t += SLOT.total_seconds()
                day += timedelta(days=1)
        db.session.rollback()
    if count_only:
        return len(rows)
    cols = ("tenant_id, code, manage_token, service_id, office_id, counter_id, starts_at, ends_at, status, source, "
            "name, email, phone, note, persons, lang, overbooked, overbook_reason, sequence, created_at, updated_at, "
            "cancelled_at, anonymized_at")
    with psycopg.connect(plain_url(app.config["SQLALCHEMY_DATABASE_URI"])) as conn:
        with conn.cursor().copy(f"COPY appointments ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)


def _row(rng: random.Random, tenant_id: int, office_id: int, counter_id: int, service_id: int, t: float, n: int):
    start = datetime.fromtimestamp(t, timezone.utc)
    lead = timedelta(hours=rng.uniform(2, 24 * 28))
    created = start - lead
    status = pick(rng, OUTCOMES)
    cancelled = created + lead * rng.random() if status == "cancelled" else None
    return (tenant_id, f"S{tenant_id:03d}{n:07d}", f"bench-stats-{tenant_id}-{n:09d}", service_id, office_id, counter_id,
            start, start + SLOT, status, pick(rng, SOURCES), "", "", "", "", 1, "de", False, "",
            1 if status == "cancelled" else 0, created, created, cancelled,
            start + timedelta(days=31) if start < datetime.now(timezone.utc) - timedelta(days=31) else None)


def seed_next_free(app, first: date, last: date) -> None:
    """Synthetic: the days-until-free line cannot be rebuilt, it is recorded day by day."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO statistics_next_free (tenant_id, day, service_id, days, horizon_days)
            SELECT s.tenant_id, d::date, s.id, ((extract(doy FROM d)::int * 7 + s.id) % 45), 56
            FROM services s JOIN tenants t ON t.id = s.tenant_id AND t.parent_id IS NOT NULL
            CROSS JOIN generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d
            WHERE s.bookable_online AND s.active AND s.office_id IS NOT NULL
            ON CONFLICT DO NOTHING"""), {"first": first, "last": last})


def rebuild_all(app, towns, first: date, last: date) -> None:
    from app.statistics.recording import rebuild
    from app.tenancy.resolve import tenant_info
    from app.tenancy.scope import tenant_scope
    from app.transaction import commit

    with app.app_context():
        for tid, _ in towns:
            info = tenant_info(tid)
            db.session.rollback()
            with tenant_scope(tid):
                rebuild(info, first, last)
                commit()


def incremental(app, tenant_id: int, n: int) -> dict:
    """Change n seeded appointments through the ORM (no-show ↔ completed) and fold."""
    from app.booking.models import Appointment
    from app.statistics.tracking import fold_deltas
    from app.tenancy.scope import tenant_scope
    from app.transaction import commit

    with app.app_context(), tenant_scope(tenant_id):
        ids = list(db.session.scalars(select(Appointment.id).where(Appointment.status == "completed").limit(n)))
        t0 = time.perf_counter()
        for i in range(0, len(ids), 50):
            for appt in db.session.scalars(select(Appointment).where(Appointment.id.in_(ids[i:i + 50]))):
                appt.status = "no_show"
            db.session.commit()  # plain commit: the fold is timed on its own below
        changed = time.perf_counter() - t0
        t1 = time.perf_counter()
        folded = fold_deltas()
        fold = time.perf_counter() - t1
        for i in range(0, len(ids), 500):
            for appt in db.session.scalars(select(Appointment).where(Appointment.id.in_(ids[i:i + 500]))):
                appt.status = "completed"
            commit()
        fold_deltas()
    return {"changes": len(ids), "change_s": changed, "deltas": folded, "fold_s": fold}


def timed(client, path: str, runs: int, **query) -> tuple[float, float, int]:
    resp = client.get(path, query_string=query, headers={"Host": client.host})
    assert resp.status_code == 200, (path, resp.status_code)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        resp = client.get(path, query_string=query, headers={"Host": client.host})
        times.append(time.perf_counter() - t)
        assert resp.status_code == 200
    return stats.median(times), max(times), len(resp.get_data())


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.statistics", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--towns", type=int, default=24)
    p.add_argument("--appointments", type=int, default=500_000, help="about this many over all towns")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    started = datetime.now(timezone.utc)
    server = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
    url = reset_database(server, DB_NAME)
    instance = Path(os.environ.get("TMPDIR", "/tmp")) / "amtstermin-bench-stats"
    instance.mkdir(parents=True, exist_ok=True)
    app = make_app(url, str(instance))
    app.config["SERVER_NAME"] = None
    migrate_and_sync(app)
    towns = onboard(app, args.towns)
    log(f"{len(towns)} towns")
    today = datetime.now(timezone.utc).date()
    first, last = today - timedelta(days=365), today - timedelta(days=1)

    # The share of free slots to fill, the same for every town.
    rng = random.Random(17)
    t = time.perf_counter()
    slots = sum(seed_town(app, tid, first, last, 1.0, rng, count_only=True) for tid, _ in towns)
    share = min(1.0, args.appointments / slots)
    total = sum(seed_town(app, tid, first, last, share, rng) for tid, _ in towns)
    seed_s = time.perf_counter() - t
    log(f"{total} appointments seeded in {seed_s:.0f} s (share {share:.2f} of {slots} slots)")

    t = time.perf_counter()
    rebuild_all(app, towns, first, last)
    seed_next_free(app, first, last)
    rebuild_s = time.perf_counter() - t
    with app.app_context(), db.engine.connect() as conn:
        daily_rows = conn.execute(text("SELECT count(*) FROM statistics_days")).scalar_one()
        conn.execute(text("ANALYZE"))
    log(f"rebuild: {daily_rows} daily rows in {rebuild_s:.0f} s")
    inc = incremental(app, towns[0][0], 2000)
    log(f"incremental: {inc}")

    from app.accounts.service import create_user
    from app.backoffice.throttle import clear_memory
    from app.transaction import commit

    with app.app_context():
        create_user("it@kreis.example", "bench-password-42", "kreis-steinfurt", "district-it")
        commit()
    clear_memory()
    app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    client = app.test_client()
    client.host = "kreis-steinfurt.localhost"
    resp = client.post("/admin/login", data={"email": "it@kreis.example", "password": "bench-password-42"},
                       headers={"Host": client.host})
    assert resp.status_code == 302, resp.status_code
    four = {"from": (last - timedelta(days=27)).isoformat(), "to": last.isoformat()}
    year = {"from": (last - timedelta(days=365)).isoformat(), "to": last.isoformat()}
    results = [
        ("district overview, all towns side by side, last 4 weeks", timed(client, "/admin/statistics", args.runs, **four)),
        ("district overview, all towns side by side, whole year", timed(client, "/admin/statistics", args.runs, **year)),
        ("one town in detail (8 charts and tables), last 4 weeks",
         timed(client, "/admin/statistics", args.runs, town=towns[0][1], **four)),
        ("one town in detail, whole year", timed(client, "/admin/statistics", args.runs, town=towns[0][1], **year)),
        ("CSV of the district's anonymous daily rows, last 4 weeks",
         timed(client, "/admin/statistics.csv", args.runs, figure="tageswerte", **four)),
    ]
    for name, (median, worst, size) in results:
        log(f"{name}: median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms, {size / 1024:.0f} KiB")
    if not args.no_write:
        write_doc(args, machine(url), started, total, daily_rows, seed_s, rebuild_s, inc, results)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def write_doc(args, m, started, total, daily_rows, seed_s, rebuild_s, inc, results) -> None:
    lines = [
        BEGIN,
        "## Pilot statistics at district scale (`bench/statistics.py`, issue 17)",
        "",
        f"- **Date:** {started:%Y-%m-%d %H:%M} UTC",
        f"- **Command:** `.venv/bin/python -m bench.statistics --towns {args.towns} --appointments "
        f"{args.appointments} --runs {args.runs}` (`make bench-stats`)",
        f"- **Code measured:** {m['commit']}",
        f"- **Machine:** {m['nproc']} CPUs (`nproc`), {m['cpu']}, Linux {m['kernel']}; Python {m['python']}, "
        f"PostgreSQL {m['postgres']}; load average at the end {Path('/proc/loadavg').read_text().split()[:3]}",
        f"- **Data:** {args.towns} towns, {total} appointments over the last 365 days (5-minute appointments on "
        "free counter slots: 70 % online, 25 % phone, 5 % emergency; 84 % completed, 8 % cancelled, 5 % no-show), "
        f"seeded with COPY in {seed_s:.0f} s; the figures filled by the bulk `rebuild()` (the same "
        f"per-appointment contribution as the incremental path) in {rebuild_s:.0f} s: {daily_rows} daily rows; "
        "the days-until-free line synthetic (it is recorded day by day and cannot be rebuilt).",
        f"- **Incremental path:** {inc['changes']} status changes through the ORM in commits of 50 took "
        f"{inc['change_s']:.1f} s (with the statistics' after-flush deltas); folding their {inc['deltas']} delta "
        f"rows took {inc['fold_s'] * 1000:.0f} ms.",
        "- **Timed:** district IT's request on the district's host in-process (Flask test client, no network), "
        f"median and worst of {args.runs} after a warm-up. Target: the district overview < 1 s.",
        "",
        "| request | median ms | worst ms | size KiB |",
        "|---|---:|---:|---:|",
    ]
    for name, (median, worst, size) in results:
        lines.append(f"| {name} | {median * 1000:.0f} | {worst * 1000:.0f} | {size / 1024:.0f} |")
    lines += ["", END]
    block = "\n".join(lines)
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(doc)
    log(f"written to {DOC}")


if __name__ == "__main__":
    main()
