"""The benchmark's phases after seeding: the throughput rounds (hello, /slots, /next,
booking, interleaved), profiles of what missed its target, and the latency at low
concurrency as tenants and past appointments grow."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from bench import load, profiling, seed
from bench.mail import MailSink, match_mail
from bench.report import TARGETS, human, ratio_p50, summarize, summarize_low
from bench.servers import CpuMeter, Server, loadavg, log, measured, memory, proc_cpu

SLUG = "steinfurt"
SERVICE = "personalausweis"
HOST = f"{SLUG}.localhost"
API = "/api/v1/services/" + SERVICE
PAGE = "/services/" + SERVICE  # the citizen service page: the proposal, the month, the day's starts
# A 3-service visit at Steinfurt's Bürgerbüro (20 + 20 + 15 minutes on one counter).
VISIT = "personalausweis,reisepass,anmeldung"


@dataclass
class Bench:
    """What the phases share: the options, the seeded database and what was measured."""

    args: object
    work: Path
    instance: Path
    db_url: str
    app: object
    town: object
    today: date
    full_until: date
    n_full: int
    info: dict
    loads: dict
    results: dict = field(default_factory=lambda: {"rounds": [], "low": {}, "double": {}, "profiles": [],
                                                   "mail": [], "memory": {}})
    servers: dict = field(default_factory=dict)  # "app", "hello", "worker"
    sink: MailSink | None = None

    @property
    def window(self) -> str:
        """/slots over the first four weeks, the ones booked solid."""
        return f"{API}/slots?from={self.today}&to={self.today + timedelta(days=27)}"

    @property
    def crossing_window(self) -> str:
        """/slots over two full and two free weeks."""
        return f"{API}/slots?from={self.today + timedelta(days=14)}&to={self.today + timedelta(days=41)}"

    @property
    def visit_window(self) -> str:
        """/slots of the 3-service visit over the same four weeks as (a)."""
        return f"/api/v1/slots?services={VISIT}&from={self.today}&to={self.today + timedelta(days=27)}"


def scenarios(bench: Bench, app_srv: Server, hello_srv: Server) -> tuple[list, list[str], dict]:
    """(scenarios, the free starts to book, how many starts each /slots window lists), after a warm-up."""
    status, body = load.fetch(app_srv.port, f"{API}/slots?from={bench.today}&to={bench.today + timedelta(days=56)}",
                              HOST)
    if status != 200:
        raise RuntimeError(f"/slots answered {status}: {body[:300]!r}")
    starts = [s["start"] for s in json.loads(body)["slots"]]
    if not starts:
        raise RuntimeError("no free slot to book in the horizon")
    slot_counts = {}
    for name, path in (("slots", bench.window), ("slots_x", bench.crossing_window), ("visit", bench.visit_window)):
        status, body = load.fetch(app_srv.port, path, HOST)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
        slot_counts[name] = len(json.loads(body)["slots"])
    status, body = load.fetch(app_srv.port, PAGE, HOST)
    if status != 200:
        raise RuntimeError(f"{PAGE} answered {status}: {body[:300]!r}")
    log(f"{len(starts)} free starts to book; /slots 4-week window lists {slot_counts['slots']}, "
        f"crossing window {slot_counts['slots_x']}, 3-service visit {slot_counts['visit']}")
    jobs = [
        ("hello", load.Job(hello_srv.port, "/", "localhost")),
        ("slots", load.Job(app_srv.port, bench.window, HOST)),
        ("slots_x", load.Job(app_srv.port, bench.crossing_window, HOST)),
        ("visit", load.Job(app_srv.port, bench.visit_window, HOST)),
        ("next", load.Job(app_srv.port, f"{API}/next", HOST)),
        ("page", load.Job(app_srv.port, PAGE, HOST)),
        ("tenant", load.Job(app_srv.port, "/api/v1/tenant", HOST)),
        ("book", load.Job(app_srv.port, "/api/v1/appointments", HOST, method="POST", book=True, starts=starts)),
    ]
    # Warm-up: every worker imports, connects and fills its caches before anything counts.
    for _, job in jobs:
        if not job.book:
            load.run(job, connections=4, duration=1 if bench.args.quick else 2, driver=bench.args.driver)
    return jobs, starts, slot_counts


def throughput_rounds(bench: Bench, jobs: list, meters: dict[str, CpuMeter]) -> dict:
    """Every scenario once per round, interleaved; the jobs worker delivers the bookings'
    mail to the SMTP sink meanwhile. After the booking storm the round waits (bounded) for
    every booking's mail, matches mail to bookings, checks for double bookings and deletes
    the round's bookings. Returns the pooled summary."""
    args, results = bench.args, bench.results
    worker = bench.servers.get("worker")
    for rnd in range(args.rounds):
        bench.loads[f"round {rnd + 1}"] = loadavg()
        row = {}
        for name, job in jobs:
            if name == "book":
                job.tag = f"r{rnd + 1}"
                worker_cpu0 = proc_cpu(worker.proc.pid) if worker else 0.0
            res = measured(load, job, meters["hello" if name == "hello" else "app"],
                           connections=args.connections, duration=args.duration, driver=args.driver)
            row[name] = res
            log(f"round {rnd + 1} {name:8s} {res['rps']:8.1f} req/s  p50 {res['p50_ms']:7.2f} ms  "
                f"p99 {res['p99_ms']:7.2f} ms  cpu {res['cpu_app_ms']:.2f}+{res['cpu_db_ms']:.2f} ms/req  "
                f"driver {res['driver_cpu_ms']:.3f} ms/req  codes {res['codes']} {res['errors'] or ''}")
            if name == "book":
                storm_end = time.time()
                results["mail"].append(collect_mail(bench, job.tag, storm_end, worker, worker_cpu0))
                results["double"][f"after booking round {rnd + 1}"] = seed.double_bookings(bench.app)
                row["book_created"] = seed.count_rows(
                    bench.app, "SELECT count(*) FROM appointments WHERE email LIKE %(e)s", e=f"bench-r{rnd + 1}-%")
                seed.delete_bench_bookings(bench.app, f"bench-r{rnd + 1}-%@example.org")
        results["rounds"].append(row)
    results["memory"] = {name: [memory(pid) for pid in srv.worker_pids()] for name, srv in bench.servers.items()}
    log("memory after the storm (RSS MiB): " + "; ".join(
        f"{name} " + ", ".join(f"{m['rss_mib']:.0f}" for m in ms) for name, ms in results["memory"].items()))
    summary = summarize(results["rounds"], results["mail"])
    if load.have_wrk() and args.driver != "python":
        # For reference only: the same hello through the Python driver, which is CPU-bound itself.
        ref = measured(load, jobs[0][1], meters["hello"], connections=args.connections,
                       duration=min(args.duration, 3 if args.quick else 5), driver="python")
        results["hello_python"] = ref
        log(f"hello via the Python driver: {ref['rps']:.0f} req/s, p50 {ref['p50_ms']:.2f} ms, "
            f"driver {ref['driver_cpu_ms']:.3f} ms/req")
    return summary


