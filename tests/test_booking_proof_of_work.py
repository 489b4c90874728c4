"""Proof of work for online bookings (CONTRACT §5.3): with `altcha` on, the API books only with
a solved, fresh, unused challenge; the booking page without JavaScript holds the slot until
the citizen confirms it from the mail."""
from __future__ import annotations

from app.booking.models import Appointment
from app.extensions import db
from app.proof_of_work import solve
from app.tenancy.scope import all_tenants
from tests.conftest import at, count_rows, mails, next_weekday
from tests.test_citizen_pages import book, book_link_on, set_settings, text


def booking(start, email="erika@example.org", **extra):
    return {"service": "personalausweis", "start": start.isoformat(), "name": "Erika Mustermann",
            "email": email, **extra}


def test_without_a_solution_nothing_is_booked_and_with_one_it_is(app, steinfurt):
    set_settings(app, "steinfurt", altcha=True)
    start = at(next_weekday(1), 9)
    missing = steinfurt.post("/api/v1/appointments", json=booking(start))
    assert missing.status_code == 422 and "altcha" in missing.json["errors"]
    wrong = steinfurt.post("/api/v1/appointments", json=booking(start, altcha="bm9wZQ=="))
    assert wrong.status_code == 422 and "altcha" in wrong.json["errors"]
    assert count_rows(app, "appointments") == 0

    challenge = steinfurt.get("/api/v1/altcha")
    assert challenge.status_code == 200
    assert {"algorithm", "challenge", "salt", "signature", "maxnumber"} <= set(challenge.json)
    solution = solve(challenge.json)
    made = steinfurt.post("/api/v1/appointments", json=booking(start, altcha=solution))
    assert made.status_code == 201, made.json
    again = steinfurt.post("/api/v1/appointments", json=booking(at(next_weekday(1), 10), "b@example.org",
                                                                 altcha=solution))
    assert again.status_code == 422 and "altcha" in again.json["errors"]
    assert count_rows(app, "appointments") == 1


def test_a_challenge_of_another_tenant_host_still_has_to_be_solved_and_is_spent_once(app, steinfurt, emsdetten):
    set_settings(app, "steinfurt", altcha=True)
    solution = solve(emsdetten.get("/api/v1/altcha").json)
    assert steinfurt.post("/api/v1/appointments", json=booking(at(next_weekday(1), 9), altcha=solution)).status_code == 201
    assert steinfurt.post("/api/v1/appointments", json=booking(at(next_weekday(1), 10), "c@example.org",
                                                               altcha=solution)).status_code == 422


def test_off_by_default_a_booking_needs_no_challenge(app, steinfurt):
    assert steinfurt.post("/api/v1/appointments", json=booking(at(next_weekday(1), 9))).status_code == 201


def test_without_javascript_the_booking_is_held_until_confirmed_from_the_mail(app, steinfurt):
    set_settings(app, "steinfurt", altcha=True)
    link = book_link_on(steinfurt, next_weekday(1))
    page = steinfurt.get(link)
    assert "altcha-widget" in page.get_data(as_text=True)
    resp = book(steinfurt, link)  # the form without a solution, as a browser without JavaScript sends it
    assert resp.status_code == 303
    manage = steinfurt.get(resp.headers["Location"])
    assert "Erst mit dem Link darin ist er gebucht" in text(manage)
    [mail] = mails(app)
    assert "bestätigen" in mail["Subject"].lower() or "bestätig" in mail.get_body(("plain",)).get_content()
    with app.app_context(), all_tenants():
        [appt] = db.session.query(Appointment).all()
        assert appt.hold_expires_at is not None


def test_a_challenge_expires_after_ten_minutes_by_the_app_clock(app, steinfurt, fixed_now):
    from datetime import timedelta

    set_settings(app, "steinfurt", altcha=True)
    day = next_weekday(1)
    fetched = fixed_now(at(day - timedelta(days=3), 9))
    solution = solve(steinfurt.get("/api/v1/altcha").json)
    fixed_now(fetched + timedelta(minutes=10, seconds=1))
    late = steinfurt.post("/api/v1/appointments", json=booking(at(day, 9), altcha=solution))
    assert late.status_code == 422 and "expired" in late.json["errors"]["altcha"][0]
    fixed_now(fetched + timedelta(minutes=9))
    fresh = solve(steinfurt.get("/api/v1/altcha").json)
    assert steinfurt.post("/api/v1/appointments", json=booking(at(day, 9), altcha=fresh)).status_code == 201
    assert count_rows(app, "appointments") == 1
