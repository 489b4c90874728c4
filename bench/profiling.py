"""cProfile of requests through the Flask test client, against the benchmark database
in whatever state it is in: which functions the time goes to."""
from __future__ import annotations

import cProfile
import itertools
import json
import pstats
import random
import time
from pathlib import Path

from sqlalchemy import event, text

from app import ROOT
from app.extensions import db
from app.mail.delivery import deliver
from app.scheduling import cache as slot_cache

_counter = itertools.count(1)


def _label(func: tuple) -> str:
    filename, line, name = func
    if filename == "~":
        return name  # a builtin, e.g. <method 'execute' of 'psycopg…' objects>
    path = Path(filename)
    try:
        short = str(path.relative_to(ROOT))
    except ValueError:
        parts = path.parts
        short = "/".join(parts[parts.index("site-packages") + 1:]) if "site-packages" in parts else path.name
    return f"{short}:{line}({name})"


def profile_requests(app, *, host: str, method: str, path: str, n: int, starts: list[str] | None = None,
                     service: str = "personalausweis", top: int = 14) -> dict:
    """Run `n` requests (after two unprofiled warm-ups); returns wall ms per request and
    the top functions by cumulative and by own time, each as % of the profiled total."""
    client = app.test_client()
    rnd = random.Random(7)

    def once():
        if method == "GET":
            return client.get(path, headers={"Host": host})
        body = {"service": service, "start": rnd.choice(starts), "name": "Bench Citizen",
                "email": f"bench-profile-{next(_counter)}@example.org"}
        return client.post(path, data=json.dumps(body), headers={"Host": host},
                           content_type="application/json")

    statuses: dict[int, int] = {}
    for _ in range(2):
        once()
    prof = cProfile.Profile()
    t0, c0 = time.perf_counter(), time.process_time()
    prof.enable()
    for _ in range(n):
        r = once()
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    prof.disable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return dict(_top(prof, n, top), path=path, method=method, wall_ms=1000 * wall / n, cpu_ms=1000 * cpu / n,
                statuses=statuses)


def book_via_client(app, *, host: str, starts: list[str], want: int, prefix: str,
                    service: str = "personalausweis", max_attempts: int = 400) -> int:
    """Book until `want` attempts got a 201 (or `max_attempts` were made); returns the 201s."""
    client = app.test_client()
    rnd = random.Random(11)
    booked = 0
    for _ in range(max_attempts):
        body = {"service": service, "start": rnd.choice(starts), "name": "Bench Citizen",
                "email": f"{prefix}{next(_counter)}@example.org"}
        r = client.post("/api/v1/appointments", data=json.dumps(body), headers={"Host": host},
                        content_type="application/json")
        booked += r.status_code == 201
        if booked >= want:
            break
    return booked


def profile_mail(app, mail_ids: list[int], top: int = 14) -> dict:
    """cProfile of the jobs worker's mail job, `app.mail.delivery.deliver(id)`, in this
    process, against the MAIL_URL of `app`: one job sends every waiting row in batches, so
    one call for the first of `mail_ids` is profiled and the figures are per mail it sent
    (the first mail's one-off costs, the HTML template compiled, spread over them)."""
    count = [0]

    def before(*_a, **_k):
        count[0] += 1

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        prof = cProfile.Profile()
        t0, c0 = time.perf_counter(), time.process_time()
        prof.enable()
        try:
            deliver(mail_ids[0])
            db.session.remove()
        finally:
            prof.disable()
            event.remove(engine, "before_cursor_execute", before)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        with db.engine.connect() as conn:
            sent = conn.execute(text("SELECT count(*) FROM outbox_mails WHERE id = ANY(:ids) AND status = 'sent'"),
                                {"ids": list(mail_ids)}).scalar_one()
    n = max(1, sent)
    return dict(_top(prof, n, top), path="app.mail.delivery.deliver(outbox id)", method="job", wall_ms=1000 * wall / n,
                cpu_ms=1000 * cpu / n,
                statuses={"sent": sent, "not sent": len(mail_ids) - sent}, sql=round(count[0] / n, 1))


# Own time summed by where the function lives, first match wins: what a request's time is
# spent on, layer by layer. Waits on a socket are I/O, not this process's CPU: the socket and
# select/epoll methods (builtins) and psycopg's own wait loop.
WAITING = "waiting on a socket (PostgreSQL, Redis, SMTP)"
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("SQLAlchemy (ORM unit of work, Core, compiling, results)", ("sqlalchemy/",)),
    ("psycopg (the driver, adapting parameters and rows)", ("psycopg/",)),
    ("redis-py and rq", ("redis/", "rq/")),
    ("Flask, Werkzeug, Flask-Limiter, Flask-Login, Flask-Babel", ("flask/", "werkzeug/", "flask_limiter/", "limits/",
                                                                   "flask_login/", "flask_babel/", "flask_sqlalchemy/")),
    ("Jinja2, Babel, MarkupSafe (templates, translations)", ("jinja2/", "babel/", "markupsafe/")),
    ("marshmallow (the request body)", ("marshmallow/",)),
    ("Python's email and smtplib (MIME, headers)", ("/email/", "smtplib.py")),
    ("segno, icalendar (QR code, .ics)", ("segno/", "icalendar/")),
    ("Amtstermin's own code (app/)", ("/app/",)),
]
OTHER = "the standard library and builtins otherwise (json, datetime, re, …)"


