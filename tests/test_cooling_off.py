"""Cooling-off for cancelled slots (issue 16, `release_cancelled_after_minutes`): a start a
citizen frees goes to the waiting list first and online to everyone only after N minutes;
staff see and book it at once."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from app.catalog.models import Service
from app.extensions import db
from app.scheduling.slots import Policy, slot_at
from app.tenancy.models import Tenant
from app.tenancy.resolve import tenant_info
from app.tenancy.scope import all_tenants, tenant_scope
from tests.conftest import at, mails, next_weekday
from tests.test_citizen_pages import set_settings, text

SLOTS = "/api/v1/services/personalausweis/slots"


def _post(client, start, email):
    return client.post("/api/v1/appointments", json={
        "service": "personalausweis", "start": start.isoformat(), "name": "Bürger Test", "email": email})


def _fill(client, start) -> list[str]:
    """Book `start` until it is full online; the manage tokens."""
    tokens = []
    for n in range(12):
        resp = _post(client, start, f"fill{n}@example.org")
        if resp.status_code == 409:
            return tokens
        assert resp.status_code == 201, resp.json
        tokens.append(resp.json["manage_token"])
    raise AssertionError("the start never filled up")


def _starts(client, day) -> list[str]:
    return [s["start"] for s in client.get(f"{SLOTS}?from={day}&to={day}").json["slots"]]


def _staff_sees(app, start) -> bool:
    with app.app_context():
        with all_tenants():
            tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
        with tenant_scope(tid):
            svc = db.session.scalar(select(Service).where(Service.slug == "personalausweis"))
            problem, slot = slot_at(svc, Policy.of(tenant_info(tid)), start, online=False)
            return problem is None and slot is not None


def test_a_cancelled_slot_goes_to_the_waiting_list_first_and_to_everyone_30_minutes_later(app, steinfurt, fixed_now):
    set_settings(app, "steinfurt", release_cancelled_after_minutes=30)
    day = next_weekday(1, after_days=3)
    now = fixed_now(at(day - timedelta(days=2), 8, 0))
    start = at(day, 9, 0)
    iso = start.isoformat()
    tokens = _fill(steinfurt, start)
    assert iso not in _starts(steinfurt, day)
    assert steinfurt.post("/waitlist", data={"service": "personalausweis", "name": "Wanda Warteliste",
                                             "email": "wanda@example.org"}).status_code == 303

    assert steinfurt.delete(f"/api/v1/appointments/{tokens[0]}").status_code == 204
    # Staff see the freed start at once; online it is held back from everyone else.
    assert _staff_sees(app, start)
    assert iso not in _starts(steinfurt, day)
    assert _post(steinfurt, start, "schnell@example.org").status_code == 409
    # The waiting list gets it first: an offer mail whose link books it during the window.
    offer = [m for m in mails(app) if m["To"] == "wanda@example.org" and "frei geworden" in m["Subject"]]
    assert len(offer) == 1
    body = offer[0].get_body(("plain",)).get_content()
    link = next(w for w in body.split() if "/book?" in w)
    query = parse_qs(urlsplit(link).query)
    assert query["offer"] and query["start"] == [iso]

    fixed_now(now + timedelta(minutes=29))
    assert iso not in _starts(steinfurt, day)  # also no cached answer shows it early
    assert _post(steinfurt, start, "schnell@example.org").status_code == 409
    path = link.split("steinfurt.localhost", 1)[1]
    form = steinfurt.get(path)
    assert form.status_code == 200 and 'name="offer"' in form.get_data(as_text=True)
    assert "nicht mehr frei" not in text(form)
    booked = steinfurt.post(path, data={"name": "Wanda Warteliste", "email": "wanda@example.org",
                                        "offer": query["offer"][0]})
    assert booked.status_code == 303 and "/manage/" in booked.headers["Location"]
    assert _post(steinfurt, start, "schnell@example.org").status_code == 409  # taken by the offer holder


def test_without_a_taker_the_slot_is_bookable_by_everyone_after_the_cooling_off(app, steinfurt, fixed_now):
    set_settings(app, "steinfurt", release_cancelled_after_minutes=30)
    day = next_weekday(2, after_days=3)
    now = fixed_now(at(day - timedelta(days=2), 8, 0))
    start = at(day, 10, 0)
    tokens = _fill(steinfurt, start)
    assert _starts(steinfurt, day)  # warm the slot cache with an answer that lacks 10:00
    assert start.isoformat() not in _starts(steinfurt, day)
    assert steinfurt.post(f"/manage/{tokens[1]}/cancel").status_code == 303  # the page cancels as the API does

    fixed_now(now + timedelta(minutes=29, seconds=59))
    assert start.isoformat() not in _starts(steinfurt, day)
    assert _post(steinfurt, start, "zu-frueh@example.org").status_code == 409
    fixed_now(now + timedelta(minutes=30))
    assert start.isoformat() in _starts(steinfurt, day)
    assert _post(steinfurt, start, "puenktlich@example.org").status_code == 201


def test_without_the_setting_a_cancelled_slot_is_free_online_at_once(app, steinfurt, fixed_now):
    day = next_weekday(3, after_days=3)
    fixed_now(at(day - timedelta(days=2), 8, 0))
    start = at(day, 11, 0)
    tokens = _fill(steinfurt, start)
    assert steinfurt.delete(f"/api/v1/appointments/{tokens[0]}").status_code == 204
    assert start.isoformat() in _starts(steinfurt, day)
    assert _post(steinfurt, start, "sofort@example.org").status_code == 201


def test_an_office_cancellation_is_not_held_back(app, steinfurt, fixed_now):
    """Only a citizen's cancellation starts the cooling-off; when the office cancels
    (closure, reconfirmation released), the time is free as before."""
    from app.booking import service as booking
    from app.booking.models import Appointment
    from app.transaction import commit

    set_settings(app, "steinfurt", release_cancelled_after_minutes=30)
    day = next_weekday(4, after_days=3)
    fixed_now(at(day - timedelta(days=2), 8, 0))
    start = at(day, 9, 30)
    tokens = _fill(steinfurt, start)
    with app.app_context():
        with all_tenants():
            tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
        with tenant_scope(tid):
            appt = db.session.scalar(select(Appointment).where(Appointment.manage_token == tokens[0]))
            booking.cancel(tenant_info(tid), appt, by_citizen=False, event="office_cancelled", reason="Test")
            commit()
    assert start.isoformat() in _starts(steinfurt, day)