def collect_mail(bench: Bench, tag: str, storm_end: float, worker, worker_cpu0: float) -> dict:
    """Wait until every booking of the round has its mail in the sink (at most --mail-wait
    seconds), then match mail to bookings: delivered/expected and booking → mail latency."""
    booked = seed.booked_at(bench.app, f"bench-{tag}-%@example.org")
    waited = bench.sink.wait_for(set(booked), bench.args.mail_wait) if bench.sink else 0.0
    res = match_mail(booked, bench.sink.arrivals() if bench.sink else [])
    res["waited_s"] = waited
    res["drain_s"] = max(0.0, res["last_at"] - storm_end) if res["last_at"] else None
    if worker:
        res["worker_cpu_ms_per_mail"] = 1000 * (proc_cpu(worker.proc.pid) - worker_cpu0) / (res["delivered"] or 1)
    log(f"mail {tag}: {res['delivered']}/{res['expected']} delivered ({res['duplicates']} duplicates), booking → "
        f"mail p50 {res['p50_s']:.2f} s p95 {res['p95_s']:.2f} s max {res['max_s']:.2f} s; waited {waited:.1f} s "
        f"after the storm")
    return res


def profile_missed(bench: Bench, summary: dict, starts: list[str]) -> None:
    """cProfile the requests that missed their throughput target, in the state the load ran against."""
    args = bench.args
    if args.profile == "never":
        return
    bench.results["page_hit"] = page_hit_cost(bench)
    mail = summary["mail"]
    want = {"slots": not summary["slots"]["met"], "next": not summary["next"]["met"],
            "book": not summary["book"]["met"], "mail": not (mail["all_delivered"] and mail["p95_met"])}
    prof_app = seed.make_app(bench.db_url, str(bench.instance))
    prof_app.config["REDIS_URL"] = args.redis_url
    jobs = {"slots": ("GET", bench.window, 40), "next": ("GET", f"{API}/next", 40),
            "book": ("POST", "/api/v1/appointments", 40)}
    for name, (method, path, n) in jobs.items():
        if args.profile == "always" or want[name]:
            log(f"profiling {name}")
            prof = profiling.profile_requests(prof_app, host=HOST, method=method, path=path, n=n, starts=starts)
            prof["name"] = name
            prof["state"] = "seeded calendar, 3 tenants, 10k past appointments"
            prof["sql"] = profiling.sql_count(prof_app, host=HOST, method=method, path=path, starts=starts)
            bench.results["profiles"].append(prof)
    seed.delete_bench_bookings(bench.app, "bench-profile-%@example.org")
    if (args.profile == "always" or want["mail"]) and bench.sink:
        bench.results["profiles"].append(profile_delivery(bench, starts))


