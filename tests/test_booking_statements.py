"""A booking in a few statements, and its mail rendered by the worker, not the request
(issue 18): the statements of an API and of a citizen-form booking on PostgreSQL, counted
at the cursor, none repeated; the outbox row the request leaves has no text yet, the worker
renders and sends it complete, and skips a confirmation whose booking was cancelled first."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.booking.models import Appointment
from app.extensions import db
from app.jobs.worker import run_worker
from app.mail.models import OutboxMail
from app.mail.transport import close_connections
from app.tenancy.scope import all_tenants
from tests.conftest import REDIS_URL, HostClient, at, close, counted, make_app, needs_redis, next_weekday
from tests.workers import Sink, free_port

pytestmark = needs_redis  # as deployed: after the commit, jobs go to Redis, not into the request

# The API booking, statement by statement (the citizen form runs the same ones):
# the service; the locks (day, mailbox) in one statement; under the lock one statement for
# the day (counters, that weekday's hours, closures, the appointments), the mailbox cap and
# the office with its main entrance; savepoint, the appointment, its service, the statistics
# delta, the slot cache's version (last: the office row's lock is held for the fewest
# statements), release; the outbox row; the webhook endpoints.
API_BOOKING = 11
CITIZEN_BOOKING = 11



def booking(day, hh, i, **extra):
    return {"service": "personalausweis", "start": at(day, hh).isoformat(), "name": "Quentin Quast",
            "email": f"q{i}@example.org", **extra}


@pytest.fixture
def redis_app(pg_url, tmp_path):
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()
    port = free_port()
    sink = Sink(port).start()
    # The host cache as deployed (seconds, not 0 as in other tests): in a rush the tenant is known.
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL, MAIL_URL=f"smtp://127.0.0.1:{port}", HOST_CACHE_SECONDS=60)
    yield app, sink
    sink.stop()
    close_connections()
    close(app)


def test_a_booking_takes_few_statements_and_repeats_none(redis_app):
    app, _ = redis_app
    client = HostClient(app, "steinfurt.localhost")
    monday = next_weekday(0)
    assert client.post("/api/v1/appointments", json=booking(monday, 8, 0)).status_code == 201  # warm caches
    with counted(app) as api:
        assert client.post("/api/v1/appointments", json=booking(monday, 9, 1)).status_code == 201
    assert len(api) == API_BOOKING, "\n".join(api)
    assert len(set(api)) == len(api), "a statement repeats"
    office_lock = next(i for i, s in enumerate(api) if s.lstrip().upper().startswith("UPDATE OFFICES"))
    assert all(not s.lstrip().upper().startswith("INSERT") for s in api[office_lock:] if "outbox_mails" not in s), \
        "the office's version is raised before the booking's rows are written"
    with counted(app) as citizen:
        start = at(monday, 10).isoformat()
        r = client.post(f"/book?service=personalausweis&start={start}",
                        data={"name": "Quentin Quast", "email": "q2@example.org", "persons": "1"})
        assert r.status_code == 303, r.data[:500]
    assert len(citizen) == CITIZEN_BOOKING, "\n".join(citizen)
    assert len(set(citizen)) == len(citizen), "a statement repeats"
    # The request wrote the mail's event, not its text: no template, office or entrance read for it.
    assert not any("mail_templates" in s for s in api + citizen)


def test_the_worker_renders_the_mail_complete_and_skips_one_no_longer_warranted(redis_app):
    app, sink = redis_app
    client = HostClient(app, "steinfurt.localhost")
    monday = next_weekday(0)
    kept = client.post("/api/v1/appointments", json=booking(monday, 9, 1, lang="en"))
    gone = client.post("/api/v1/appointments", json=booking(monday, 10, 2))
    assert kept.status_code == gone.status_code == 201
    assert client.delete(f"/api/v1/appointments/{gone.json['manage_token']}").status_code in (200, 204)
    with app.app_context(), all_tenants():
        rows = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        assert [(r.event, r.lang, r.status) for r in rows] == [
            ("confirmation", "en", "pending"), ("confirmation", "de", "pending"), ("cancellation", "de", "pending")]
        assert all(r.text_body is None and r.html_body is None and r.subject is None and r.rendered_at is None
                   for r in rows)
    assert sink.messages == []
    with app.app_context():
        run_worker(app, burst=True)
    [mail, cancelled] = sink.messages  # the second confirmation: its booking was cancelled before
    assert (mail["To"], cancelled["To"]) == ("q1@example.org", "q2@example.org")
    assert "Cancel" not in mail["Subject"] and cancelled["Subject"].startswith("Termin abgesagt")
    text = mail.get_body(("plain",)).get_content()
    a = kept.json
    for fact in (f"{at(monday, 9).day} ", "09:00", a["office"]["address"], a["entrance"]["name"], a["code"],
                 a["manage_url"], *a["documents"]):
        assert fact in text, fact
    [ics] = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert "METHOD:PUBLISH" in ics.get_content() and re.search(r"DTSTART;TZID=Europe/Berlin:\d{8}T090000",
                                                               ics.get_content())
    with app.app_context(), all_tenants():
        rows = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        assert [r.status for r in rows] == ["sent", "skipped", "sent"]
        # The latency probe: queued with the booking, rendered and taken by the SMTP server after.
        assert all(r.created_at <= r.rendered_at <= r.sent_at for r in (rows[0], rows[2]))
        assert rows[0].text_body == text.replace("\r\n", "\n").strip() or rows[0].text_body in text


def test_a_clash_of_booking_codes_is_answered_by_the_constraint(app, steinfurt, monkeypatch):
    from app.booking import service

    monday = next_weekday(0)
    first = steinfurt.post("/api/v1/appointments", json=booking(monday, 9, 1))
    codes = iter([first.json["code"], "ZZZZ-2345"])
    monkeypatch.setattr(service, "new_code", lambda: next(codes))
    second = steinfurt.post("/api/v1/appointments", json=booking(monday, 10, 2))
    assert second.status_code == 201 and second.json["code"] == "ZZZZ-2345"
    # Its confirmation is written once, after the retry: one mail for each booking, the
    # second's to its own address and about its own appointment.
    with app.app_context(), all_tenants():
        rows = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        assert [(r.event, r.to_addr) for r in rows] == [("confirmation", "q1@example.org"),
                                                       ("confirmation", "q2@example.org")]
        booked = db.session.scalar(select(Appointment.id).where(Appointment.code == "ZZZZ-2345"))
        assert booked is not None and rows[1].appointment_id == booked
