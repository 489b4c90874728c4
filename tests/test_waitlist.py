"""The waiting list: a freed slot is offered to the first in line, and passed on when
that offer lapses."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from app import clock
from app.booking import waitlist
from app.booking.models import WaitlistEntry
from app.catalog.models import Service
from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope
from app.transaction import commit
from tests.conftest import at, mails, next_weekday


def test_a_lapsed_offer_passes_to_the_next_in_line(app, steinfurt):
    from app.jobs.due import run_due

    with app.app_context():
        with all_tenants():
            tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
        with tenant_scope(tid):
            svc = db.session.scalar(select(Service).where(Service.slug == "personalausweis"))
            waitlist.join(svc, name="Anna Erste", email="anna@example.org")
            commit()
            svc = db.session.scalar(select(Service).where(Service.slug == "personalausweis"))
            waitlist.join(svc, name="Bernd Zweiter", email="bernd@example.org",
                          now=clock.now() + timedelta(minutes=1))
            commit()
    monday = next_weekday(0)
    a = steinfurt.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(monday, 9).isoformat(),
                                                     "name": "Carla", "email": "carla@example.org"}).json
    assert steinfurt.delete(f"/api/v1/appointments/{a['manage_token']}").status_code == 204
    offers = [m for m in mails(app) if m["To"] in ("anna@example.org", "bernd@example.org")
              and "frei geworden" in m["Subject"]]
    assert [m["To"] for m in offers] == ["anna@example.org"]
    with app.app_context():
        result = run_due(now=clock.now() + timedelta(days=2, minutes=5))
        assert result["offers_expired"] == 1
        with tenant_scope(tid):
            status = {e.email: e.status for e in db.session.scalars(select(WaitlistEntry))}
        assert status == {"anna@example.org": "expired", "bernd@example.org": "offered"}
    offers = [m for m in mails(app) if m["To"] in ("anna@example.org", "bernd@example.org")
              and "frei geworden" in m["Subject"]]
    assert [m["To"] for m in offers] == ["anna@example.org", "bernd@example.org"]
    assert "Carla" not in offers[1].get_body(("plain",)).get_content()


def test_a_freed_slot_is_offered_to_the_entry_whose_preferences_match(app, steinfurt, fixed_now):
    monday = next_weekday(0, after_days=7)
    fixed_now(at(monday - timedelta(days=3), 10))
    # Joined first, but wants afternoons only: the 09:00 start does not match.
    assert steinfurt.post("/waitlist", data={"service": "personalausweis", "name": "Nina Nachmittag",
                                             "email": "nina@example.org", "daypart": "afternoon"}).status_code == 303
    # Wants Tuesdays only.
    assert steinfurt.post("/waitlist", data={"service": "personalausweis", "name": "Tom Dienstag",
                                             "email": "tom@example.org", "weekdays": "1"}).status_code == 303
    # Mondays and Wednesdays, mornings, in a range that holds the day: matches.
    assert steinfurt.post("/waitlist", data={
        "service": "personalausweis", "name": "Mia Morgen", "email": "mia@example.org",
        "weekdays": ["0", "2"], "daypart": "morning", "date_from": (monday - timedelta(days=1)).isoformat(),
        "date_until": (monday + timedelta(days=1)).isoformat()}).status_code == 303
    a = steinfurt.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(monday, 9).isoformat(),
                                                     "name": "Carla", "email": "carla@example.org"}).json
    assert steinfurt.delete(f"/api/v1/appointments/{a['manage_token']}").status_code == 204
    waiting = ("nina@example.org", "tom@example.org", "mia@example.org")
    offers = [m for m in mails(app) if m["To"] in waiting and "/book?" in m.get_body(("plain",)).get_content()]
    assert [m["To"] for m in offers] == ["mia@example.org"]


def test_waiting_list_errors_stand_next_to_their_fields(steinfurt):
    resp = steinfurt.post("/waitlist", data={"service": "personalausweis", "name": "Mia", "email": "mia@example.org",
                                             "date_from": "2026-12-10", "date_until": "2026-12-01"})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'id="wl-date_until-error"' in page and 'href="#wl-date_until"' in page
    assert "Das Ende liegt vor dem Anfang" in page


def test_joining_sends_a_mail_with_a_leave_link_and_leaving_takes_one_button(app, steinfurt):
    assert steinfurt.post("/waitlist", data={"service": "personalausweis", "name": "Lea Liste",
                                             "email": "lea@example.org"}).status_code == 303
    joined = [m for m in mails(app) if m["To"] == "lea@example.org"]
    assert len(joined) == 1 and "Warteliste" in joined[0]["Subject"]
    body = joined[0].get_body(("plain",)).get_content()
    assert "zuerst angeboten, wer sich am frühesten eingetragen hat" in body
    link = re.search(r"https?://\S+/waitlist/entry\?\S+", body).group(0)
    parts = urlsplit(link)
    path = f"{parts.path}?{parts.query}"
    page = steinfurt.get(path)  # GET changes nothing
    assert page.status_code == 200 and "Von der Warteliste austragen" in page.get_data(as_text=True)
    assert "Sie stehen auf der Warteliste" in page.get_data(as_text=True)
    with app.app_context(), all_tenants():
        assert db.session.scalar(select(WaitlistEntry.status).where(WaitlistEntry.email == "lea@example.org")) == "waiting"
    left = steinfurt.post(path)
    assert left.status_code == 303
    with app.app_context(), all_tenants():
        assert db.session.scalar(select(WaitlistEntry.status).where(WaitlistEntry.email == "lea@example.org")) == "withdrawn"