def page_hit_cost(bench: Bench, n: int = 40) -> dict:
    """What the citizen service page costs when the shared cache answers it: SQL statements
    and this process's CPU per request through the Flask test client, after two warm-ups."""
    app = seed.make_app(bench.db_url, str(bench.instance))
    app.config["REDIS_URL"] = bench.args.redis_url
    got = profiling.hit_cost(app, host=HOST, path=PAGE, n=n)
    log(f"service page from the shared cache: {got['sql']:g} SQL statements, {got['cpu_ms']:.2f} ms CPU per request")
    return got


def profile_delivery(bench: Bench, starts: list[str], n: int = 41) -> dict:
    """cProfile of the mail job, run in this process against the benchmark's SMTP server,
    for the confirmations of `n` fresh bookings (made through the test client, their jobs
    queued in Redis where no worker runs any more)."""
    log("profiling mail delivery")
    mail_app = seed.make_app(bench.db_url, str(bench.instance))
    mail_app.config.update(REDIS_URL=bench.args.redis_url, MAIL_URL=f"smtp://127.0.0.1:{bench.sink.port}")
    prefix = "bench-mailprofile-"
    profiling.book_via_client(mail_app, host=HOST, starts=starts, want=n, prefix=prefix)
    ids = seed.pending_mail(bench.app, f"{prefix}%@example.org")
    prof = profiling.profile_mail(mail_app, ids)
    prof["name"] = "mail"
    prof["state"] = f"{len(ids)} confirmations of fresh bookings, the aiosmtpd server of this run"
    seed.delete_bench_bookings(bench.app, f"{prefix}%@example.org")
    return prof


def low_samples(job, meter: CpuMeter, args, k: int, app=None, hello=None) -> list[dict]:
    """`k` samples at one connection; each notes the checkpoints that ran and the WAL the
    server wrote meanwhile (the samples send no SQL: any of it is someone else's work),
    and, with `hello`, the bare hello's p50 right after it: the machine's own noise then."""
    out = []
    for _ in range(k):
        before = seed.db_activity(app) if app is not None else None
        r = measured(load, job, meter, connections=1, duration=args.low_duration, driver=args.driver)
        r["load"] = loadavg()
        if hello is not None:
            r["hello_p50_ms"] = load.run(hello, connections=1, duration=1.0, driver=args.driver)["p50_ms"]
        if before is not None:
            after = seed.db_activity(app)
            r["checkpoints"] = after["checkpoints"] - before["checkpoints"]
            r["wal_mib"] = (after["wal_bytes"] - before["wal_bytes"]) / 2**20
            r["autovacuum"] = max(before["autovacuum"], after["autovacuum"])
        out.append(r)
    log("low concurrency: p50 " + ", ".join(f"{r['p50_ms']:.2f}" for r in out) + " ms, server CPU "
        + ", ".join(f"{r['cpu_app_ms'] + r['cpu_db_ms']:.2f}" for r in out) + " ms/req, checkpoints "
        + ", ".join(str(r.get("checkpoints", "?")) for r in out) + ", WAL MiB "
        + ", ".join(f"{r.get('wal_mib', 0):.1f}" for r in out))
    return out


def profile_slots(bench: Bench, state: str) -> dict:
    prof_app = seed.make_app(bench.db_url, str(bench.instance))
    log(f"profiling slots ({state})")
    prof = profiling.profile_requests(prof_app, host=HOST, method="GET", path=bench.window, n=40)
    prof["name"] = "slots"
    prof["state"] = state
    prof["sql"] = profiling.sql_count(prof_app, host=HOST, method="GET", path=bench.window)
    return prof


