"""The citizen service page from the shared cache, in one process: a hit reads no database,
every visitor gets a page of their own language with their own CSRF token, nothing of one
visitor's request reaches another's page, and a committed change or the passing of time is
never answered from an old entry (tests/test_shared_cache_processes.py: across processes)."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from app.extensions import db
from app.offices.models import Closure, Office
from app.scheduling.answers import CSRF_MARKER
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope
from app.transaction import commit
from tests.conftest import REDIS_URL, HostClient, at, close, counted, make_app, needs_redis, next_weekday

pytestmark = [needs_redis, pytest.mark.postgres]
PAGE = "/services/personalausweis"


@pytest.fixture
def shared_app(pg_url, tmp_path):
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL)
    yield app
    close(app)


def visitor(app, **headers) -> HostClient:
    client = HostClient(app, "steinfurt.localhost")
    if headers:
        client.client.environ_base.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    return client


def in_steinfurt(app):
    with app.app_context(), all_tenants():
        tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
    return tenant_scope(tid)


def proposal_text(body: str) -> str | None:
    m = re.search(r'<p class="proposal-when">(.*?)</p>', body, re.S)
    return " ".join(m.group(1).split()) if m else None


def times(body: str) -> list[str]:
    """The starts the page's time buttons book (the chosen day's free times)."""
    return [unquote(html.unescape(h)).split("start=")[1]
            for h in re.findall(r'class="button button-time" href="([^"]+)"', body)]


def csrf_tokens(body: str) -> set[str]:
    return set(re.findall(r'name="csrf_token" value="([^"]*)"', body))


def close_everything(app) -> None:
    """A closure over the whole horizon: the page says the calendar is full and shows its forms."""
    today = next_weekday(0, after_days=0) - timedelta(days=7)
    with app.app_context(), in_steinfurt(app):
        office = db.session.scalar(select(Office))
        db.session.add(Closure(office_id=office.id, starts_at=at(today, 0), ends_at=at(today + timedelta(days=120), 0)))
        commit()


def test_a_page_hit_reads_no_database_and_is_the_same_page(shared_app):
    monday = next_weekday(0)
    paths = [PAGE, f"{PAGE}?day={monday}", f"{PAGE}?lang=en", f"{PAGE}?month={monday:%Y-%m}&day={monday}"]
    first = {p: visitor(shared_app).get(p) for p in paths}
    assert all(r.status_code == 200 for r in first.values()), {p: r.status_code for p, r in first.items()}
    with counted(shared_app) as statements:
        for path in paths:
            statements.clear()
            again = visitor(shared_app).get(path)
            assert again.status_code == 200 and again.content_type == first[path].content_type
            assert again.get_data() == first[path].get_data()
            assert statements == [], (path, statements)
            assert "frame-ancestors 'self' steinfurt.localhost" in again.headers["Content-Security-Policy"]
        # A page not seen before does read the database (the counting can fail).
        assert visitor(shared_app).get(f"{PAGE}?day={monday + timedelta(days=1)}").status_code == 200
        assert statements
    assert times(first[f"{PAGE}?day={monday}"].get_data(as_text=True))  # the day's starts are on the page


def test_german_and_english_visitors_each_get_their_language(shared_app):
    german, english, chosen = visitor(shared_app), visitor(shared_app, Accept_Language="en"), visitor(shared_app)
    de = german.get(PAGE).get_data(as_text=True)
    assert '<html lang="de">' in de and "Nächster freier Termin" in de
    en = english.get(PAGE).get_data(as_text=True)  # the same path: never the German entry
    assert '<html lang="en">' in en and "Next free appointment" in en and "Nächster freier Termin" not in en
    # A language chosen with the switch is remembered in the cookie and served from its entry.
    switched = chosen.get(f"{PAGE}?lang=en")
    assert "lang=en" in switched.headers.get("Set-Cookie", "")
    with counted(shared_app) as statements:
        assert chosen.get(PAGE).get_data(as_text=True) == en and statements == []
        assert german.get(PAGE).get_data(as_text=True) == de and statements == []
    assert proposal_text(de) and proposal_text(en) and proposal_text(de) != proposal_text(en)


def test_two_visitors_of_a_full_calendar_get_their_own_csrf_tokens(pg_url, tmp_path):
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL, WTF_CSRF_ENABLED=True)
    try:
        close_everything(app)
        anna, ben = visitor(app), visitor(app)
        first = anna.get(PAGE).get_data(as_text=True)
        assert "Zurzeit ist kein Termin frei" in first
        with counted(app) as statements:
            second = ben.get(PAGE).get_data(as_text=True)
            assert statements == []  # a hit, with Ben's own token filled in
        token_a, token_b = csrf_tokens(first), csrf_tokens(second)
        assert len(token_a) == 1 and len(token_b) == 1 and token_a != token_b
        assert CSRF_MARKER not in first + second
        assert first.replace(*token_a, "T") == second.replace(*token_b, "T")  # the rest is one page
        form = {"service": "personalausweis", "name": "Ben Muster", "phone": "02551 1234",
                "reason": "Reise in drei Tagen, Pass abgelaufen"}
        assert ben.post("/emergency", data={**form, "csrf_token": next(iter(token_a))}).status_code == 400
        assert ben.post("/emergency", data={**form, "csrf_token": next(iter(token_b))}).status_code == 303
    finally:
        close(app)


def test_nothing_of_one_visitors_query_reaches_anothers_page(shared_app):
    tracked = visitor(shared_app).get(f"{PAGE}?ref=anna-mail-4711").get_data(as_text=True)
    assert "anna-mail-4711" in tracked  # in the language switch's links: that page is Anna's alone
    plain = visitor(shared_app).get(PAGE).get_data(as_text=True)
    assert "anna-mail-4711" not in plain
    with counted(shared_app) as statements:
        assert visitor(shared_app).get(f"{PAGE}?ref=ben").status_code == 200
        assert statements  # computed for this visitor, not stored


def test_a_booking_or_the_clock_changes_the_page_at_once(shared_app, fixed_now):
    monday = next_weekday(0)
    fixed_now(at(monday - timedelta(days=7), 8))
    client = visitor(shared_app)
    day_page = f"{PAGE}?day={monday}"
    nine = at(monday, 9).isoformat()
    assert nine in times(client.get(day_page).get_data(as_text=True))
    for n in range(3):  # three counters at nine
        r = client.post("/api/v1/appointments", json={"service": "personalausweis", "start": nine,
                                                      "name": "Erika", "email": f"e{n}@example.org"})
        assert r.status_code == 201, r.get_data(as_text=True)
    assert nine not in times(client.get(day_page).get_data(as_text=True))
    first = proposal_text(client.get(PAGE).get_data(as_text=True))
    assert proposal_text(client.get(PAGE).get_data(as_text=True)) == first  # a hit
    fixed_now(at(monday - timedelta(days=7), 8) + timedelta(days=1))  # the first start became too soon
    with counted(shared_app) as statements:
        later = proposal_text(client.get(PAGE).get_data(as_text=True))
        assert statements
    assert later != first
