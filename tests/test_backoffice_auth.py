"""Back-office login: per tenant host, throttled without locking anyone out, CSRF-protected,
the same answer for unknown user and wrong password."""
from __future__ import annotations

import base64
import json
import re

import pytest

from app.accounts import throttle
from app.extensions import db
from app.transaction import commit
from tests.conftest import make_app, mails
from tests.test_backoffice_support import PASSWORD, logged_in, login, make_user  # noqa: F401


def test_anonymous_is_sent_to_the_login_page(steinfurt):
    resp = steinfurt.get("/admin/day")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/admin/login?next=/admin/day")
    page = steinfurt.get("/admin/login")
    assert page.status_code == 200
    assert '<label for="email">E-Mail</label>' in page.get_data(as_text=True)


def test_login_then_day_view_then_logout(app, steinfurt):
    make_user(app, "clerk@steinfurt.example", "steinfurt", "staff")
    resp = login(steinfurt, "Clerk@Steinfurt.example", next="/admin/day")
    assert resp.status_code == 302 and resp.headers["Location"] == "/admin/day"
    assert steinfurt.get("/admin/day").status_code == 200
    steinfurt.post("/admin/logout")
    assert steinfurt.get("/admin/day").status_code == 302


def test_unknown_user_and_wrong_password_get_the_same_answer(app, steinfurt):
    make_user(app, "clerk@steinfurt.example", "steinfurt", "staff")
    wrong = login(steinfurt, "clerk@steinfurt.example", "falsches-passwort")
    unknown = login(steinfurt, "nobody@steinfurt.example", "falsches-passwort")
    assert wrong.status_code == unknown.status_code == 401
    def strip(resp, email):
        text = resp.get_data(as_text=True).replace(email, "")
        return re.sub(r'name="csrf_token" value="[^"]*"', "", text)

    assert strip(wrong, "clerk@steinfurt.example") == strip(unknown, "nobody@steinfurt.example")
    assert "E-Mail-Adresse oder Passwort ist falsch." in wrong.get_data(as_text=True)


def test_passwords_are_hashed_with_argon2id_at_full_cost_outside_the_tests(sqlite_url, tmp_path):
    """The suite hashes with cheap parameters (tests/conftest.py TEST_HASH); an app that is
    not TESTING ignores PASSWORD_HASH_PARAMETERS and pays the full cost (64 MiB, 3 passes)."""
    from app.accounts.service import hash_password

    app = make_app(sqlite_url, tmp_path, demo=False)
    with app.app_context():
        assert hash_password("richtig-geheim-42").startswith("$argon2id$v=19$m=1024,t=1,p=1$")
        app.config["TESTING"] = False
        try:
            full = hash_password("richtig-geheim-42")
        finally:
            app.config["TESTING"] = True
    assert full.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_user_of_another_tenant_cannot_log_in_here(app, steinfurt, emsdetten):
    make_user(app, "clerk@emsdetten.example", "emsdetten", "staff")
    assert login(steinfurt, "clerk@emsdetten.example").status_code == 401
    assert login(emsdetten, "clerk@emsdetten.example").status_code == 302


def test_the_next_parameter_never_leaves_the_back_office(app, steinfurt):
    make_user(app, "clerk@steinfurt.example", "steinfurt", "staff")
    resp = login(steinfurt, "clerk@steinfurt.example", next="https://evil.example/admin")
    assert resp.headers["Location"] == "/admin/"


def test_district_it_acts_in_each_town_of_its_district(app, steinfurt, emsdetten):
    make_user(app, "it@kreis-steinfurt.example", "kreis-steinfurt", "district-it")
    assert login(steinfurt, "it@kreis-steinfurt.example").status_code == 302
    assert steinfurt.get("/admin/settings").status_code == 200
    assert login(emsdetten, "it@kreis-steinfurt.example").status_code == 302


def test_a_session_cookie_replayed_on_another_tenant_host_is_no_login(app, steinfurt, emsdetten):
    # District IT may act in both towns, so only the session's binding to its host refuses it.
    make_user(app, "it@kreis-steinfurt.example", "kreis-steinfurt", "district-it")
    assert login(steinfurt, "it@kreis-steinfurt.example").status_code == 302
    cookie = steinfurt.client.get_cookie("session", domain="steinfurt.localhost")
    assert cookie is not None
    assert steinfurt.get("/admin/day").status_code == 200
    emsdetten.client.set_cookie("session", cookie.value, domain="emsdetten.localhost")
    resp = emsdetten.get("/admin/day")
    assert resp.status_code == 302 and "/admin/login" in resp.headers["Location"]