def scale_rounds(bench: Bench, app_srv: Server, meter: CpuMeter) -> dict:
    """Latency at low concurrency. Tenants: A (3) and B (300) measured in turn, towns added
    and removed in between, so drift in the machine's other load hits both alike. Past
    appointments: B, then C (1M) bracketed by B again after the big insert is deleted.
    Returns how /slots grew with each, against its limit."""
    args, app, results = bench.args, bench.app, bench.results
    slots_job = load.Job(app_srv.port, bench.window, HOST)
    hello_srv = bench.servers.get("hello")
    hello_job = load.Job(hello_srv.port, "/", "localhost") if hello_srv else None
    seed.analyze(app, vacuum=True)
    bench.loads["low concurrency"] = loadavg()
    n_tenants0 = seed.count_rows(app, "SELECT count(*) FROM tenants")
    label_a = f"{n_tenants0} tenants, {human(args.past_small)} past"
    label_b = None
    visits: dict[str, list[dict]] = {}
    adjacent: list[dict] = []  # the 10k samples right before the big insert and right after its removal

    def sample(label, k=args.low_samples, mark=""):
        # Every visit of a case starts alike: the last bulk change's dirty pages written out
        # (CHECKPOINT), no autovacuum running, and a warm-up second that is not counted (a
        # stored answer that expired meanwhile is computed there, not in a sample).
        settled = seed.settle(app)
        load.run(slots_job, connections=1, duration=1.0, driver=args.driver)
        log(f"settled before '{label}': CHECKPOINT {settled['checkpoint_s']:.1f} s, waited "
            f"{settled['waited_s']:.1f} s for autovacuum (workers seen {settled['autovacuum_seen']})")
        got = low_samples(slots_job, meter, args, k, app, hello_job)
        for r in got:
            r["settle"] = settled
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
    explain_app = seed.make_app(bench.db_url, str(bench.instance))
    explain = {label_b: profiling.explain_request_sql(explain_app, host=HOST, path=bench.window)}
    # What the samples' requests do (shared-cache hits): statements and Python calls per
    # request at both sizes — equal when the hit does not depend on the past at all.
    hit_app = seed.make_app(bench.db_url, str(bench.instance))
    hit_app.config["REDIS_URL"] = args.redis_url
    hits = {label_b: profiling.hit_cost(hit_app, host=HOST, path=bench.window)}
    t0 = time.monotonic()
    added = seed.seed_past(app, bench.town, args.past_big, args.past_small)
    n_past_total = seed.count_rows(app, "SELECT count(*) FROM appointments WHERE ends_at < now()")
    log(f"inserted {added} past appointments in {time.monotonic() - t0:.1f} s ({n_past_total} past in all)")
    label_c = f"{n_tenants} tenants, {human(args.past_big)} past"
    explain[label_c] = profiling.explain_request_sql(explain_app, host=HOST, path=bench.window)
    sample(label_c, 2 * args.low_samples)
    hits[label_c] = profiling.hit_cost(hit_app, host=HOST, path=bench.window)
    log("a hit of (a): " + "; ".join(f"{k}: {v['sql']:g} SQL, {v['calls']:.0f} calls, {v['cpu_ms']:.2f} ms CPU"
                                     for k, v in hits.items()))
    results["double"]["with the large past (whole table)"] = seed.double_bookings(app)
    big_profile = None
    if args.profile != "never":
        big_profile = profile_slots(bench, f"{n_tenants} tenants, {human(n_past_total)} past appointments")
    t0 = time.monotonic()
    removed = seed.remove_past(app, bench.town, args.past_small)
    log(f"deleted {removed} past appointments again in {time.monotonic() - t0:.1f} s")
    sample(label_b, args.low_samples, "after")
    results["low"] = {label: summarize_low(v) for label, v in visits.items()}
    # The big past is compared with the 10k samples taken right before and right after it,
    # under the most similar conditions on the machine.
    label_b_adj = f"{label_b} (right before/after {human(args.past_big)})"
    results["low"][label_b_adj] = summarize_low(adjacent)
    results["explain"] = explain
    results["hits"] = hits
    scale = {
        "tenants": {"from": label_a, "to": label_b, "ratio": ratio_p50(results["low"], label_a, label_b),
                    "limit": 1 + TARGETS["tenant_growth"]},
        "past": {"from": label_b_adj, "to": label_c, "ratio": ratio_p50(results["low"], label_b_adj, label_c),
                 "limit": 1 + TARGETS["past_growth"]},
    }
    for sc in scale.values():
        sc["met"] = sc["ratio"] <= sc["limit"]
        a, b = results["low"][sc["from"]].get("vs_hello"), results["low"][sc["to"]].get("vs_hello")
        sc["vs_hello_ratio"] = b / a if a and b else None
    if big_profile and (args.profile == "always" or not all(sc["met"] for sc in scale.values())):
        results["profiles"].append(big_profile)
    return scale
