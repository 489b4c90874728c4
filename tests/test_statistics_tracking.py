"""The statistics follow every booking, cancellation, move and status change as it
happens, count each once, and survive retention and a rebuild."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.booking.models import Appointment
from app.extensions import db
from app.jobs.due import run_due
from app.queue import operations as queue
from app.statistics.models import StatisticsDay, StatisticsDelta, StatisticsNextFree, StatisticsOfficeDay
from app.statistics.recording import rebuild
from app.statistics.tracking import fold_deltas
from app.tenancy.resolve import TenantInfo
from app.tenancy.models import Tenant
from app.transaction import commit
from tests.conftest import BERLIN, at
from tests.queue_factory import appointment, counter, office, service, switch_on, town
from tests.test_backoffice_support import in_tenant, logged_in, login

API = "/api/v1/appointments"
MONDAY = date(2027, 2, 1)
TUESDAY = date(2027, 2, 9)


def book(client, start: datetime, email: str, service: str = "personalausweis") -> dict:
    resp = client.post(API, json={"service": service, "start": start.isoformat(), "name": "Erika Mustermann",
                                  "email": email})
    assert resp.status_code == 201, resp.json
    return resp.json


def appt_id(app, code: str) -> int:
    with in_tenant(app, "steinfurt"):
        return db.session.scalar(select(Appointment.id).where(Appointment.code == code))


def totals(app, slug: str = "steinfurt", **where) -> dict[str, int]:
    """The daily rows summed per figure, optionally for one day or source."""
    with in_tenant(app, slug) as tid:
        rows = list(db.session.scalars(select(StatisticsDay).where(
            StatisticsDay.tenant_id == tid, *(getattr(StatisticsDay, k) == v for k, v in where.items()))))
    out: dict[str, int] = {}
    for row in rows:
        for name in ("bookings", "appointments", "cancelled", "cancelled_by_office", "moves", "no_shows",
                     "completed", "checked_in", "booked_minutes", "lead_minutes", "waited", "wait_seconds",
                     "served", "service_seconds", "walk_ins_served", "queue_missed", "services"):
            out[name] = out.get(name, 0) + getattr(row, name)
    return out


@pytest.fixture
def week_of_changes(app, steinfurt, fixed_now):
    """Monday 8:00: three online bookings and one by phone for the Tuesday after next;
    then the citizen cancels one, the office another, one is moved; on Tuesday one is
    a no-show and the phone booking is served."""
    fixed_now(at(MONDAY, 8))
    a = book(steinfurt, at(TUESDAY, 9), "a@example.org")
    b = book(steinfurt, at(TUESDAY, 9, 20), "b@example.org")
    d = book(steinfurt, at(TUESDAY, 9, 40), "d@example.org")
    logged_in(app, steinfurt, "staff")
    with in_tenant(app, "steinfurt"):
        from app.catalog.models import Service

        service_id = db.session.scalar(select(Service.id).where(Service.slug == "personalausweis"))
    resp = steinfurt.post("/admin/phone-booking", data={"service": service_id, "start": at(TUESDAY, 10).isoformat(),
                                                        "name": "Max Muster", "phone": "02551 1"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    c_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    fixed_now(at(MONDAY, 9))
    assert steinfurt.delete(f"{API}/{d['manage_token']}").status_code == 204
    assert steinfurt.post(f"/admin/appointments/{appt_id(app, b['code'])}/cancel",
                          data={"reason": "Schalter geschlossen"}).status_code == 302
    assert steinfurt.patch(f"{API}/{a['manage_token']}", json={"start": at(TUESDAY, 11).isoformat()}).status_code == 200
    fixed_now(at(TUESDAY, 12))
    assert login(steinfurt, "staff@steinfurt.example").status_code == 302  # a day later: a fresh session
    a_id = appt_id(app, a["code"])
    assert steinfurt.post(f"/admin/appointments/{a_id}/status", data={"status": "no_show"}).status_code == 302
    for status in ("checked_in", "completed"):
        assert steinfurt.post(f"/admin/appointments/{c_id}/status", data={"status": status}).status_code == 302
    return {"a": a_id, "c": c_id}


def test_each_change_is_counted_once_on_its_own_day(app, week_of_changes):
    made = totals(app, day=MONDAY)
    assert made["bookings"] == 4
    assert made["cancelled"] == 2 and made["cancelled_by_office"] == 1 and made["moves"] == 1
    assert totals(app, day=MONDAY, source="phone")["bookings"] == 1
    held = totals(app, day=TUESDAY)
    assert held["appointments"] == 2  # the moved one and the phone booking; the cancelled two are gone
    assert held["no_shows"] == 1 and held["completed"] == 1 and held["checked_in"] == 1
    assert held["booked_minutes"] == 40  # two ID cards of 20 minutes
    # Lead time: the moved one from Monday 8:00 to Tuesday 11:00 (8 days 3 h), the phone one to 10:00.
    assert totals(app, day=MONDAY, source="phone")["lead_minutes"] == 8 * 24 * 60 + 120
    with in_tenant(app, "steinfurt"):
        assert db.session.scalar(select(func.count()).select_from(StatisticsDelta)) == 0  # folded at once


def test_folding_twice_or_sweeping_again_counts_nothing_twice(app, week_of_changes, fixed_now):
    before = totals(app)
    with app.app_context():
        assert fold_deltas() == 0
        run_due(at(TUESDAY, 13))
        run_due(at(TUESDAY, 13, 1))
    assert totals(app) == before


def test_a_delta_left_by_a_lost_job_is_folded_by_the_sweep(app, steinfurt, fixed_now, monkeypatch):
    from app.statistics import tracking

    monkeypatch.setattr(tracking, "after_commit", lambda *a, **k: None)  # the after-commit job is lost
    fixed_now(at(MONDAY, 8))
    book(steinfurt, at(TUESDAY, 9), "a@example.org")
    assert totals(app) == {}
    with app.app_context():
        run_due(at(MONDAY, 8, 1))
    assert totals(app)["bookings"] == 1


def test_retention_anonymises_the_appointments_and_the_figures_stay(app, week_of_changes):
    before = totals(app)
    with app.app_context():
        run_due(at(TUESDAY, 12) + timedelta(days=40))
    with in_tenant(app, "steinfurt"):
        assert db.session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.anonymized_at.is_(None))) == 0
    assert totals(app) == before


def test_a_rebuild_reproduces_the_figures_from_the_anonymous_appointments(app, week_of_changes):
    before = totals(app)
    with app.app_context():
        run_due(at(TUESDAY, 12) + timedelta(days=40))  # anonymised first
    with in_tenant(app, "steinfurt") as tid:
        info = TenantInfo.of(db.session.get(Tenant, tid))
        db.session.execute(StatisticsDay.__table__.update().where(StatisticsDay.tenant_id == tid)
                           .values(bookings=99))  # wrong figures, as after a bug
        rebuild(info, MONDAY - timedelta(days=7), TUESDAY + timedelta(days=7))
        commit()
    assert totals(app) == before


def test_the_daily_recording_notes_open_minutes_and_the_days_until_the_next_free_slot(app, fixed_now):
    with app.app_context():
        run_due(at(TUESDAY, 7))
        run_due(at(TUESDAY, 7, 5))  # once a day, however often the sweep runs
    with in_tenant(app, "steinfurt") as tid:
        office_days = {r.day: r for r in db.session.scalars(select(StatisticsOfficeDay).where(
            StatisticsOfficeDay.tenant_id == tid))}
        tuesday = office_days[TUESDAY]
        assert tuesday.open_minutes == 4 * (270 + 120)  # four counters, 8:00–12:30 and 14:00–16:00
        assert tuesday.held_back_minutes == 270 + 120  # a quarter of four counters: one
        assert office_days[TUESDAY - timedelta(days=1)].open_minutes == 4 * (270 + 120)
        next_free = list(db.session.scalars(select(StatisticsNextFree).where(StatisticsNextFree.tenant_id == tid)))
        assert {r.day for r in next_free} == {TUESDAY}
        assert len(next_free) >= 7 and all(r.days == 0 for r in next_free)  # an empty calendar: free today


def test_waiting_and_service_times_and_walk_ins_come_from_the_office_queue(app, fixed_now):
    fixed_now(at(MONDAY, 8))
    with town(app) as t:
        switch_on()
        appt = appointment(at(TUESDAY, 9))
        commit()
        fixed_now(at(TUESDAY, 8, 50))
        queue.check_in(t, appt, at(TUESDAY, 8, 50))
        commit()
        queue.draw_ticket(t, office(), service("anmeldung"), at(TUESDAY, 8, 55))
        commit()
        first = queue.call_next(t, counter("schalter-1"), at(TUESDAY, 9, 2))  # the appointment, due: 12 min
        commit()
        second = queue.call_next(t, counter("schalter-2"), at(TUESDAY, 9, 5))  # the walk-in: 10 min
        commit()
        assert first.kind == "appointment" and second.kind == "walk_in"
        queue.finish(first, at(TUESDAY, 9, 20))  # served 18 min
        commit()
        queue.call_next(t, counter("schalter-2"), at(TUESDAY, 9, 15), serving=second.id)  # served 10 min
        commit()
    day = totals(app, day=TUESDAY)
    assert (day["waited"], day["wait_seconds"]) == (2, (12 + 10) * 60)
    assert (day["served"], day["service_seconds"]) == (2, (18 + 10) * 60)
    assert day["walk_ins_served"] == 1 and day["queue_missed"] == 0
    assert totals(app, day=TUESDAY, source="walk_in")["bookings"] == 1  # the ticket, among the ways in
    assert day["completed"] == 1  # the appointment, finished at the counter


_ = (BERLIN,)
