"""Webhooks: a real HTTP receiver gets every appointment event once, signed, also after
it was down; the back office shows each delivery's last status."""
from __future__ import annotations

import hmac
import json
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from app.booking import staff
from app.booking.models import Appointment
from app.extensions import db
from app.transaction import commit
from app.webhooks import operations as webhooks
from app.webhooks.models import WebhookDelivery
from app.webhooks.signing import HEADER, sign, verify
from tests.conftest import REDIS_URL, HostClient, at, make_app, needs_pg, needs_redis, next_weekday
from tests.test_backoffice_support import in_tenant, logged_in
from tests.workers import free_port

API = "/api/v1/appointments"


class Receiver:
    """A town's system: an HTTP server that keeps what it is sent; `answer` is its status."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/hook"
        self.received: list[tuple[dict, bytes]] = []
        self.answer = 200
        self.server = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.answer < 300:
                    receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.handler = Handler

    def start(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver():
    r = Receiver(free_port())
    yield r
    r.stop()


def later(seconds=3600):
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def book(client, start, i=0):
    resp = client.post(API, json={"service": "personalausweis", "start": start.isoformat(), "name": "Erika Mustermann",
                                  "email": f"citizen{i}@example.org"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def add_endpoint(app, url, tenant="steinfurt", events=None) -> str:
    with in_tenant(app, tenant) as tid:
        endpoint = webhooks.add_endpoint(tid, url, events, allow_http=True)
        secret = endpoint.secret
        commit()
    return secret


def set_status(app, code, status):
    with in_tenant(app, "steinfurt"):
        appt = db.session.scalar(select(Appointment).where(Appointment.code == code))
        staff.set_status(appt, status, appt.starts_at + timedelta(minutes=5))  # at the counter, not days ahead
        commit()


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    body = b'{"id":"x"}'
    header = sign("whsec_test", 1700000000, body)
    assert header == "t=1700000000,v1=" + hmac.new(b"whsec_test", b"1700000000." + body, "sha256").hexdigest()
    assert verify("whsec_test", header, body, now=1700000100)
    assert not verify("whsec_test", header, body + b" ", now=1700000100)  # body changed
    assert not verify("whsec_other", header, body, now=1700000100)  # wrong secret
    assert not verify("whsec_test", header, body, now=1700000000 + 301)  # too old: a replay
    assert not verify("whsec_test", "garbage", body, now=1700000000)


def _burst(app):
    from rq import SimpleWorker

    from app.jobs.queue import QUEUES, queue, redis_connection

    with app.app_context():
        SimpleWorker([queue(q) for q in QUEUES], connection=redis_connection()).work(burst=True)


@needs_pg
@needs_redis
def test_after_a_receiver_outage_every_event_arrives_once_and_signed(pg_url, tmp_path, receiver):
    from redis import Redis

    from app.jobs.due import run_due
    from app.webhooks.delivery import deliver

    Redis.from_url(REDIS_URL).flushdb()
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL)
    secret = add_endpoint(app, receiver.url)
    add_endpoint(app, receiver.url + "?town=emsdetten", tenant="emsdetten", events=["cancelled"])
    steinfurt = HostClient(app, "steinfurt.localhost")
    day = next_weekday(1)

    # The receiver is down (nothing listens on its port) while the day goes on.
    a = book(steinfurt, at(day, 9), 0)
    assert steinfurt.patch(f"{API}/{a['manage_token']}", json={"start": at(day, 11).isoformat()}).status_code == 200
    assert steinfurt.delete(f"{API}/{a['manage_token']}").status_code == 204
    b = book(steinfurt, at(day, 9), 1)
    c = book(steinfurt, at(day, 10), 2)
    set_status(app, b["code"], "checked_in")
    set_status(app, b["code"], "completed")
    set_status(app, c["code"], "no_show")
    book(HostClient(app, "emsdetten.localhost"), at(day, 9), 3)  # another town, not cancelled: nothing for anyone
    _burst(app)  # the queued jobs meet a closed port and fail
    with app.app_context():
        rows = list(db.session.scalars(select(WebhookDelivery).execution_options(all_tenants=True)))
        assert len(rows) == 8 and {r.status for r in rows} == {"pending"} and all(r.attempts >= 1 for r in rows)
        ids = [r.id for r in rows]
        db.session.rollback()

    receiver.start()
    with app.app_context():
        assert run_due(now=later())["webhooks"] == 8
    with app.app_context():  # a late retry of a failed job, or a second sweeper: nothing twice
        assert not any(deliver(i) for i in ids)
        assert run_due(now=later(7200))["webhooks"] == 0

    events = []
    for headers, body in receiver.received:
        assert verify(secret, headers[HEADER], body, now=int(time.time()))
        data = json.loads(body)
        assert headers["Amtstermin-Event"] == data["type"] and headers["Amtstermin-Delivery"] == data["id"]
        assert data["tenant"] == "steinfurt"
        assert "Erika" not in body.decode() and "@" not in body.decode()  # no personal data
        events.append((data["data"]["code"], data["type"], data["id"]))
    assert len({e[2] for e in events}) == len(events) == 8
    assert sorted((code, kind) for code, kind, _ in events) == sorted([
        (a["code"], "appointment.booked"), (a["code"], "appointment.moved"), (a["code"], "appointment.cancelled"),
        (b["code"], "appointment.booked"), (b["code"], "appointment.checked_in"),
        (b["code"], "appointment.completed"), (c["code"], "appointment.booked"), (c["code"], "appointment.no_show")])
    moved = next(json.loads(body) for _, body in receiver.received if json.loads(body)["type"] == "appointment.moved")
    assert moved["data"]["start"] == at(day, 11).isoformat()
    assert moved["data"]["services"] == [{"slug": "personalausweis", "count": 1}]
    Redis.from_url(REDIS_URL).flushdb()


def test_the_back_office_shows_the_last_status_and_a_refused_delivery_is_retried(app, receiver, steinfurt):
    from app.jobs.due import run_due

    receiver.start()
    receiver.answer = 500
    add_endpoint(app, receiver.url, events=["booked"])
    made = book(steinfurt, at(next_weekday(2), 9))  # delivered in-process after the commit: refused
    logged_in(app, steinfurt, "admin")
    page = steinfurt.get("/admin/webhooks").get_data(as_text=True)
    assert receiver.url in page and "fehlgeschlagen" in page and "HTTP 500" in page and "wartet" in page
    assert receiver.received == []
    app.config["METRICS_TOKEN"] = "t"
    scraped = app.test_client().get("/metrics", headers={"Host": "127.0.0.1", "Authorization": "Bearer t"})
    assert 'amtstermin_webhooks_pending{tenant="steinfurt"} 1.0' in scraped.get_data(as_text=True)

    receiver.answer = 204
    with app.app_context():
        assert run_due(now=later())["webhooks"] == 1
    page = steinfurt.get("/admin/webhooks").get_data(as_text=True)
    assert "zugestellt" in page and "HTTP 204" in page
    [(headers, body)] = receiver.received
    assert json.loads(body)["data"]["code"] == made["code"]
    # Another town's admin sees none of it.
    emsdetten = HostClient(app, "emsdetten.localhost")
    logged_in(app, emsdetten, "admin")
    other = emsdetten.get("/admin/webhooks").get_data(as_text=True)
    assert receiver.url not in other and "Noch kein Webhook" in other


def test_an_admin_adds_an_endpoint_and_a_bad_address_is_refused(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    bad = steinfurt.post("/admin/webhooks", data={"url": "ftp://x"}, follow_redirects=True)
    assert "vollständige Adresse" in bad.get_data(as_text=True)
    ok = steinfurt.post("/admin/webhooks", data={"url": "https://fachverfahren.example/hook",
                                                  "events": ["booked", "cancelled"]}, follow_redirects=True)
    page = ok.get_data(as_text=True)
    assert "https://fachverfahren.example/hook" in page and "gebucht, abgesagt" in page and "whsec_" in page
    assert logged_in(app, steinfurt, "staff", email="clerk@steinfurt.example").get("/admin/webhooks").status_code == 403


def test_a_held_booking_is_announced_once_it_is_confirmed(app, steinfurt, receiver):
    """In confirm-by-e-mail mode the booking stands only when the citizen confirms."""
    receiver.start()
    add_endpoint(app, receiver.url)
    logged_in(app, steinfurt, "admin")
    assert steinfurt.post("/admin/settings", data={"booking_mode": "confirm", "confirm_minutes": "30"}).status_code == 302
    made = book(steinfurt, at(next_weekday(2), 9))
    assert receiver.received == []
    assert steinfurt.post(f"/confirm/{made['manage_token']}").status_code == 303
    assert steinfurt.post(f"/confirm/{made['manage_token']}").status_code == 303  # twice: announced once
    assert [json.loads(b)["type"] for _, b in receiver.received] == ["appointment.booked"]


def test_the_openapi_description_documents_the_payloads_as_callbacks(app, steinfurt):
    spec = steinfurt.get("/api/v1/openapi.json").get_json()
    [callback] = spec["paths"]["/appointments"]["post"]["callbacks"]["appointmentEvent"].values()
    assert callback["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"] == \
        "#/components/schemas/AppointmentEvent"
    event = spec["components"]["schemas"]["AppointmentEvent"]
    assert set(event["properties"]["type"]["enum"]) == {
        "appointment.booked", "appointment.moved", "appointment.cancelled", "appointment.checked_in",
        "appointment.completed", "appointment.no_show"}
    assert "Amtstermin-Signature" in {p["name"] for p in callback["post"]["parameters"]}


@needs_pg
def test_a_stalling_receiver_holds_no_transaction_and_gets_the_event_once(pg_url, tmp_path):
    """While the receiver takes its time, the delivery is claimed by a committed lease: its
    row is not locked, a second sweeper leaves it alone, and it arrives exactly once."""
    from sqlalchemy import text

    from app.webhooks.delivery import deliver_due

    port = free_port()
    got, release, bodies = threading.Event(), threading.Event(), []

    class Stalling(BaseHTTPRequestHandler):
        def do_POST(self):
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            got.set()
            release.wait(10)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    app = make_app(pg_url, tmp_path, WEBHOOK_TIMEOUT=15)
    add_endpoint(app, f"http://127.0.0.1:{port}/hook", events=["booked"])
    book(HostClient(app, "steinfurt.localhost"), at(next_weekday(2), 9))  # nothing listens yet: stays pending
    with app.app_context():
        for _ in range(100):
            [row] = db.session.scalars(select(WebhookDelivery).execution_options(all_tenants=True))
            state = (row.status, row.attempts)
            db.session.rollback()
            if state == ("pending", 1):
                break
            time.sleep(0.05)
        assert state == ("pending", 1)

    server = ThreadingHTTPServer(("127.0.0.1", port), Stalling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    result = {}

    def first_worker():
        with app.app_context():
            result["sent"] = deliver_due(now=later())

    worker = threading.Thread(target=first_worker)
    worker.start()
    try:
        assert got.wait(10)
        with app.app_context():
            assert deliver_due(now=later()) == 0  # a second sweeper: the lease is someone else's
            with db.engine.connect() as conn:  # and the row is not locked by a transaction held open
                conn.execute(text("SET lock_timeout = '1s'"))
                status = conn.execute(text("SELECT status FROM webhook_deliveries FOR UPDATE NOWAIT")).scalar()
                assert status == "sending"
                conn.rollback()
    finally:
        release.set()
        worker.join(20)
        server.shutdown()
        server.server_close()
    assert result == {"sent": 1} and len(bodies) == 1
    with app.app_context():
        assert deliver_due(now=later(7200)) == 0
        [row] = db.session.scalars(select(WebhookDelivery).execution_options(all_tenants=True))
        assert row.status == "sent" and row.attempts == 2 and row.last_response == 204
