"""The benchmark's figures and its page: pooling the rounds, the targets met or missed,
the table printed at the end and docs/benchmarks.md."""
from __future__ import annotations

import shlex
import statistics

from bench.load import pct
from bench.servers import ROOT

# Issue 18, point 5 (this machine); the growth bounds from issue 3.
TARGETS = {
    "slots_ratio": 0.40, "slots_p99_ms": 25.0, "next_ratio": 0.40, "book_ratio": 0.03, "mail_p95_s": 2.0,
    "past_growth": 0.15, "tenant_growth": 0.10,
}
BEGIN, END = "<!-- bench.run:begin -->", "<!-- bench.run:end -->"


def human(n: int) -> str:
    return f"{n / 1e6:.3g}M" if n >= 1e6 else f"{n / 1e3:.3g}k" if n >= 1e3 else str(n)


def summarize_low(samples: list[dict]) -> dict:
    """The sample with the lowest median stands for the case: the one least disturbed by
    whatever else runs on the machine. CPU per request: the median of the samples."""
    best = min(samples, key=lambda r: r["p50_ms"])
    settles = [s["settle"] for s in samples if s.get("settle")]
    return dict(best, samples_p50=[s["p50_ms"] for s in samples],
                checkpoints_during=sum(s.get("checkpoints", 0) for s in samples),
                wal_mib_during=sum(s.get("wal_mib", 0.0) for s in samples),
                autovacuum_during=max((s.get("autovacuum", 0) for s in samples), default=0),
                settle_checkpoint_s=max((x["checkpoint_s"] for x in settles), default=None),
                settle_wait_s=max((x["waited_s"] for x in settles), default=None),
                vs_hello=statistics.median(s["p50_ms"] / s["hello_p50_ms"] for s in samples
                                           if s.get("hello_p50_ms")) if any(s.get("hello_p50_ms") for s in samples)
                else None,
                cpu_ms=statistics.median(s["cpu_app_ms"] + s["cpu_db_ms"] for s in samples),
                median_p50=statistics.median(s["p50_ms"] for s in samples))


def ratio_p50(low: dict, a: str, b: str) -> float:
    return low[b]["p50_ms"] / low[a]["p50_ms"] if low[a]["p50_ms"] else float("inf")


def pool_mail(mail_rounds: list[dict]) -> dict:
    """Every round's bookings and their mail together: delivered/expected, duplicates and
    booking → mail latency percentiles over all delivered mails."""
    latencies = sorted(x for r in mail_rounds for x in r.get("latencies_s", []))
    expected = sum(r["expected"] for r in mail_rounds)
    delivered = sum(r["delivered"] for r in mail_rounds)
    duplicates = sum(r["duplicates"] for r in mail_rounds)
    return {"expected": expected, "delivered": delivered, "duplicates": duplicates,
            "p50_s": pct(latencies, 50), "p95_s": pct(latencies, 95), "max_s": latencies[-1] if latencies else 0.0,
            "all_delivered": bool(mail_rounds) and delivered == expected and duplicates == 0,
            "p95_met": bool(latencies) and delivered == expected and pct(latencies, 95) <= TARGETS["mail_p95_s"]}


def summarize(rounds: list[dict], mail_rounds: list[dict] | None = None) -> dict:
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
    out["visit"]["met"] = None
    out["page"]["met"] = None
    out["mail"] = pool_mail(mail_rounds or [])
    return out


SCENARIOS = ("hello", "slots", "slots_x", "visit", "next", "page", "book", "tenant")
LABELS = {
    "hello": "hello (bare Flask, `GET /`)",
    "tenant": "`GET /api/v1/tenant` (reference: the app's floor, one light query)",
    "slots": "(a) `GET …/personalausweis/slots`, today … today+27",
    "slots_x": "(a′) `GET …/slots`, today+14 … today+41 (2 full + 2 free weeks)",
    "visit": "(d) `GET /api/v1/slots?services=personalausweis,reisepass,anmeldung`, today … today+27",
    "next": "(b) `GET …/personalausweis/next`",
    "page": "(e) `GET /services/personalausweis` (the citizen service page, HTML)",
    "book": "(c) `POST /api/v1/appointments` (attempts)",
}
TARGET_TEXT = {
    "hello": "—",
    "tenant": "—",
    "slots": "≥ 0.40 × hello and p99 ≤ 25 ms",
    "slots_x": "(same as (a))",
    "visit": "— (reported)",
    "next": "≥ 0.40 × hello",
    "page": "— (reported)",
    "book": "≥ 0.03 × hello",
}


