"""Blocking time: the affected are listed first, then cancelled and told by e-mail;
the time leaves the online slots at once."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.offices.models import Closure, Counter, Office
from tests.conftest import at, mails, next_weekday
from tests.test_backoffice_support import in_tenant, logged_in  # noqa: F401

API = "/api/v1"



@pytest.fixture
def tuesday():
    return next_weekday(1)


def ids(app):
    with in_tenant(app, "steinfurt"):
        office = db.session.scalar(select(Office))
        counters = {c.slug: c.id for c in db.session.scalars(select(Counter))}
        return office.id, counters


def test_block_preview_lists_the_affected_then_confirm_cancels_and_mails_them(app, steinfurt, tuesday):
    r1 = steinfurt.post(f"{API}/appointments", json={"service": "personalausweis", "start": at(tuesday, 9).isoformat(),
                                                     "name": "Bea Betroffen", "email": "bea@example.org"})
    r2 = steinfurt.post(f"{API}/appointments", json={"service": "umzug", "start": at(tuesday, 11).isoformat(),
                                                     "name": "Udo Unberührt", "email": "udo@example.org"})
    assert r1.status_code == r2.status_code == 201
    before_mails = len(mails(app))
    logged_in(app, steinfurt, "staff", email="clerk@steinfurt.example")
    office_id, _ = ids(app)
    form = {"office": office_id, "date": tuesday.isoformat(), "from": "08:00", "to": "10:00",
            "reason": "Personalversammlung"}
    preview = steinfurt.post("/admin/block", data=form)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Bea Betroffen" in text and "Udo Unberührt" not in text
    with in_tenant(app, "steinfurt"):
        assert db.session.scalar(select(Closure.id).where(Closure.reason == "Personalversammlung")) is None
    done = steinfurt.post("/admin/block", data={**form, "confirm": "1"})
    assert done.status_code == 302
    assert steinfurt.get(f"{API}/appointments/{r1.json['manage_token']}").json["status"] == "cancelled"
    assert steinfurt.get(f"{API}/appointments/{r2.json['manage_token']}").json["status"] == "booked"
    new = mails(app)[before_mails:]
    assert [m["To"] for m in new] == ["bea@example.org"]
    body = new[0].get_body(("plain",)).get_content()
    assert "Personalversammlung" in body and "http://steinfurt.localhost/" in body
    slots = steinfurt.get(f"{API}/services/personalausweis/slots?from={tuesday}&to={tuesday}").json["slots"]
    starts = {s["start"] for s in slots}
    assert at(tuesday, 9).isoformat() not in starts and at(tuesday, 8).isoformat() not in starts
    assert at(tuesday, 10).isoformat() in starts
    with in_tenant(app, "steinfurt"):
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"time_blocked", "appointment_cancelled_by_office"} <= actions


def test_blocking_one_counter_leaves_the_others_bookable(app, steinfurt, tuesday):
    logged_in(app, steinfurt, "staff")
    office_id, counters = ids(app)
    resp = steinfurt.post("/admin/block", data={"office": office_id, "counter": counters["schalter-1"],
                                                "date": tuesday.isoformat(), "whole_day": "1",
                                                "reason": "Fortbildung", "confirm": "1"})
    assert resp.status_code == 302
    slots = steinfurt.get(f"{API}/services/personalausweis/slots?from={tuesday}&to={tuesday}").json["slots"]
    assert slots and {s["free"] for s in slots} == {2}  # three open, one of them held back


def test_block_validation(app, steinfurt, tuesday):
    logged_in(app, steinfurt, "staff")
    office_id, _ = ids(app)
    base = {"office": office_id, "date": tuesday.isoformat(), "from": "10:00", "to": "09:00", "reason": "x"}
    assert "Ende muss nach dem Beginn" in steinfurt.post("/admin/block", data=base).get_data(as_text=True)
    no_reason = steinfurt.post("/admin/block", data={**base, "to": "11:00", "reason": " "})
    assert no_reason.status_code == 422 and "Grund" in no_reason.get_data(as_text=True)
    past = steinfurt.post("/admin/block", data={**base, "date": "2020-01-07", "to": "11:00"})
    assert past.status_code == 422


def test_a_counter_of_another_tenant_cannot_be_blocked(app, steinfurt, emsdetten, tuesday):
    logged_in(app, steinfurt, "staff")
    office_id, _ = ids(app)
    with in_tenant(app, "emsdetten"):
        foreign = db.session.scalar(select(Counter.id))
    resp = steinfurt.post("/admin/block", data={"office": office_id, "counter": foreign, "date": tuesday.isoformat(),
                                                "whole_day": "1", "reason": "x", "confirm": "1"})
    assert resp.status_code == 422
    with in_tenant(app, "emsdetten"):
        assert db.session.scalar(select(Closure.id).where(Closure.counter_id == foreign)) is None


def test_a_clerk_cancels_one_appointment_with_a_reason(app, steinfurt, tuesday):
    from app.booking.models import Appointment

    booked = steinfurt.post(f"{API}/appointments", json={"service": "umzug", "start": at(tuesday, 9).isoformat(),
                                                         "name": "Carl", "email": "carl@example.org"}).json
    logged_in(app, steinfurt, "staff")
    with in_tenant(app, "steinfurt"):
        aid = db.session.scalar(select(Appointment.id))
    assert steinfurt.post(f"/admin/appointments/{aid}/cancel", data={"reason": ""}).status_code == 302
    assert steinfurt.get(f"{API}/appointments/{booked['manage_token']}").json["status"] == "booked"
    assert steinfurt.post(f"/admin/appointments/{aid}/cancel", data={"reason": "Krankheit"}).status_code == 302
    assert steinfurt.get(f"{API}/appointments/{booked['manage_token']}").json["status"] == "cancelled"
    assert "Krankheit" in mails(app)[-1].get_body(("plain",)).get_content()
    again = steinfurt.post(f"/admin/appointments/{aid}/cancel", data={"reason": "x"})
    assert again.status_code == 302  # cancelling twice changes nothing
    with in_tenant(app, "steinfurt"):
        assert [e.action for e in db.session.scalars(select(AuditEntry))] == ["appointment_cancelled_by_office"]


def _book(client, start, name, email, service="personalausweis"):
    r = client.post(f"{API}/appointments", json={"service": service, "start": start.isoformat(), "name": name,
                                                 "email": email})
    assert r.status_code == 201, r.json
    return r.json


def test_blocking_a_date_range_closes_every_day_of_it(app, steinfurt, tuesday):
    from datetime import timedelta

    wednesday, thursday = tuesday + timedelta(days=1), tuesday + timedelta(days=2)
    tue = _book(steinfurt, at(tuesday, 9), "Tina Dienstag", "tina@example.org")
    wed = _book(steinfurt, at(wednesday, 10), "Willi Mittwoch", "willi@example.org")
    thu = _book(steinfurt, at(thursday, 9), "Theo Donnerstag", "theo@example.org")
    logged_in(app, steinfurt, "staff")
    office_id, _ = ids(app)
    form = {"office": office_id, "date": tuesday.isoformat(), "until": wednesday.isoformat(), "whole_day": "1",
            "reason": "Umzug des Bürgerbüros"}
    preview = steinfurt.post("/admin/block", data=form).get_data(as_text=True)
    assert "Tina Dienstag" in preview and "Willi Mittwoch" in preview and "Theo Donnerstag" not in preview
    assert steinfurt.post("/admin/block", data={**form, "confirm": "1"}).status_code == 302
    status = {k: steinfurt.get(f"{API}/appointments/{v['manage_token']}").json["status"]
              for k, v in {"tue": tue, "wed": wed, "thu": thu}.items()}
    assert status == {"tue": "cancelled", "wed": "cancelled", "thu": "booked"}
    slots = steinfurt.get(f"{API}/services/personalausweis/slots?from={tuesday}&to={thursday}").json["slots"]
    assert {s["start"][:10] for s in slots} == {thursday.isoformat()}
    backwards = steinfurt.post("/admin/block", data={**form, "until": (tuesday - timedelta(days=1)).isoformat()})
    assert backwards.status_code == 422 and "nicht vor dem ersten" in backwards.get_data(as_text=True)


def test_blocking_one_counter_moves_whom_it_can_and_cancels_the_rest_with_the_next_free_time(app, steinfurt,
                                                                                           tuesday):
    from app.booking.models import Appointment
    from app.catalog.models import Service

    _book(steinfurt, at(tuesday, 9), "Anna Neun", "anna@example.org")
    _book(steinfurt, at(tuesday, 9), "Bernd Neun", "bernd@example.org")
    logged_in(app, steinfurt, "staff", email="clerk@steinfurt.example")
    with in_tenant(app, "steinfurt"):
        service_id = db.session.scalar(select(Service.id).where(Service.slug == "personalausweis"))
    for n in range(3):  # the clerk fills 9:00 on every counter that offers the ID card
        r = steinfurt.post("/admin/phone-booking", data={"service": service_id, "start": at(tuesday, 9).isoformat(),
                                                         "name": f"Carla Neun {n}", "email": f"carla{n}@example.org"})
        if r.status_code != 302:
            break
    assert n >= 1
    later = _book(steinfurt, at(tuesday, 10), "Dora Zehn", "dora@example.org")
    with in_tenant(app, "steinfurt"):
        dora = db.session.scalar(select(Appointment).where(Appointment.code == later["code"]))
        blocked, dora_id = dora.counter_id, dora.id
        stuck = db.session.scalar(select(Appointment).where(Appointment.counter_id == blocked,
                                                            Appointment.id != dora.id))
        stuck_name, stuck_email = stuck.name, stuck.email
    office_id, _ = ids(app)
    form = {"office": office_id, "counter": blocked, "date": tuesday.isoformat(), "from": "08:00", "to": "12:00",
            "reason": "Der Schalter ist defekt."}
    before_mails = len(mails(app))
    preview = steinfurt.post("/admin/block", data=form).get_data(as_text=True)
    moving = preview[preview.index("an einen anderen Schalter verlegt"):preview.index("werden abgesagt")]
    cancelling = preview[preview.index("werden abgesagt"):]
    assert "Dora Zehn" in moving and stuck_name not in moving
    assert stuck_name in cancelling and "Dora Zehn" not in cancelling
    assert steinfurt.post("/admin/block", data={**form, "confirm": "1"}).status_code == 302
    assert steinfurt.get(f"{API}/appointments/{later['manage_token']}").json["status"] == "booked"
    with in_tenant(app, "steinfurt"):
        moved = db.session.get(Appointment, dora_id)
        assert moved.counter_id != blocked and moved.starts_at == at(tuesday, 10)
        assert db.session.scalar(select(Appointment.status).where(Appointment.email == stuck_email)) == "cancelled"
    new = mails(app)[before_mails:]
    assert [m["To"] for m in new] == [stuck_email]  # the moved citizen keeps time and place: no mail
    body = new[0].get_body(("plain",)).get_content()
    assert "Der Schalter ist defekt." in body and "Der nächste freie Termin wäre am" in body
    with in_tenant(app, "steinfurt"):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "time_blocked"))
        assert entry.after["moved"] == [later["code"]] and len(entry.after["cancelled"]) == 1
