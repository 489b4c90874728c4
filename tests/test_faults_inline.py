"""Without Redis, the answer never waits for mail: the in-process delivery runs in a
background thread after the commit, and a stalled SMTP server holds up only itself."""
from __future__ import annotations

import time

from sqlalchemy import select

from app.extensions import db
from app.jobs.queue import wait_for_background
from app.mail.models import OutboxMail
from app.tenancy.scope import all_tenants
from tests.conftest import close, make_app, next_weekday
from tests.test_faults_worker import HoldingSink, wait_for
from tests.test_mail_delivery import book
from tests.workers import free_port


class RawClient:
    def __init__(self, client, host: str):
        self.client, self.host = client, host

    def get(self, path, **kw):
        return self.client.get(path, headers={"Host": self.host}, **kw)

    def post(self, path, **kw):
        return self.client.post(path, headers={"Host": self.host}, **kw)


def test_a_stalled_mail_server_does_not_hold_up_the_booking(database_url, tmp_path):
    port = free_port()
    sink = HoldingSink(port).start()
    sink.hold = True  # the server takes the connection, then says nothing at RCPT
    app = make_app(database_url, tmp_path, MAIL_URL=f"smtp://127.0.0.1:{port}?timeout=10", REDIS_URL=None)
    try:
        # The bare test client: HostClient would wait for the background mail after each request.
        client = RawClient(app.test_client(), "steinfurt.localhost")
        assert client.get("/api/v1/services").status_code == 200
        started = time.monotonic()
        r = book(client, next_weekday(0), 9)
        took = time.monotonic() - started
        assert r.status_code == 201
        assert took < 3, f"the booking waited {took:.1f} s for the mail server (SMTP timeout 10 s)"
        assert sink.arrived.wait(5), "the mail was never handed to the server"
        started = time.monotonic()
        assert book(client, next_weekday(0), 10, i=1).status_code == 201  # and the next one too
        assert time.monotonic() - started < 3
        sink.release.set()
        assert wait_for(lambda: len(sink.messages) == 2, 10)
        wait_for_background()
        with app.app_context(), all_tenants():
            assert db.session.scalars(select(OutboxMail.status)).all() == ["sent", "sent"]
    finally:
        sink.release.set()
        sink.stop()
        close(app)