def layer_of(func: tuple) -> str:
    filename, _line, name = func
    if filename == "~" and ("'_socket.socket'" in name or "'select." in name):
        return WAITING
    if filename.endswith(("psycopg/connection.py", "psycopg/waiting.py")) and name.startswith("wait"):
        return WAITING
    where = f"{filename}:{name}" if filename != "~" else name
    for label, needles in LAYERS:
        if any(needle in where for needle in needles):
            return label
    return OTHER


def _top(prof: cProfile.Profile, n: int, top: int) -> dict:
    stats = pstats.Stats(prof)
    total = stats.total_tt or 1e-9
    rows = []
    layers: dict[str, float] = {}
    for func, (cc, nc, tt, ct, callers) in stats.stats.items():
        rows.append({"func": _label(func), "calls": nc, "own_pct": 100 * tt / total, "cum_pct": 100 * ct / total,
                     "own_ms": 1000 * tt / n, "cum_ms": 1000 * ct / n})
        layer = layer_of(func)
        layers[layer] = layers.get(layer, 0.0) + tt
    by_cum = sorted(rows, key=lambda r: -r["cum_pct"])
    # Skip the generic request plumbing at the top (it is ~100 % by construction).
    interesting = [r for r in by_cum if r["cum_pct"] < 97][:top]
    by_own = sorted(rows, key=lambda r: -r["own_pct"])[:top]
    by_layer = [{"layer": k, "own_pct": 100 * v / total, "own_ms": 1000 * v / n}
                for k, v in sorted(layers.items(), key=lambda kv: -kv[1])]
    return {"n": n, "by_cum": interesting, "by_own": by_own, "by_layer": by_layer,
            "calls_per_request": sum(r["calls"] for r in rows) / n}


def sql_count(app, *, host: str, method: str, path: str, starts=None, service: str = "personalausweis") -> int:
    """How many SQL statements one request sends."""
    count = [0]
    with app.app_context():
        engine = db.engine

    def before(*_a, **_k):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        client = app.test_client()
        if method == "GET":
            client.get(path, headers={"Host": host})
        else:
            body = {"service": service, "start": random.choice(starts), "name": "Bench Citizen",
                    "email": f"bench-profile-sql-{next(_counter)}@example.org"}
            client.post(path, data=json.dumps(body), headers={"Host": host}, content_type="application/json")
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count[0]


def hit_cost(app, *, host: str, path: str, n: int = 40) -> dict:
    """A GET answered from a warm cache: SQL statements, this process's CPU ms and Python
    function calls per request over `n` requests through the test client (after two
    unmeasured ones; the calls counted under cProfile in a second pass of `n`)."""
    count = [0]
    with app.app_context():
        engine = db.engine

    def before(*_a, **_k):
        count[0] += 1

    client = app.test_client()
    for _ in range(2):
        client.get(path, headers={"Host": host})
    statuses: dict[int, int] = {}
    event.listen(engine, "before_cursor_execute", before)
    c0 = time.process_time()
    try:
        for _ in range(n):
            r = client.get(path, headers={"Host": host})
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        cpu = time.process_time() - c0
        prof = cProfile.Profile()  # the same requests again, counted: the work a hit does, call by call
        prof.enable()
        for _ in range(n):
            client.get(path, headers={"Host": host})
        prof.disable()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    calls = sum(nc for (_cc, nc, _tt, _ct, _callers) in pstats.Stats(prof).stats.values())
    return {"sql": count[0] / (2 * n), "cpu_ms": 1000 * cpu / n, "calls": calls / n, "n": n, "statuses": statuses}


def explain_request_sql(app, *, host: str, path: str, needle: str = "FROM appointments") -> dict | None:
    """EXPLAIN (ANALYZE, BUFFERS) of the statement a GET sends that contains `needle`,
    exactly as the app sends it (captured on the way out, parameters included)."""
    seen: list[tuple[str, object]] = []
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        if needle in statement:
            seen.append((statement, parameters))

    # A cached answer sends no appointment read at all: start from an empty slot cache.
    slot_cache.clear()
    event.listen(engine, "before_cursor_execute", before)
    try:
        app.test_client().get(path, headers={"Host": host})
    finally:
        event.remove(engine, "before_cursor_execute", before)
    if not seen:
        return None
    statement, parameters = seen[0]
    with app.app_context(), db.engine.connect() as conn:
        for _ in range(3):  # the last run is the warm one
            raw = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters).scalar()
    plan = (raw if isinstance(raw, list) else json.loads(raw))[0]
    top = plan["Plan"]

    def nodes(n):
        yield n
        for child in n.get("Plans", []):
            yield from nodes(child)

    return {"ms": plan["Execution Time"], "rows": top.get("Actual Rows"),
            "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
            "nodes": sorted({n["Node Type"] for n in nodes(top)}),
            "indexes": sorted({n.get("Index Name") for n in nodes(top) if n.get("Index Name")}),
            "statement": " ".join(statement.split())}
