"""Abuse visible to staff (issue 16 point 6): refused online bookings are counted per day
and reason — rate limit, e-mail cap, phone cap, proof of work — on the API and the booking
form, and staff read the counts in the back office; no address is stored with them."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select

from app.extensions import db
from tests.conftest import HostClient, at, close, count_rows, make_app, next_weekday
from tests.test_api_booking import book as api_book
from tests.test_backoffice_support import login, make_user
from tests.test_citizen_pages import book, book_link_on, set_settings


def test_refusals_are_counted_per_reason_and_shown_to_staff(app, steinfurt):
    day = next_weekday(1)
    set_settings(app, "steinfurt", altcha=True, max_active_per_email=1, max_active_per_phone=1)
    # Proof of work: the API without a solution, the form with a broken one.
    assert api_book(steinfurt, at(day, 9)).status_code == 422
    link = book_link_on(steinfurt, day)
    assert book(steinfurt, link, altcha="bm9wZQ==").status_code == 422
    # Caps: the form without JavaScript is held but counts; the next ones are refused.
    assert book(steinfurt, link, email="erika@example.org", phone="0171 5551234").status_code == 303
    assert book(steinfurt, book_link_on(steinfurt, day), email="Erika+2@example.org").status_code == 422
    set_settings(app, "steinfurt", altcha=False)
    r = api_book(steinfurt, at(day, 11), email="ERIKA@example.org")
    assert r.status_code == 409 and r.json["cap"] == "email"
    r = api_book(steinfurt, at(day, 12), email="max@example.org", phone="+49 171 555 1234")
    assert r.status_code == 409 and r.json["cap"] == "phone"
    assert count_rows(app, "appointments") == 1

    make_user(app, "staff@steinfurt.example", "steinfurt", "staff")
    login(steinfurt, "staff@steinfurt.example")
    page = steinfurt.get("/admin/refusals")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    from app import clock
    from app.scheduling.calendar import zone
    today = clock.now().astimezone(zone("Europe/Berlin")).date()
    assert f"{today:%d.%m.%Y}: 5 abgewiesen" in html
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', html)
    assert [int(n) for _, n in rows] == [0, 2, 1, 2]  # rate limit, e-mail cap, phone cap, proof of work
    with app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("refusal_counts")}
    assert columns == {"id", "tenant_id", "day", "reason", "count"}  # nobody's address


def test_the_rate_limit_is_counted_too(database_url, tmp_path):
    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    client = HostClient(app, "steinfurt.localhost")
    for _ in range(12):
        last = client.post("/api/v1/appointments", json={"service": "personalausweis", "name": "N", "email": "bad",
                                                         "start": at(next_weekday(0), 8).isoformat()})
    assert last.status_code == 429
    assert count_rows(app, "refusal_counts") == 1
    from app.booking.refusals import RefusalCount
    from app.tenancy.scope import all_tenants
    with app.app_context(), all_tenants():
        row = db.session.query(RefusalCount).one()
        assert (row.reason, row.count) == ("ratelimit", 2)
    close(app)


def test_counts_and_the_page_follow_the_towns_day_not_utc(app, steinfurt, fixed_now):
    """At 00:30 in Steinfurt it is still yesterday in UTC: a refusal then counts for the
    town's new day, and "the last 14 days" are the town's 14 days, today included."""
    set_settings(app, "steinfurt", altcha=True)
    today = next_weekday(2)
    for day in (today - timedelta(days=14), today - timedelta(days=13)):
        fixed_now(at(day, 12))
        assert api_book(steinfurt, at(next_weekday(1, start=day), 9)).status_code == 422
    fixed_now(at(today, 0, 30))  # 23:30 or 22:30 UTC the day before
    assert api_book(steinfurt, at(next_weekday(1, start=today), 9)).status_code == 422

    make_user(app, "staff@steinfurt.example", "steinfurt", "staff")
    login(steinfurt, "staff@steinfurt.example")
    html = steinfurt.get("/admin/refusals").get_data(as_text=True)
    shown = re.findall(r"<caption>([\d.]+): (\d+) abgewiesen</caption>", html)
    assert shown == [(f"{today:%d.%m.%Y}", "1"), (f"{today - timedelta(days=13):%d.%m.%Y}", "1")]


def test_an_unknown_reason_is_refused_not_counted(app):
    from app.booking.refusals import count_refusal
    from app.tenancy.models import Tenant
    from app.tenancy.resolve import tenant_info
    from app.tenancy.scope import all_tenants, tenant_scope

    with app.app_context():
        with all_tenants():
            tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
        with tenant_scope(tid):
            with pytest.raises(ValueError, match="unknown refusal reason 'cap_mail'"):
                count_refusal(tenant_info(tid), "cap_mail")
            count_refusal(tenant_info(tid), "cap_email")
            db.session.commit()
    assert count_rows(app, "refusal_counts") == 1


def test_a_refusal_undoes_the_bookings_work_and_its_count_stands(app):
    """`refused()` is what the API, the form and the rate limit's answer call: whatever the
    refused request had flushed is rolled back, the one count is committed."""
    from app.booking.refusals import RefusalCount, count_refusal, refused
    from app.tenancy.models import Tenant
    from app.tenancy.resolve import tenant_info
    from app.tenancy.scope import all_tenants, tenant_scope

    with app.app_context():
        with all_tenants():
            tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
        with tenant_scope(tid):
            count_refusal(tenant_info(tid), "cap_phone")  # the request's own work, flushed, never committed
            refused(tenant_info(tid), "proof_of_work")
        db.session.remove()
        with all_tenants():
            rows = [(r.reason, r.count) for r in db.session.scalars(select(RefusalCount))]
    assert rows == [("proof_of_work", 1)]
