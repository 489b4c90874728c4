"""Request logs name the route, never the path: no token, e-mail or name gets in."""
from __future__ import annotations

import logging
import time

from tests.conftest import at, next_weekday


def test_access_log_holds_no_secret_or_personal_data(steinfurt, caplog):
    caplog.set_level(logging.INFO, logger="app")
    r = steinfurt.post("/api/v1/appointments", json={"service": "personalausweis",
                                                     "start": at(next_weekday(0), 9).isoformat(),
                                                     "name": "Erika Geheim", "email": "erika.geheim@example.org"})
    token = r.json["manage_token"]
    steinfurt.get(f"/api/v1/appointments/{token}")
    steinfurt.get(f"/manage/{token}")
    steinfurt.get("/book?service=personalausweis&email=erika.geheim@example.org")
    steinfurt.get("/admin/invitation/some-secret-invitation-token")
    access = [r for r in caplog.records if r.name == "app.access"]
    assert len(access) == 5
    assert {r.path for r in access} >= {"/api/v1/appointments", "/api/v1/appointments/<token>", "/manage/<token>",
                                        "/admin/invitation/<token>"}
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    for secret in (token, "erika.geheim", "Geheim", "some-secret-invitation-token"):
        assert secret not in text


def test_development_server_logs_no_token_name_or_email(sqlite_url, tmp_path):
    """`make run` serves with `flask run`: everything it writes (werkzeug's request log
    included) holds no manage or invitation token, no name, no e-mail address."""
    import json
    import os
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from app import ROOT
    from tests.conftest import close, make_app
    from tests.workers import Sink, free_port

    close(make_app(sqlite_url, tmp_path))  # the demo tenants, in a database the server uses too
    port, smtp_port = free_port(), free_port()
    sink = Sink(smtp_port).start()
    log_path = tmp_path / "server.log"
    env = dict(os.environ, DATABASE_URL=sqlite_url, AMTSTERMIN_INSTANCE=str(tmp_path / "instance"),
               AMTSTERMIN_ENV="development", MAIL_URL=f"smtp://127.0.0.1:{smtp_port}", RATELIMIT_ENABLED="false",
               PORT=str(port))
    env.pop("REDIS_URL", None)
    with open(log_path, "wb") as out:
        # The command `make run` ends with.
        server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1",
                                   "--port", str(port), "--no-reload"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def call(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Host": f"steinfurt.localhost:{port}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    try:
        for _ in range(100):
            try:
                call("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        status, body = call("POST", "/api/v1/appointments", {
            "service": "personalausweis", "start": at(next_weekday(0), 9).isoformat(), "name": "Erika Geheimnis",
            "email": "erika.geheimnis@example.org"})
        assert status == 201, body
        token = json.loads(body)["manage_token"]
        assert call("GET", f"/api/v1/appointments/{token}")[0] == 200
        assert call("GET", f"/manage/{token}")[0] == 200
        call("GET", "/admin/invitation/invitation-secret-123456")
        call("GET", "/book?service=personalausweis&email=erika.geheimnis@example.org")
        assert call("DELETE", f"/api/v1/appointments/{token}")[0] == 204
        for _ in range(50):
            if len(sink.messages) >= 2:
                break
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(10)
        sink.stop()
    written = log_path.read_text(errors="replace")
    assert '"status": 201' in written  # the app's own request log is there, by route
    for secret in (token, "invitation-secret-123456", "Geheimnis", "erika.geheimnis", "example.org"):
        assert secret not in written, f"{secret!r} in the development server's output"
