"""The queue in the back office: the admin switches it on, the front desk checks in and
draws tickets, the clerk calls the next person and works through the actions."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from app.queue.models import QueueEntry
from app.transaction import commit
from tests.conftest import at, next_weekday
from tests.queue_factory import appointment, counter, service, switch_off, town
from tests.test_backoffice_support import logged_in


def _switch_on_by_form(steinfurt):
    page = steinfurt.get("/admin/queue/setup").text
    assert "Warteschlange einrichten" in page
    with_ids = dict(re.findall(r'<label for="quota-(\d+)">([^<]+)</label>', page))
    anmeldung = next(i for i, name in with_ids.items() if name == "Wohnsitz anmelden")
    r = steinfurt.post("/admin/queue/setup", data={"enabled": "1", "prefix": "a", f"quota-{anmeldung}": "2"})
    assert r.status_code == 303
    page = steinfurt.get("/admin/queue/setup").text
    assert "/kiosk/" in page and "/offices/buergerbuero/screen" in page
    return anmeldung


def test_front_desk_and_workstation_through_a_morning(app, steinfurt, fixed_now):
    day = next_weekday(0)
    fixed_now(at(day, 9, 55))
    logged_in(app, steinfurt, "admin")
    anmeldung = _switch_on_by_form(steinfurt)
    with town(app):
        appt = appointment(at(day, 10), name="Erika Mustermann")
        code = appt.code
        commit()

    r = steinfurt.post("/admin/queue/desk", data={"action": "check-in", "code": code})
    assert r.status_code == 303 and "T-001" in steinfurt.get(r.headers["Location"]).text
    r = steinfurt.post("/admin/queue/desk", data={"action": "ticket", "service": anmeldung, "name": "Ali"})
    assert r.status_code == 303 and "A-002" in steinfurt.get(r.headers["Location"]).text
    steinfurt.post("/admin/queue/desk", data={"action": "ticket", "service": anmeldung})
    r = steinfurt.post("/admin/queue/desk", data={"action": "ticket", "service": anmeldung})
    assert r.status_code == 422 and "keine Wartenummern mehr" in r.text
    assert "Kontingent für heute aufgebraucht" in steinfurt.get("/admin/queue/desk").text

    with town(app):
        desk = counter("schalter-2").id
    page = steinfurt.get(f"/admin/queue?counter={desk}").text
    assert "Nächste Person aufrufen" in page and "T-001" in page and "A-002" in page
    r = steinfurt.post("/admin/queue/call", data={"counter": desk, "serving": ""})
    page = steinfurt.get(r.headers["Location"]).text
    assert "Aufgerufen: T-001" in page and "Erika Mustermann" in page  # the clerk sees the name
    # The same button again (a second click on the old page) calls nobody else.
    r = steinfurt.post("/admin/queue/call", data={"counter": desk, "serving": ""})
    assert "Der Stand hat sich inzwischen geändert" in steinfurt.get(r.headers["Location"]).text
    with town(app):
        t001 = db.session.scalar(select(QueueEntry).where(QueueEntry.ticket == "T-001")).id
    steinfurt.post(f"/admin/queue/entries/{t001}/recall", data={"counter": desk})
    r = steinfurt.post("/admin/queue/call", data={"counter": desk, "serving": t001})
    page = steinfurt.get(r.headers["Location"]).text
    assert "Aufgerufen: A-002" in page and "Ali" in page
    with town(app):
        a002 = db.session.scalar(select(QueueEntry).where(QueueEntry.ticket == "A-002")).id
        other = counter("schalter-3").id
    steinfurt.post(f"/admin/queue/entries/{a002}/pass", data={"counter": desk, "target": f"counter:{other}"})
    assert "A-002" in steinfurt.get(f"/admin/queue?counter={other}").text
    body = steinfurt.get("/api/v1/offices/buergerbuero/queue").json
    assert [c["ticket"] for c in body["called"]] == ["A-002", "T-001", "T-001"]
    assert steinfurt.get("/api/v1/appointments/" + "x" * 10).status_code == 404
    with town(app):
        actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("queue.%"))))
        assert {"queue.setup", "queue.arrive", "queue.call", "queue.recall", "queue.pass"} <= actions
        assert not any("Ali" in str(e.after) for e in db.session.scalars(select(AuditEntry)))


def test_staff_may_not_set_up_the_queue_and_pages_speak_english(app, steinfurt):
    with town(app):
        switch_off()
        commit()
    logged_in(app, steinfurt, "staff")
    assert steinfurt.get("/admin/queue/setup").status_code == 403
    assert "Kein Büro führt eine Warteschlange" in steinfurt.get("/admin/queue").text
    assert "No office keeps a queue" in steinfurt.get("/admin/queue?lang=en").text


_ = service


def test_a_check_in_in_the_day_view_puts_todays_appointment_into_the_queue(app, steinfurt, fixed_now):
    day = next_weekday(0)
    fixed_now(at(day, 8, 0))
    with town(app):
        appt = appointment(at(day, 11), name="Erika Mustermann")  # hours ahead: a clerk may still check in
        appt_id = appt.id
        commit()
    logged_in(app, steinfurt, "staff")
    steinfurt.post(f"/admin/appointments/{appt_id}/status", data={"status": "checked_in"})
    body = steinfurt.get("/api/v1/offices/buergerbuero/queue").json
    assert body["waiting"] == 1
    with town(app):
        entry = db.session.scalar(select(QueueEntry).where(QueueEntry.appointment_id == appt_id))
        assert entry.ticket == "T-001" and entry.appointment.status == "checked_in"


def test_the_workstation_shows_every_service_of_a_visit(app, steinfurt, fixed_now):
    day = next_weekday(0)
    fixed_now(at(day, 9, 55))
    logged_in(app, steinfurt, "admin")
    _switch_on_by_form(steinfurt)
    with town(app):
        appt = appointment(at(day, 10), name="Familie Mustermann")
        appt.set_services([(service("personalausweis"), 2), (service("reisepass"), 1)])
        code = appt.code
        desk = appt.counter_id
        commit()
    steinfurt.post("/admin/queue/desk", data={"action": "check-in", "code": code})
    waiting = steinfurt.get(f"/admin/queue?counter={desk}").text
    assert "Personalausweis beantragen ×2, Reisepass beantragen" in waiting
    r = steinfurt.post("/admin/queue/call", data={"counter": desk, "serving": ""})
    page = steinfurt.get(r.headers["Location"]).text
    current = page[page.index("Jetzt am Schalter"):page.index("waiting-title")]
    assert "Dienstleistungen" in current and "Personalausweis beantragen ×2, Reisepass beantragen" in current
    assert re.search(r"Personen</dt><dd>3<", current)
