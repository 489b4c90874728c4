"""Back-office login: per tenant host, throttled, CSRF-protected, the same answer for
unknown user and wrong password."""
from __future__ import annotations

import re


from app.extensions import db
from tests.conftest import REDIS_URL, make_app, needs_redis
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


def test_login_is_throttled_per_account_with_a_clear_message(app, steinfurt):
    make_user(app, "clerk@steinfurt.example", "steinfurt", "staff")
    for _ in range(5):
        assert login(steinfurt, "clerk@steinfurt.example", "falsch-falsch-falsch").status_code == 401
    blocked = login(steinfurt, "clerk@steinfurt.example")  # even the right password now
    assert blocked.status_code == 429
    assert "15 Minuten gesperrt" in blocked.get_data(as_text=True)
    assert steinfurt.get("/admin/day").status_code == 302
    # Another account from elsewhere is not affected.
    make_user(app, "other@steinfurt.example", "steinfurt", "staff")
    other = login(steinfurt, "other@steinfurt.example", addr="10.0.0.9")
    assert other.status_code == 302


def test_login_is_throttled_per_client_address(app, steinfurt):
    from app.backoffice.throttle import ADDRESS_MAX_FAILURES

    make_user(app, "clerk@steinfurt.example", "steinfurt", "staff")
    for i in range(ADDRESS_MAX_FAILURES):
        login(steinfurt, f"guess{i}@steinfurt.example", "falsch-falsch-falsch",
              addr="10.1.1.1")
    resp = login(steinfurt, "clerk@steinfurt.example", addr="10.1.1.1")
    assert resp.status_code == 429
    assert login(steinfurt, "clerk@steinfurt.example", addr="10.2.2.2").status_code == 302


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


@needs_redis
def test_with_redis_the_throttle_is_shared_by_every_web_process(sqlite_url, tmp_path, host_client):
    import uuid

    from app.backoffice import throttle

    email = f"clerk-{uuid.uuid4().hex[:8]}@steinfurt.example"
    second = make_app(sqlite_url, tmp_path / "b", REDIS_URL=REDIS_URL, demo=False)
    first = make_app(sqlite_url, tmp_path / "a", REDIS_URL=REDIS_URL)  # one database, two processes
    make_user(first, email, "steinfurt", "staff")
    a, b = host_client(first, "steinfurt.localhost"), host_client(second, "steinfurt.localhost")
    try:
        for _ in range(5):
            assert login(a, email, "falsch-falsch-falsch", addr="10.9.9.1").status_code == 401
        assert throttle._memory._fails == {}  # counted in Redis, not in this process
        assert login(b, email, addr="10.9.9.2").status_code == 429  # the other process sees the block
    finally:
        with first.app_context():
            throttle.succeeded(email)
            throttle.counters().reset(throttle._key("address", "10.9.9.1"))
        for each in (first, second):
            with each.app_context():
                db.session.remove()
                db.engine.dispose()