def driver_text(res, info) -> str:
    if res["rounds"] and res["rounds"][0]["hello"]["driver"] == "wrk":
        return f"`{info['wrk']}` (2 threads, Lua script; a separate process)"
    return "the Python driver in bench/load.py (http.client, threads in 4 processes)"


def verdict(met) -> str:
    return "—" if met is None else ("**met**" if met else "**missed**")


def targets_table(ctx) -> str:
    """Each target of issue 18 with its figure from this run, met or missed."""
    s, sc = ctx["summary"], ctx["scale"]
    m = s["mail"]

    def slots_fig(r):
        return f"{r['ratio']:.3f} × hello, p99 {r['p99_ms']:.1f} ms"

    rows = [
        ("`/slots` (a) ≥ 0.40 × hello, p99 ≤ 25 ms", slots_fig(s["slots"]), s["slots"]["met"]),
        ("`/slots` (a′), crossing window, the same", slots_fig(s["slots_x"]), s["slots_x"]["met"]),
        ("`/next` (b) ≥ 0.40 × hello", f"{s['next']['ratio']:.3f} × hello", s["next"]["met"]),
        ("booking attempts (c) ≥ 0.03 × hello", f"{s['book']['ratio']:.3f} × hello ({s['book']['rps']:.0f}/s)",
         s["book"]["met"]),
        ("every booking's mail delivered (in the SMTP server, once)",
         f"{m['delivered']} of {m['expected']}, {m['duplicates']} duplicates", m["all_delivered"]),
        ("booking → mail p95 ≤ 2 s", f"p95 {m['p95_s']:.2f} s (p50 {m['p50_s']:.2f} s, max {m['max_s']:.2f} s)",
         m["p95_met"]),
        ("no double booking (SQL self-join)", str(ctx["doubles"]), ctx["doubles"] == 0),
    ]
    for key, label in (("tenants", "growth with tenants ≤ 1.10"), ("past", "growth with past appointments ≤ 1.15")):
        if key in sc:
            rows.append((f"{label} (/slots p50 at 1 connection)", f"{sc[key]['ratio']:.3f}", sc[key]["met"]))
    rows.append(("3-service visit `/slots` (d) (reported, no target)",
                 f"{s['visit']['ratio']:.3f} × hello, p99 {s['visit']['p99_ms']:.1f} ms", None))
    hit = ctx["results"].get("page_hit") or {}
    hit_text = (f"; a hit: {hit['sql']:g} SQL statements, {hit['cpu_ms']:.2f} ms CPU in the test client"
                if hit else "")
    rows.append(("citizen service page (e) (reported, no target)",
                 f"{s['page']['ratio']:.3f} × hello, p99 {s['page']['p99_ms']:.1f} ms, "
                 f"{s['page']['cpu_app_ms']:.2f} + {s['page']['cpu_db_ms']:.2f} ms server CPU/req{hit_text}", None))
    lines = ["| target | this run | |", "|---|---|---|"]
    lines += [f"| {t} | {fig} | {verdict(met)} |" for t, fig, met in rows]
    return "\n".join(lines)