def _advance(monkeypatch, seconds: float):
    """Move app.clock.now forward (the throttle's clock)."""
    from datetime import timedelta

    from app import clock

    moved = clock.now() + timedelta(seconds=seconds)
    monkeypatch.setattr(clock, "now", lambda: moved)


def _solved(client) -> str:
    from app.proof_of_work import solve

    challenge = client.get("/admin/login/challenge")
    assert challenge.status_code == 200 and challenge.headers["Cache-Control"] == "no-store"
    return solve(challenge.json)


def test_wrong_passwords_slow_the_guesser_but_never_lock_the_owner_out(app, steinfurt, monkeypatch):
    # Before: five wrong passwords locked the named clerk out for 15 minutes, from anywhere.
    make_user(app, "clerk@steinfurt.example", "steinfurt", "staff")
    guesser = "203.0.113.66"
    for n in range(1, 6):
        assert login(steinfurt, "clerk@steinfurt.example", "falsch-falsch-falsch", addr=guesser).status_code == 401
        if n >= 3:  # from the 3rd failure the guesser's next try waits 1, 2, 4 … seconds
            early = login(steinfurt, "clerk@steinfurt.example", "falsch-falsch-falsch", addr=guesser)
            assert early.status_code == 429 and early.headers["Retry-After"] == str(2 ** (n - 3))
            assert "Bitte warten Sie" in early.get_data(as_text=True)
            _advance(monkeypatch, 2 ** (n - 3))
    # Five failures: every attempt now needs proof of work — the page shows the widget.
    page = login(steinfurt, "clerk@steinfurt.example", addr="198.51.100.7")
    assert page.status_code == 429
    text = page.get_data(as_text=True)
    assert "<altcha-widget" in text and "/static/altcha/altcha.min.js" in text and "kein Roboter" in text
    assert steinfurt.get("/admin/day").status_code == 302
    # The clerk at her desk solves it (her browser does) and is in at once: no lock.
    ok = login(steinfurt, "clerk@steinfurt.example", addr="198.51.100.7", altcha=_solved(steinfurt))
    assert ok.status_code == 302 and steinfurt.get("/admin/day").status_code == 200
    # She was told by mail, once, without the guesser's address.
    told = [m for m in mails(app) if "Fehlgeschlagene Anmeldeversuche" in m["Subject"]]
    assert len(told) == 1 and told[0]["To"] == "clerk@steinfurt.example"
    body = told[0].get_body(("plain",)).get_content()
    assert "5 fehlgeschlagene" in body and guesser not in body


def test_a_guess_without_the_proof_of_work_is_not_even_checked(app, steinfurt):
    make_user(app, "clerk@steinfurt.example", "steinfurt", "staff")
    with app.app_context():
        for _ in range(5):
            throttle.record_failure("clerk@steinfurt.example", "192.0.2.1")
        commit()
    for payload in (None, "not-base64!", base64.b64encode(b'{"algorithm": "SHA-256"}').decode()):
        resp = login(steinfurt, "clerk@steinfurt.example", addr="192.0.2.99", **({"altcha": payload} if payload else {}))
        assert resp.status_code == 429, payload
    assert steinfurt.get("/admin/day").status_code == 302


def test_the_wait_grows_and_is_capped_at_half_a_minute():
    assert [throttle.delay_for(n) for n in range(12)] == [0, 0, 0, 1, 2, 4, 8, 16, 30, 30, 30, 30]


