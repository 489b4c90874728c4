"""Confirm-by-e-mail mode: a booking holds its slot until the citizen confirms by the
link in the mail; an unconfirmed hold expires and frees the slot."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.booking.models import Appointment
from app.extensions import db
from tests.conftest import at, mails, next_weekday
from tests.test_backoffice_support import in_tenant, logged_in  # noqa: F401



@pytest.fixture
def confirm_mode(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    resp = steinfurt.post("/admin/settings", data={"booking_mode": "confirm", "confirm_minutes": "30"})
    assert resp.status_code == 302
    return steinfurt


def book(client, start, email="hanna@example.org"):
    resp = client.post("/api/v1/appointments", json={"service": "personalausweis", "start": start.isoformat(),
                                                     "name": "Hanna Hold", "email": email})
    assert resp.status_code == 201, resp.json
    return resp.json


def free_at(client, start) -> int:
    day = start.date()
    slots = client.get(f"/api/v1/services/personalausweis/slots?from={day}&to={day}").json["slots"]
    return next((s["free"] for s in slots if s["start"] == start.isoformat()), 0)


def test_a_held_booking_is_confirmed_by_the_link_in_the_mail(app, confirm_mode):
    client = confirm_mode
    start = at(next_weekday(1), 9)
    before = free_at(client, start)
    booked = book(client, start)
    assert free_at(client, start) == before - 1  # the hold takes the slot
    [request_mail] = mails(app)
    assert request_mail["Subject"].startswith("Bitte bestätigen: Personalausweis")
    assert not any(part.get_content_type() == "text/calendar" for part in request_mail.walk())
    link = re.search(r"http://steinfurt\.localhost/confirm/[A-Za-z0-9_-]+",
                     request_mail.get_body(("plain",)).get_content()).group(0)
    path = link.split("steinfurt.localhost", 1)[1]
    assert path == f"/confirm/{booked['manage_token']}"
    assert client.get(path).status_code == 200  # showing the page confirms nothing
    assert len(mails(app)) == 1
    resp = client.post(path)
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/manage/{booked['manage_token']}")
    confirmation = mails(app)[-1]
    assert confirmation["Subject"].startswith("Terminbestätigung: Personalausweis")
    with in_tenant(app, "steinfurt"):
        assert db.session.scalar(select(Appointment.hold_expires_at)) is None
    assert client.post(path).status_code == 303  # twice is harmless
    assert len(mails(app)) == 2


def test_an_unconfirmed_hold_expires_and_frees_the_slot(app, confirm_mode):
    from app.jobs.due import run_due

    client = confirm_mode
    start = at(next_weekday(1), 9)
    before = free_at(client, start)
    booked = book(client, start)
    with app.app_context():
        assert run_due(datetime.now(timezone.utc) + timedelta(minutes=29))["holds_expired"] == 0
        assert run_due(datetime.now(timezone.utc) + timedelta(minutes=31))["holds_expired"] == 1
    assert free_at(client, start) == before
    assert client.get(f"/api/v1/appointments/{booked['manage_token']}").json["status"] == "cancelled"
    assert client.post(f"/confirm/{booked['manage_token']}").status_code == 410
    assert client.get(f"/confirm/{booked['manage_token']}").status_code == 410
    assert [m["Subject"][:16] for m in mails(app)] == ["Bitte bestätigen"]  # no mail about the expiry


def test_clerks_bookings_are_never_held(app, confirm_mode):
    from tests.test_backoffice_support import service_id

    client = confirm_mode
    sid = service_id(app, "personalausweis", "steinfurt")
    resp = client.post("/admin/phone-booking", data={"service": sid, "start": at(next_weekday(1), 9).isoformat(),
                                                     "name": "Paul", "email": "paul@example.org"})
    assert resp.status_code == 302
    assert mails(app)[-1]["Subject"].startswith("Terminbestätigung")


def test_an_unknown_confirm_link_is_404(steinfurt):
    assert steinfurt.get("/confirm/not-a-token").status_code == 404
