"""Request logs name the route, never the path: no token, e-mail or name gets in."""
from __future__ import annotations

import logging

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
