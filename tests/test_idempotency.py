"""Idempotency-Key on POST, PATCH and DELETE (CONTRACT §5): a repeat answers as the first
did and changes nothing more; the same key with another request is a 422."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import requests as http

from app import ROOT, create_app
from app.extensions import db
from tests.conftest import HostClient, at, close, count_rows, mails, next_weekday
from tests.workers import free_port


def booking(hh=9, mm=0, email="erika@example.org", day=None) -> dict:
    return {"service": "personalausweis", "start": at(day or next_weekday(0), hh, mm).isoformat(),
            "name": "Erika Mustermann", "email": email}


def post(client, body, key, **kw):
    return client.post("/api/v1/appointments", json=body, headers={"Idempotency-Key": key}, **kw)


def test_a_repeated_booking_answers_as_the_first_and_books_once(steinfurt, app):
    first = post(steinfurt, booking(), "booking-7f3a")
    assert first.status_code == 201
    again = post(steinfurt, booking(), "booking-7f3a")
    assert again.status_code == 201
    assert again.json == first.json
    assert again.json["code"] == first.json["code"] and again.json["manage_token"] == first.json["manage_token"]
    assert again.headers["Location"] == first.headers["Location"]
    assert count_rows(app, "appointments") == 1
    assert len(mails(app)) == 1  # one confirmation
    # The same body with key order and spacing changed is the same request.
    body = booking()
    reordered = post(steinfurt, dict(reversed(list(body.items()))), "booking-7f3a")
    assert reordered.status_code == 201 and reordered.json["manage_token"] == first.json["manage_token"]


def test_same_key_with_another_body_is_422_and_changes_nothing(steinfurt, app):
    assert post(steinfurt, booking(9), "k-1").status_code == 201
    other = post(steinfurt, booking(10), "k-1")
    assert other.status_code == 422
    assert other.mimetype == "application/problem+json" and "Idempotency-Key" in other.json["errors"]
    assert count_rows(app, "appointments") == 1
    # A key is the tenant's: Emsdetten's client may use the same string for its own booking.
    ems = HostClient(app, "emsdetten.localhost")
    assert post(ems, booking(9), "k-1").status_code == 201
    assert count_rows(app, "appointments") == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "mit leerzeichen", "umlaut-ä", "tab\tkey"])
def test_a_key_must_be_1_to_255_visible_ascii_characters(steinfurt, app, key):
    r = post(steinfurt, booking(), key)
    assert r.status_code == 422 and "Idempotency-Key" in r.json["errors"]
    assert count_rows(app, "appointments") == 0


def test_move_and_cancel_repeated_with_their_keys(steinfurt, app):
    made = post(steinfurt, booking(9), "make").json
    token = made["manage_token"]
    path = f"/api/v1/appointments/{token}"
    target = {"start": at(next_weekday(0), 11).isoformat()}
    moved = steinfurt.patch(path, json=target, headers={"Idempotency-Key": "move-1"})
    assert moved.status_code == 200
    moved_again = steinfurt.patch(path, json=target, headers={"Idempotency-Key": "move-1"})
    assert moved_again.status_code == 200 and moved_again.json == moved.json
    assert moved_again.headers.get("Idempotent-Replayed") == "true"
    assert steinfurt.patch(path, json={"start": at(next_weekday(0), 12).isoformat()},
                           headers={"Idempotency-Key": "move-1"}).status_code == 422
    assert steinfurt.get(path).json["start"] == target["start"]
    assert [m["Subject"] for m in mails(app)].count(mails(app)[-1]["Subject"]) == 1  # one "moved" mail

    assert steinfurt.delete(path, headers={"Idempotency-Key": "cancel-1"}).status_code == 204
    again = steinfurt.delete(path, headers={"Idempotency-Key": "cancel-1"})
    assert again.status_code == 204 and again.get_data() == b""
    assert len(mails(app)) == 3  # confirmation, moved, cancellation: each once


def test_a_first_answer_that_was_an_error_is_answered_again(steinfurt, app):
    taken = booking(9, email="first@example.org")
    assert steinfurt.post("/api/v1/appointments", json=taken).status_code == 201
    steinfurt.post("/api/v1/appointments", json=booking(9, email="second@example.org"))  # the last counters
    steinfurt.post("/api/v1/appointments", json=booking(9, email="third@example.org"))
    late = booking(9, email="late@example.org")
    first = post(steinfurt, late, "late-1")
    assert first.status_code == 409
    assert post(steinfurt, late, "late-1").json == first.json


def test_every_web_process_sees_the_key_and_it_lapses_after_24_hours(steinfurt, app, fixed_now):
    first = post(steinfurt, booking(), "shared-key")
    assert first.status_code == 201
    # Another web process: its own app object and connection pool, the same database.
    other = create_app(dict(app.config))
    try:
        replay = post(HostClient(other, "steinfurt.localhost"), booking(), "shared-key")
        assert replay.status_code == 201 and replay.json["manage_token"] == first.json["manage_token"]
    finally:
        close(other)
    from app import clock

    fixed_now(clock.now() + timedelta(hours=24, minutes=1))
    lapsed = post(steinfurt, booking(10), "shared-key")
    assert lapsed.status_code == 201 and lapsed.json["manage_token"] != first.json["manage_token"]


def test_openapi_documents_the_idempotency_key(steinfurt):
    spec = steinfurt.get("/api/v1/openapi.json").json
    for path, method in (("/appointments", "post"), ("/appointments/{manage_token}", "patch"),
                         ("/appointments/{manage_token}", "delete")):
        op = spec["paths"][path][method]
        names = [p.get("name") or p.get("$ref", "").rsplit("/", 1)[-1] for p in op["parameters"]]
        assert "Idempotency-Key" in names, (path, method)
        assert "503" in op["responses"]


@pytest.mark.postgres
def test_client_that_lost_the_answer_retries_and_holds_one_booking(pg_app, pg_url, tmp_path):
    """Against gunicorn: the first request is sent whole and the connection dropped before
    the answer comes; the retry with the same key gets the booking the first one made."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=pg_url, AMTSTERMIN_INSTANCE=str(tmp_path / "web"), MAIL_URL="console",
               RATELIMIT_ENABLED="false", SECRET_KEY="test", AMTSTERMIN_ENV="development")
    env.pop("REDIS_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        headers = {"Host": "steinfurt.localhost", "Idempotency-Key": "lost-answer-1"}
        for _ in range(100):
            try:
                http.get(url + "/healthz", timeout=2)
                break
            except http.RequestException:
                time.sleep(0.1)
        body = http.models.Request("POST", url + "/api/v1/appointments", json=booking(),
                                   headers=headers).prepare()
        raw = (f"POST /api/v1/appointments HTTP/1.1\r\nHost: steinfurt.localhost\r\n"
               f"Idempotency-Key: lost-answer-1\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body.body)}\r\nConnection: close\r\n\r\n").encode() + body.body
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(raw)
        # Gone before the answer: the booking happens on the server all the same.
        deadline = time.monotonic() + 10
        while count_rows(pg_app, "appointments") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert count_rows(pg_app, "appointments") == 1
        retry = http.post(url + "/api/v1/appointments", json=booking(), headers=headers, timeout=10)
        assert retry.status_code == 201
        assert retry.headers.get("Idempotent-Replayed") == "true"
        with pg_app.app_context():
            from sqlalchemy import text

            token = db.session.execute(text("SELECT manage_token FROM appointments")).scalar_one()
        assert retry.json()["manage_token"] == token
        assert count_rows(pg_app, "appointments") == 1
    finally:
        server.terminate()
        server.wait(10)
