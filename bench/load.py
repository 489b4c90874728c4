"""Load generators: wrk (C, with a Lua script) when installed, else a Python driver that
spreads its connections over several processes. Both only ever talk to 127.0.0.1, stop
after `duration` seconds (the Python one also after `max_requests`), and return
{requests, seconds, rps, p50_ms, p90_ms, p99_ms, mean_ms, codes{status: n}, errors}.
"""
from __future__ import annotations

import http.client
import json
import math
import multiprocessing as mp
import os
import random
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

TARGET_HOST = "127.0.0.1"  # never anything else


@dataclass
class Job:
    """What to send: a GET of `path`, or (book=True) a POST of a fresh booking."""

    port: int
    path: str
    host_header: str
    method: str = "GET"
    book: bool = False
    service: str = "personalausweis"
    starts: list[str] = field(default_factory=list)
    tag: str = "run"  # part of every e-mail address, so a run's bookings can be found and removed


def booking_body(job: Job, unique: str, rnd: random.Random) -> bytes:
    return json.dumps({"service": job.service, "start": rnd.choice(job.starts), "name": "Bench Citizen",
                       "email": f"bench-{job.tag}-{unique}@example.org"}).encode()


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run(job: Job, *, connections: int, duration: float, driver: str = "auto", max_requests: int = 2_000_000,
        procs: int | None = None) -> dict:
    if driver == "auto":
        driver = "wrk" if have_wrk() else "python"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = run_wrk(job, connections, duration) if driver == "wrk" else run_python(
        job, connections, duration, max_requests, procs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["driver"] = driver
    result["connections"] = connections
    # CPU the load generator itself used (its processes are children of this one).
    result["driver_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


# --- wrk ----------------------------------------------------------------------------------
LUA = r"""
local threads = {}
local counter = 0
local starts = {%(starts)s}
local host = "%(host)s"
local book = %(book)s
local tag = "%(tag)s"

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  codes = {}
  n = 0
  math.randomseed(tid * 7919 + os.time())
end

function request()
  if not book then
    return wrk.format("GET", "%(path)s", {["Host"] = host})
  end
  n = n + 1
  local body = string.format(
    '{"service":"%(service)s","start":"%%s","name":"Bench Citizen","email":"bench-%%s-%%d-%%d@example.org"}',
    starts[math.random(#starts)], tag, tid, n)
  return wrk.format("POST", "%(path)s", {["Host"] = host, ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local agg = {}
  for _, t in ipairs(threads) do
    local c = t:get("codes")
    if c then for k, v in pairs(c) do agg[k] = (agg[k] or 0) + v end end
  end
  local parts = {}
  for k, v in pairs(agg) do table.insert(parts, string.format('"%%d":%%d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"mean_us":%%.1f,' ..
    '"max_us":%%d,"errors":{"connect":%%d,"read":%%d,"write":%%d,"timeout":%%d,"status":%%d},"codes":{%%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, e.connect, e.read, e.write, e.timeout, e.status, table.concat(parts, ",")))
end
"""


def run_wrk(job: Job, connections: int, duration: float) -> dict:
    threads = max(1, min(2, connections))
    script = LUA % {
        "starts": ",".join(json.dumps(s) for s in job.starts), "host": job.host_header,
        "book": "true" if job.book else "false", "tag": job.tag, "path": job.path, "service": job.service,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
               "--timeout", "10s", "-s", path, f"http://{TARGET_HOST}:{job.port}{job.path}"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    finally:
        os.unlink(path)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout}\n{out.stderr}")
    raw = json.loads(line[len("BENCHJSON "):])
    seconds = raw["duration_us"] / 1e6
    errors = {k: v for k, v in raw["errors"].items() if k != "status" and v}
    return {
        "requests": raw["requests"], "seconds": seconds, "rps": raw["requests"] / seconds if seconds else 0.0,
        "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
        "mean_ms": raw["mean_us"] / 1000, "max_ms": raw["max_us"] / 1000,
        "codes": {int(k): v for k, v in raw["codes"].items()}, "errors": errors,
    }


# --- Python -------------------------------------------------------------------------------
def _worker(job: Job, threads: int, deadline: float, budget: int, seed: int, out) -> None:
    latencies: list[float] = []
    codes: dict[int, int] = {}
    errors: dict[str, int] = {}
    lock = threading.Lock()
    left = [budget]

    def loop(tno: int) -> None:
        rnd = random.Random(seed * 1000 + tno)
        conn = http.client.HTTPConnection(TARGET_HOST, job.port, timeout=10)
        headers = {"Host": job.host_header}
        if job.book:
            headers["Content-Type"] = "application/json"
        n = 0
        mine: list[float] = []
        mycodes: dict[int, int] = {}
        while time.monotonic() < deadline:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            n += 1
            body = booking_body(job, f"{seed}-{tno}-{n}", rnd) if job.book else None
            t0 = time.perf_counter()
            try:
                conn.request(job.method, job.path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                with lock:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            mine.append(time.perf_counter() - t0)
            mycodes[resp.status] = mycodes.get(resp.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for k, v in mycodes.items():
                codes[k] = codes.get(k, 0) + v

    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put((latencies, codes, errors))


def run_python(job: Job, connections: int, duration: float, max_requests: int, procs: int | None = None) -> dict:
    procs = procs or max(1, min(connections, 4))
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    per_proc = [connections // procs + (1 if i < connections % procs else 0) for i in range(procs)]
    t_start = time.monotonic()
    deadline = t_start + duration
    workers = [ctx.Process(target=_worker, args=(job, n, deadline, max_requests // procs + 1, i + 1, out),
                           daemon=True) for i, n in enumerate(per_proc) if n]
    for w in workers:
        w.start()
    latencies: list[float] = []
    codes: dict[int, int] = {}
    errors: dict[str, int] = {}
    for _ in workers:
        lat, c, e = out.get(timeout=duration + 60)
        latencies.extend(lat)
        for k, v in c.items():
            codes[k] = codes.get(k, 0) + v
        for k, v in e.items():
            errors[k] = errors.get(k, 0) + v
    seconds = time.monotonic() - t_start
    for w in workers:
        w.join(timeout=10)
        if w.is_alive():
            w.kill()
    latencies.sort()
    return {
        "requests": len(latencies), "seconds": seconds, "rps": len(latencies) / seconds if seconds else 0.0,
        "p50_ms": pct(latencies, 50) * 1000, "p90_ms": pct(latencies, 90) * 1000,
        "p99_ms": pct(latencies, 99) * 1000,
        "mean_ms": (sum(latencies) / len(latencies) * 1000) if latencies else 0.0,
        "max_ms": (latencies[-1] * 1000) if latencies else 0.0, "codes": codes, "errors": errors,
    }


def pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def fetch(port: int, path: str, host_header: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(TARGET_HOST, port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": host_header})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()
