"""/metrics: Prometheus text for district IT's monitoring, only with the token, summed
over every gunicorn worker."""
from __future__ import annotations

import concurrent.futures
import glob
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from app import ROOT, clock
from app.jobs.queue import wait_for_background
from app.queue import operations as queue
from app.transaction import commit
from tests.conftest import REDIS_URL, at, make_app, needs_redis, next_weekday
from tests.queue_factory import office, service, switch_on, town
from tests.workers import free_port

TOKEN = "scrape-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict[tuple, float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(text: str, name: str, **labels) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_is_404_without_a_configured_token(app):
    client = app.test_client()
    assert client.get("/metrics", headers={"Host": "steinfurt.localhost"}).status_code == 404
    assert client.get("/metrics", headers={"Host": "127.0.0.1", **AUTH}).status_code == 404


def test_metrics_needs_the_bearer_token(database_url, tmp_path):
    app = make_app(database_url, tmp_path, METRICS_TOKEN=TOKEN)
    client = app.test_client()
    assert client.get("/metrics", headers={"Host": "10.0.0.5"}).status_code == 401
    wrong = client.get("/metrics", headers={"Host": "10.0.0.5", "Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = client.get("/metrics", headers={"Host": "10.0.0.5", **AUTH})  # by address: no tenant needed
    assert ok.status_code == 200
    assert ok.mimetype == "text/plain"
    assert "amtstermin_outbox_pending" in ok.get_data(as_text=True)


def test_a_configured_network_scrapes_without_the_token(database_url, tmp_path):
    app = make_app(database_url, tmp_path, METRICS_TOKEN=TOKEN, METRICS_NETWORKS=["10.1.0.0/16"])
    client = app.test_client()
    inside = client.get("/metrics", headers={"Host": "x"}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    outside = client.get("/metrics", headers={"Host": "x"}, environ_base={"REMOTE_ADDR": "10.2.2.3"})
    assert (inside.status_code, outside.status_code) == (200, 401)


def test_bookings_cancellations_routes_and_the_outbox_are_counted(database_url, tmp_path):
    app = make_app(database_url, tmp_path, METRICS_TOKEN=TOKEN)
    client = app.test_client()
    host = {"Host": "steinfurt.localhost"}

    def scrape() -> str:
        return client.get("/metrics", headers={"Host": "127.0.0.1", **AUTH}).get_data(as_text=True)

    before = scrape()
    day = next_weekday(1)
    made = client.post("/api/v1/appointments", headers=host, json={
        "service": "personalausweis", "start": at(day, 9, 0).isoformat(), "name": "Erika Mustermann",
        "email": "erika@example.org"})
    assert made.status_code == 201, made.get_json()
    assert client.delete(f"/api/v1/appointments/{made.get_json()['manage_token']}", headers=host).status_code == 204
    client.get("/api/v1/services/nope/next", headers=host)
    wait_for_background()  # the mails go out in a background thread
    after = scrape()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("amtstermin_bookings_total", tenant="steinfurt", source="online") == 1
    assert delta("amtstermin_cancellations_total", tenant="steinfurt", source="online") == 1
    assert delta("amtstermin_bookings_total", tenant="emsdetten", source="online") == 0
    # By the route's rule, never the path (paths carry manage tokens).
    assert delta("amtstermin_http_requests_total", route="/api/v1/appointments", method="POST", status="201") == 1
    assert delta("amtstermin_http_requests_total", route="/api/v1/appointments/<token>", method="DELETE",
                 status="204") == 1
    assert made.get_json()["manage_token"] not in after
    assert delta("amtstermin_http_request_duration_seconds_count", route="/api/v1/appointments",
                 method="POST") == 1
    # The console transport delivered both mails at once: nothing waits.
    assert value(after, "amtstermin_outbox_oldest_pending_age_seconds") == 0


def test_a_held_mail_shows_as_backlog_with_its_age(database_url, tmp_path, fixed_now):

    app = make_app(database_url, tmp_path, METRICS_TOKEN=TOKEN, MAIL_URL=f"smtp://127.0.0.1:{free_port()}?timeout=1")
    client = app.test_client()
    day = next_weekday(1)
    made = client.post("/api/v1/appointments", headers={"Host": "steinfurt.localhost"}, json={
        "service": "personalausweis", "start": at(day, 9, 0).isoformat(), "name": "Erika Mustermann",
        "email": "erika@example.org"})
    assert made.status_code == 201
    wait_for_background()  # the first, failed attempt runs in a background thread
    fixed_now(clock.now() + timedelta(minutes=10))
    text = client.get("/metrics", headers={"Host": "127.0.0.1", **AUTH}).get_data(as_text=True)
    assert value(text, "amtstermin_outbox_pending", event="confirmation") == 1
    assert 590 <= value(text, "amtstermin_outbox_oldest_pending_age_seconds") <= 700
    assert value(text, "amtstermin_job_failures_total", job="mail") >= 1


def _healthz_counts(folder: str) -> dict[str, float]:
    """Requests to /healthz per worker process, read from each process's own file."""
    counts = {}
    for path in glob.glob(os.path.join(folder, "counter_*.db")):
        pid = path.rsplit("_", 1)[1].split(".")[0]
        for key, val, _ts, _pos in MmapedDict.read_all_values_from_file(path):
            _metric, name, labels, _help = json.loads(key)
            if name == "amtstermin_http_requests_total" and labels.get("route") == "/healthz":
                counts[pid] = counts.get(pid, 0) + val
    return counts


@needs_redis
def test_a_scrape_sums_the_counts_of_both_gunicorn_workers(pg_url, tmp_path):
    make_app(pg_url, tmp_path)  # demo tenants in the migrated database
    port = free_port()
    metrics_dir = tmp_path / "prom"
    env = {**os.environ, "DATABASE_URL": pg_url, "REDIS_URL": REDIS_URL, "METRICS_TOKEN": TOKEN,
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "AMTSTERMIN_INSTANCE": str(tmp_path / "instance"),
           "SECRET_KEY": "x" * 32, "AMTSTERMIN_ENV": "production", "RATELIMIT_ENABLED": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "-w", "2", "-b", f"127.0.0.1:{port}",
         "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"

    def get(path, headers=None):
        req = urllib.request.Request(base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("/healthz")
                break
            except OSError:  # not listening yet (URLError, ConnectionError and timeouts are OSErrors)
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("gunicorn did not start: " + proc.stderr.read().decode()[-2000:])
                time.sleep(0.2)
        # What the readiness polls left behind is counted apart: a poll may have reached a
        # worker and still failed at the client while gunicorn was starting.
        status, text = get("/metrics", AUTH)
        assert status == 200
        before = value(text, "amtstermin_http_requests_total", route="/healthz", method="GET", status="200")
        made = 0
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            # Parallel clients keep one worker busy while the other accepts; go on until both served some.
            while made < 400:
                answers = list(pool.map(lambda _: get("/healthz")[0], range(16)))
                assert answers == [200] * 16
                made += 16
                if len(_healthz_counts(str(metrics_dir))) >= 2:
                    break
        per_worker = _healthz_counts(str(metrics_dir))
        assert len(per_worker) >= 2 and all(v > 0 for v in per_worker.values()), per_worker
        assert get("/metrics")[0] == 401
        status, text = get("/metrics", AUTH)
        assert status == 200
        total = value(text, "amtstermin_http_requests_total", route="/healthz", method="GET", status="200")
        assert total == sum(per_worker.values())  # the scrape sums both workers' own counts
        assert total - before == made
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_queue_length_of_each_office_is_read_at_scrape_time(database_url, tmp_path, fixed_now):
    app = make_app(database_url, tmp_path, METRICS_TOKEN=TOKEN)
    monday = next_weekday(0)
    fixed_now(at(monday, 9))
    with town(app) as t:
        switch_on()
        for _ in range(3):
            queue.draw_ticket(t, office(), service("anmeldung"), at(monday, 9))
        commit()
    text = app.test_client().get("/metrics", headers={"Host": "127.0.0.1", **AUTH}).get_data(as_text=True)
    assert value(text, "amtstermin_office_queue_waiting", tenant="steinfurt", office="buergerbuero") == 3
    fixed_now(at(monday + timedelta(days=1), 9))  # the next day: yesterday's tickets wait no more
    text = app.test_client().get("/metrics", headers={"Host": "127.0.0.1", **AUTH}).get_data(as_text=True)
    assert value(text, "amtstermin_office_queue_waiting", tenant="steinfurt", office="buergerbuero") == 0