def mail_table(ctx) -> str:
    rounds = ctx["results"].get("mail") or []
    if not rounds:
        return ""
    lines = ["| booking round | bookings (201) | mails delivered | duplicates | booking → mail p50 s | p95 s | "
             "max s | last mail after the storm s | jobs worker CPU ms/mail |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for i, r in enumerate(rounds, 1):
        drain = f"{r['drain_s']:.1f}" if r.get("drain_s") is not None else "—"
        cpu = f"{r['worker_cpu_ms_per_mail']:.1f}" if "worker_cpu_ms_per_mail" in r else "—"
        lines.append(f"| {i} | {r['expected']} | {r['delivered']} | {r['duplicates']} | {r['p50_s']:.2f} | "
                     f"{r['p95_s']:.2f} | {r['max_s']:.2f} | {drain} | {cpu} |")
    m = ctx["summary"]["mail"]
    lines.append(f"| all | {m['expected']} | {m['delivered']} | {m['duplicates']} | {m['p50_s']:.2f} | "
                 f"{m['p95_s']:.2f} | {m['max_s']:.2f} | | |")
    return "\n".join(lines)


MEMORY_LABELS = {"app": "web worker (gunicorn sync worker, `wsgi:app`)", "worker": "jobs worker (`flask jobs worker`)",
                 "hello": "hello worker (reference)"}


def memory_table(ctx) -> str:
    mem = ctx["results"].get("memory") or {}
    if not mem:
        return ""
    lines = ["| process (after the storm) | pid | RSS MiB (VmRSS) | peak MiB (VmHWM) |", "|---|---:|---:|---:|"]
    for name in ("app", "worker", "hello"):
        for m in mem.get(name, []):
            lines.append(f"| {MEMORY_LABELS[name]} | {m['pid']} | {m['rss_mib']:.1f} | {m['hwm_mib']:.1f} |")
    return "\n".join(lines)


def table(ctx) -> str:
    s = ctx["summary"]
    lines = [targets_table(ctx), "", "| scenario | req/s | × hello | p50 ms | × hello | p99 ms | × hello | server CPU ms/req (app + db) "
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
              "samples (p50 ms, in order) | server CPU ms/req (median) | before the samples: CHECKPOINT s, "
              "autovacuum wait s (longest) | during the samples: checkpoints, WAL MiB (both cluster-wide), autovacuum workers |",
              "|---|---:|---:|---:|---|---:|---|---|"]
    for key, r in low.items():
        settle = (f"{r['settle_checkpoint_s']:.1f}, {r['settle_wait_s']:.1f}"
                  if r.get("settle_checkpoint_s") is not None else "—")
        lines.append(f"| {key} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['median_p50']:.2f} | "
                     f"{', '.join(f'{x:.2f}' for x in r['samples_p50'])} | {r['cpu_ms']:.2f} | {settle} | "
                     f"{r.get('checkpoints_during', 0)}, {r.get('wal_mib_during', 0.0):.1f}, "
                     f"{r.get('autovacuum_during', 0)} |")
    lines += ["", "| growth | p50 after / before | (server CPU after / before) | (p50 ÷ hello's p50 right after "
              "each sample, medians after / before) | target | |", "|---|---:|---:|---:|---|---|"]
    for key, sc in ctx["scale"].items():
        cpu = low[sc["to"]]["cpu_ms"] / low[sc["from"]]["cpu_ms"] if low[sc["from"]]["cpu_ms"] else 0.0
        vs = f"({sc['vs_hello_ratio']:.3f})" if sc.get("vs_hello_ratio") else "—"
        lines.append(f"| {sc['from']} → {sc['to']} | {sc['ratio']:.3f} | ({cpu:.3f}) | {vs} | ≤ {sc['limit']:.2f} | "
                     f"{verdict(sc['met'])} |")
    lines.append(f"| double bookings (SQL self-join) | {ctx['doubles']} | | 0 | {verdict(ctx['doubles'] == 0)} |")
    hits = ctx["results"].get("hits") or {}
    if hits:
        lines += ["", "| a hit of (a), as the samples' requests are (test client, warm shared cache) | SQL statements "
                  "| Python calls per request | CPU ms per request |", "|---|---:|---:|---:|"]
        for key, h in hits.items():
            lines.append(f"| {key} | {h['sql']:g} | {h['calls']:.0f} | {h['cpu_ms']:.2f} |")
    for extra in (mail_table(ctx), memory_table(ctx)):
        if extra:
            lines += ["", extra]
    ex = {k: v for k, v in (ctx["results"].get("explain") or {}).items() if v}
    if ex:
        lines += ["", "| /slots' appointment read as the app sends it, EXPLAIN (ANALYZE, BUFFERS), warm | rows "
                  "| buffer accesses | ms | plan |", "|---|---:|---:|---:|---|"]
        for key, e in ex.items():
            lines.append(f"| {key} | {e['rows']} | {e['buffers']} | {e['ms']:.2f} | "
                         f"{', '.join(e['nodes'])} on {', '.join(e['indexes']) or '—'} |")
    return "\n".join(lines)


def max_load(loads: dict) -> float | None:
    """The highest 1-minute load average noted during the run."""
    ones = []
    for v in loads.values():
        try:
            ones.append(float(str(v).split()[0]))
        except (ValueError, IndexError):
            pass
    return max(ones) if ones else None


def make_args(ctx) -> str:
    extra = shlex.join(ctx["argv"]) if ctx["argv"] else ""
    return f' BENCH_ARGS="{extra}"' if extra else ""


def merge_page(old: str | None, block: str) -> str:
    """The page with the benchmark's part (between the markers) replaced by `block`;
    everything outside the markers (hand-written sections, other scripts' blocks) kept.
    Without markers the block becomes the page."""
    if old and BEGIN in old and END in old:
        return old[:old.index(BEGIN)] + block + old[old.index(END) + len(END):]
    return block + "\n"


def render(ctx) -> str:
    a, info, s, res = ctx["args"], ctx["info"], ctx["summary"], ctx["results"]
    cmd = ".venv/bin/python -m bench.run" + (" " + shlex.join(ctx["argv"]) if ctx["argv"] else "")
    book = s["book"]
    created = [r.get("book_created", 0) for r in res["rounds"]]
    peak = max_load(ctx["loads"])
    out = [
        BEGIN,
        "# Benchmarks",
        "",
        "Written by `bench/run.py` (issues 3 and 18) — rerun it to refresh this part of the page (down to",
        "the end marker; the sections after it are kept); it is a benchmark, not a test. `make bench` runs",
        "it with the defaults.",
        "",
        f"- **Date:** {ctx['started']:%Y-%m-%d %H:%M} – {ctx['finished']:%H:%M} UTC ({ctx['minutes']:.1f} min)",
        "- **Command:** " + (f"`make bench{make_args(ctx)}` (which runs `{cmd}`)" if ctx.get("make") else f"`{cmd}`"),
        f"- **Code measured:** {info['commit']}",
        f"- **Machine:** {info['nproc']} CPUs (`nproc`), {info['cpu']}, Linux {info['kernel']}",
        f"- **Software:** Python {info['python']}, PostgreSQL {info['postgres']}, {info['gunicorn']}, "
        f"load generator {driver_text(res, info)}, SMTP server aiosmtpd {info.get('aiosmtpd', '?')}",
        "- **Load average (1/5/15 min)** — the benchmark's own servers, jobs worker and load generator count in it;",
        "  above ~2 on 2 cores something else ran too, and absolute numbers get noisy (ratios against hello,",
        "  measured in the same round, less so):",
    ]
    out += [f"  - {k}: {v}" for k, v in ctx["loads"].items()]
    if peak is not None and peak > 3:
        out += ["", f"**More work than cores during this run**: the 1-minute load average reached {peak:.1f} on",
                f"{info['nproc']} cores — requests queued behind the benchmark's own load generator, PostgreSQL and",
                "jobs worker, and behind anything else the machine ran (the page cannot tell which). Absolute rates",
                "and latencies are noisier than on a quiet machine; the ratios against hello (measured in the same",
                "round) and the CPU per request are the steadier figures."]
    out += ["", "`free -h`:", "", "```", info["free"], "```", ""]
    out += [
        "## Set-up",
        "",
        f"- Own database `{a.db_name}` (dropped and created), migrated, demo tenants synced; Steinfurt's",
        "  `horizon_days` set to 56 (8 weeks); its office has four counters, `held_back_share` 0.25.",
        f"- The rush: every counter booked solid from {ctx['today']} to {ctx['full_until']} (the first four",
        f"  calendar weeks, this one counted; {ctx['n_full']} appointments of 10 minutes, one per counter and slot,",
        "  bulk-inserted with COPY under the overlap constraint, marked as reminded). Weeks 5–8 are free.",
        f"  {a.past_small // 1000}k completed past appointments on the same counters.",
        "- (a) asks for the window today … today+27 as specified; with the rush ending on a Sunday it lists",
        f"  only {ctx['slot_counts']['slots']} starts (the days after {ctx['full_until']}). (a′) is the same request",
        "  over today+14 … today+41, which crosses two full and two free weeks and lists",
        f"  {ctx['slot_counts']['slots_x']} starts. (d) is a visit of three services on one counter",
        "  (Personalausweis 20 + Reisepass 20 + Anmeldung 15 minutes) over the same window as (a), listing",
        f"  {ctx['slot_counts'].get('visit', '?')} starts.",
        "- (c) each attempt books `personalausweis` for a fresh e-mail at a start drawn at random from the",
        f"  {ctx['n_starts']} free starts `/slots` listed before the round; 201 and 409 both count as an attempt.",
        "  After the storm the round waits (at most "
        f"{a.mail_wait:g} s) until every booking's confirmation is in the SMTP server, then",
        "  deletes the round's bookings, so every round starts from the same calendar.",
        "- Mail: the project's jobs worker (`flask --app wsgi jobs worker`, one process: an rq SimpleWorker on",
        "  the `mail` and `default` queues, sweeping due work every 10 s) runs from before the warm-up until",
        "  after the storm and its profiles, with `MAIL_URL=smtp://127.0.0.1:PORT` pointing at an aiosmtpd",
        "  server in a thread of the benchmark process. The server notes each message's arrival time,",
        "  envelope recipients and Message-ID; every booking has its own address, so each mail is matched to",
        "  its booking, and booking → mail latency runs from the appointment's `created_at` (the app's clock",
        "  at the insert, inside the booking request) to the message's arrival (same machine, same clock).",
        "  The worker is stopped before the low-concurrency rounds below: its 10-second sweep over all",
        "  tenants would otherwise land in the many-tenant samples and not in the 3-tenant ones.",
        "- Served with `gunicorn -w 2 -b 127.0.0.1:PORT wsgi:app` (sync workers), env",
        "  `RATELIMIT_ENABLED=false`, `REDIS_URL` (the benchmark's Redis database, emptied before and after),",
        "  `MAIL_URL` as above, `AMTSTERMIN_INSTANCE` a temporary directory. The hello app",
        "  (`bench/hello.py`) is served by `gunicorn -w 2 -b 127.0.0.1:PORT bench.hello:app` at the same time.",
        f"- Load: {a.connections} concurrent connections, {a.duration:g} s per scenario, {a.rounds} round(s) of",
        "  hello → (a) → (a′) → (d) → (b) → (e) → tenant → (c), after a short warm-up of each GET. Requests/s pool all",
        "  rounds; p50 is the median, p99 the worst of the rounds. Gunicorn's sync workers close every",
        "  connection, so each request includes a TCP connect (the same for hello).",
        "- Server CPU ms/req: user + system CPU of the two gunicorn workers (app) and of the PostgreSQL",
        "  backends connected to the benchmark database (db; during (c) this includes the jobs worker's",
        "  backend) over the scenario, divided by its requests — the cost of one request, which the other",
        "  load on the machine disturbs far less than req/s. The load generator's own CPU is listed below",
        "  (it runs in separate processes); the jobs worker's own CPU per mail is in the mail table.",
        "- Memory: VmRSS and VmHWM from `/proc/<pid>/status` of each web worker, the jobs worker and the",
        "  hello workers, read right after the last round's mail arrived.",
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
        "- double bookings (active, not overbooked appointments overlapping on one counter, SQL self-join): "
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
        "every bulk change, and every visit of a case starts alike: `CHECKPOINT` (the bulk change's",
        "dirty pages written out before the samples, not by the checkpointer during them, which would",
        "burden the cases right after the largest change only), a bounded wait until no autovacuum",
        "worker runs on the database, and one uncounted warm-up second (a stored",
        "answer that expired during the bulk change is computed there, not in a sample). The table",
        "shows what that took and what still ran during the samples. After each sample, one second of",
        "hello at one connection: p50 ÷ that hello's p50 follows the machine's drift between the cases",
        "and is shown as a further opinion on the growth (the target stays the plain p50). The calendar does not change",
        "between these samples, so the app answers them",
        "from its slot cache: they show what a request costs as tenants and past appointments grow; the",
        "appointment read a cache miss sends is shown for both sizes with EXPLAIN (the cache emptied first).",
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
        unit = "mail" if prof["method"] == "job" else "request"
        what = "mails sent by one call of the mail job (in batches) in one process" if unit == "mail" else \
            "requests through the Flask test client in one process"
        out += [
            f"### {prof['name']}: {prof['method']} {prof['path']}",
            "",
            f"cProfile of {prof['n']} {what} ({prof['state']}): "
            f"{prof['wall_ms']:.1f} ms per {unit} under the profiler (wall clock; {prof.get('cpu_ms', 0):.1f} ms of it "
            f"this process's CPU, the rest waiting — for PostgreSQL, the SMTP server, or the other load on the "
            f"machine), {prof['sql']} SQL statements per {unit}, "
            f"{prof['calls_per_request']:.0f} Python function calls per {unit}; outcomes {prof['statuses']}.",
            "",
            "By cumulative time (request plumbing above 97 % left out):",
            "",
            f"| function | calls/{unit} | cumulative % | ms/{unit} |",
            "|---|---:|---:|---:|",
        ]
        out += [f"| `{r['func']}` | {r['calls'] / prof['n']:.0f} | {r['cum_pct']:.1f} | {r['cum_ms']:.2f} |"
                for r in prof["by_cum"]]
        if prof.get("by_layer"):
            out += ["", "By layer (own time summed by where each function lives; `bench/profiling.py` LAYERS):", "",
                    f"| layer | own % | ms/{unit} |", "|---|---:|---:|"]
            out += [f"| {r['layer']} | {r['own_pct']:.1f} | {r['own_ms']:.2f} |" for r in prof["by_layer"]]
        out += ["", "By own time:", "", f"| function | calls/{unit} | own % | ms/{unit} |", "|---|---:|---:|---:|"]
        out += [f"| `{r['func']}` | {r['calls'] / prof['n']:.0f} | {r['own_pct']:.1f} | {r['own_ms']:.2f} |"
                for r in prof["by_own"]]
        out.append("")
    notes = ROOT / "bench" / "analysis.md"
    if notes.exists():
        out += [notes.read_text().rstrip(), ""]
    out.append(END)
    return "\n".join(out)