def test_a_town_halls_shared_address_is_not_shut_out(app, steinfurt):
    # Before: about 20 failures from one address blocked every login from it.
    make_user(app, "clerk@steinfurt.example", "steinfurt", "staff")
    hall = "10.1.1.1"

    def fail_from_hall(count):
        with app.app_context():
            for i in range(count):
                throttle.record_failure(f"colleague{i}@steinfurt.example", hall)
            commit()

    fail_from_hall(throttle.ADDRESS_POW_AFTER - 1)
    assert login(steinfurt, "clerk@steinfurt.example", addr=hall).status_code == 302
    steinfurt.post("/admin/logout")
    fail_from_hall(1)  # 30 failures in 15 minutes: a proof of work, still no lock
    assert login(steinfurt, "clerk@steinfurt.example", addr=hall).status_code == 429
    assert login(steinfurt, "clerk@steinfurt.example", addr=hall, altcha=_solved(steinfurt)).status_code == 302
    steinfurt.post("/admin/logout")
    fail_from_hall(throttle.ADDRESS_MAX_FAILURES - throttle.ADDRESS_POW_AFTER)  # 300: a flood, refused a while
    flood = login(steinfurt, "clerk@steinfurt.example", addr=hall, altcha=_solved(steinfurt))
    assert flood.status_code == 429 and 0 < int(flood.headers["Retry-After"]) <= 15 * 60
    assert login(steinfurt, "clerk@steinfurt.example", addr="10.2.2.2").status_code == 302


def test_a_second_web_process_sees_the_same_failures(database_url, tmp_path, host_client):
    # Counted in the database: no process memory, with or without Redis.
    second = make_app(database_url, tmp_path / "b", demo=False)
    first = make_app(database_url, tmp_path / "a")  # one database, two processes
    make_user(first, "clerk@steinfurt.example", "steinfurt", "staff")
    a, b = host_client(first, "steinfurt.localhost"), host_client(second, "steinfurt.localhost")
    try:
        with first.app_context():
            for _ in range(4):
                throttle.record_failure("clerk@steinfurt.example", "10.9.9.1")
            commit()
        assert login(a, "clerk@steinfurt.example", "falsch-falsch-falsch", addr="10.9.9.3").status_code == 401
        assert login(b, "clerk@steinfurt.example", addr="10.9.9.2").status_code == 429  # proof of work needed
    finally:
        for each in (first, second):
            with each.app_context():
                db.session.remove()
                db.engine.dispose()


def test_proof_of_work_solutions_count_once_and_expire(app):
    from datetime import timedelta

    from app.proof_of_work import ProofOfWorkError, new_challenge, solve, verify

    with app.test_request_context("/", headers={"Host": "steinfurt.localhost"}):
        payload = solve(new_challenge(max_number=1000))
        verify(payload)
        with pytest.raises(ProofOfWorkError) as reused:
            verify(payload)
        assert reused.value.reason == "reused"
        stale = solve(new_challenge(max_number=1000, valid_for=timedelta(seconds=-1)))
        with pytest.raises(ProofOfWorkError) as expired:
            verify(stale)
        assert expired.value.reason == "expired"
        forged = json.loads(base64.b64decode(solve(new_challenge(max_number=1000))))
        forged["number"] += 1
        with pytest.raises(ProofOfWorkError) as wrong:
            verify(base64.b64encode(json.dumps(forged).encode()).decode())
        assert wrong.value.reason == "invalid"
        with pytest.raises(ProofOfWorkError) as missing:
            verify("")
        assert missing.value.reason == "missing"


def test_change_password(app, steinfurt):
    logged_in(app, steinfurt, "staff", email="clerk@steinfurt.example")
    bad = steinfurt.post("/admin/password", data={"current": "nope", "new": "neues-passwort-1",
                                                  "repeat": "neues-passwort-1"})
    assert bad.status_code == 422 and "bisherige Passwort stimmt nicht" in bad.get_data(as_text=True)
    ok = steinfurt.post("/admin/password", data={"current": PASSWORD, "new": "neues-passwort-1",
                                                 "repeat": "neues-passwort-1"})
    assert ok.status_code == 302
    steinfurt.post("/admin/logout")
    assert login(steinfurt, "clerk@steinfurt.example").status_code == 401
    assert login(steinfurt, "clerk@steinfurt.example", "neues-passwort-1").status_code == 302


def test_forms_without_csrf_token_are_refused(sqlite_url, tmp_path, host_client):
    app = make_app(sqlite_url, tmp_path, WTF_CSRF_ENABLED=True)
    client = host_client(app, "steinfurt.localhost")
    make_user(app, "clerk@steinfurt.example", "steinfurt", "staff")
    assert login(client, "clerk@steinfurt.example").status_code == 400
    page = client.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert login(client, "clerk@steinfurt.example", csrf_token=token).status_code == 302
    # Logged in, a write without the token is still refused.
    assert client.post("/admin/logout").status_code == 400
    assert client.get("/admin/day").status_code == 200
