"""The clerks' day: appointments per counter, check-in, completed, no-show, counts, print."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.booking.models import Appointment
from app.extensions import db
from tests.conftest import at, mails, next_weekday
from tests.test_backoffice_support import in_tenant, logged_in, login  # noqa: F401

API = "/api/v1/appointments"



@pytest.fixture
def tuesday():
    return next_weekday(1)


def book_online(client, start, name="Erika Mustermann", email="erika@example.org", service="personalausweis"):
    resp = client.post(API, json={"service": service, "start": start.isoformat(), "name": name, "email": email})
    assert resp.status_code == 201, resp.json
    return resp.json


def appt_id(app, code: str, tenant: str = "steinfurt") -> int:
    with in_tenant(app, tenant):
        return db.session.scalar(select(Appointment.id).where(Appointment.code == code))


def test_the_day_lists_appointments_per_counter_with_service_name_status_and_source(app, steinfurt, tuesday):
    booked = book_online(steinfurt, at(tuesday, 9))
    logged_in(app, steinfurt, "staff")
    page = steinfurt.get(f"/admin/day?date={tuesday}&by=counter").get_data(as_text=True)
    assert "Erika Mustermann" in page and "Personalausweis beantragen" in page
    assert "09:00–09:20" in page and "gebucht" in page and "online" in page
    assert "Schalter 1" in page and "Schalter 4" in page
    assert "Termine: 1" in page
    other_day = steinfurt.get(f"/admin/day?date={next_weekday(2, after_days=9)}").get_data(as_text=True)
    assert "Erika Mustermann" not in other_day
    assert booked["code"]


def test_check_in_then_completed_and_no_show_are_counted_and_audited(app, steinfurt, tuesday, fixed_now):
    first = book_online(steinfurt, at(tuesday, 9))
    second = book_online(steinfurt, at(tuesday, 10), name="Max Muster", email="max@example.org")
    fixed_now(at(tuesday, 10, 5))  # the clerk works on the day itself
    logged_in(app, steinfurt, "staff", email="clerk@steinfurt.example")
    a1, a2 = appt_id(app, first["code"]), appt_id(app, second["code"])
    assert steinfurt.post(f"/admin/appointments/{a1}/status", data={"status": "checked_in"}).status_code == 302
    assert steinfurt.post(f"/admin/appointments/{a1}/status", data={"status": "completed"}).status_code == 302
    assert steinfurt.post(f"/admin/appointments/{a2}/status", data={"status": "no_show"}).status_code == 302
    page = steinfurt.get(f"/admin/day?date={tuesday}").get_data(as_text=True)
    assert "erledigt: 1" in page and "nicht erschienen: 1" in page and "gebucht: 0" in page
    assert steinfurt.get(f"{API}/{first['manage_token']}").json["status"] == "completed"
    with in_tenant(app, "steinfurt"):
        entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "appointment_status")
                                          .order_by(AuditEntry.id)))
        assert [(e.before["status"], e.after["status"]) for e in entries] == [
            ("booked", "checked_in"), ("checked_in", "completed"), ("booked", "no_show")]
        assert entries[0].actor == "clerk@steinfurt.example" and entries[0].user_id
        assert "Erika" not in str(entries[0].after)  # the audit log keeps no citizen data


def test_an_impossible_status_change_is_refused_with_a_message(app, steinfurt, tuesday):
    booked = book_online(steinfurt, at(tuesday, 9))
    logged_in(app, steinfurt, "staff")
    aid = appt_id(app, booked["code"])
    resp = steinfurt.post(f"/admin/appointments/{aid}/status", data={"status": "cancelled"})
    assert resp.status_code == 302
    page = steinfurt.get(resp.headers["Location"]).get_data(as_text=True)
    assert "kann nicht" in page
    assert steinfurt.get(f"{API}/{booked['manage_token']}").json["status"] == "booked"


def text_of(page: str) -> str:
    """The words a clerk reads: the page without its tags and attribute values."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page).replace("&nbsp;", " "))


def buttons(page: str, appt: int) -> list[str]:
    row = re.search(rf'<tr id="a{appt}".*?</tr>', page, re.S).group(0)
    return [b.strip() for b in re.findall(r"<button[^>]*>([^<]*)</button>", row)]


def test_the_day_is_chronological_across_counters_with_phone_persons_services_and_note(app, steinfurt, tuesday):
    later = steinfurt.post(API, json={
        "services": [{"slug": "personalausweis", "count": 2}, {"slug": "reisepass", "count": 1}],
        "start": at(tuesday, 10).isoformat(), "name": "Familie Beispiel", "email": "fam@example.org",
        "phone": "02551 123", "note": "Kinderwagen, bitte ebenerdig"})
    assert later.status_code == 201, later.json
    book_online(steinfurt, at(tuesday, 9), name="Frühe Frieda", email="frieda@example.org")
    book_online(steinfurt, at(tuesday, 9), name="Zweite Zora", email="zora@example.org")  # another counter
    logged_in(app, steinfurt, "staff")
    page = steinfurt.get(f"/admin/day?date={tuesday}").get_data(as_text=True)
    words = text_of(page)
    assert "Alle Termine nach Uhrzeit" in words
    assert words.index("Frühe Frieda") < words.index("Zweite Zora") < words.index("Familie Beispiel")
    row = text_of(re.search(r'<tr id="a\d+"[^>]*>(?:(?!</tr>).)*Familie Beispiel.*?</tr>', page, re.S).group(0))
    assert "Personalausweis beantragen ×2 Reisepass beantragen" in row and "Reisepass" in row
    assert " 3 " in row  # persons of the whole visit
    assert "02551 123" in row and "Kinderwagen, bitte ebenerdig" in row
    assert 'id="day-list" data-refresh="60"' in page and "day-refresh.js" in page  # the list reloads itself
    for english in ("booked", "checked_in", "no_show", "completed", "online booking"):
        assert f" {english} " not in f" {words} "
    per_counter = text_of(steinfurt.get(f"/admin/day?date={tuesday}&by=counter").get_data(as_text=True))
    assert "Alle Termine nach Uhrzeit" not in per_counter and "Schalter 1" in per_counter


def test_status_changes_are_guarded_by_time(app, steinfurt, tuesday, fixed_now):
    booked = book_online(steinfurt, at(tuesday, 9))
    aid = appt_id(app, booked["code"])
    fixed_now(at(tuesday, 9) - timedelta(days=1))  # the day before
    logged_in(app, steinfurt, "staff")
    page = steinfurt.get(f"/admin/day?date={tuesday}").get_data(as_text=True)
    assert buttons(page, aid) == []
    for status in ("checked_in", "no_show", "completed"):
        resp = steinfurt.post(f"/admin/appointments/{aid}/status", data={"status": status}, follow_redirects=True)
        assert "nur am Tag des Termins" in resp.get_data(as_text=True) or "noch nicht begonnen" in resp.get_data(
            as_text=True)
    assert steinfurt.get(f"{API}/{booked['manage_token']}").json["status"] == "booked"

    fixed_now(at(tuesday, 8, 45))  # early on the day: check in yes, no-show or completed not yet
    login(steinfurt, "staff@steinfurt.example")  # a day later: a fresh session
    assert buttons(steinfurt.get(f"/admin/day?date={tuesday}").get_data(as_text=True), aid) == ["Einchecken"]
    resp = steinfurt.post(f"/admin/appointments/{aid}/status", data={"status": "no_show"}, follow_redirects=True)
    assert "erst, wenn der Termin begonnen hat" in resp.get_data(as_text=True)

    fixed_now(at(tuesday, 9, 10))  # begun: every change
    assert buttons(steinfurt.get(f"/admin/day?date={tuesday}").get_data(as_text=True), aid) == [
        "Einchecken", "Erledigt", "Nicht erschienen"]
    assert steinfurt.post(f"/admin/appointments/{aid}/status", data={"status": "no_show"}).status_code == 302
    assert steinfurt.get(f"{API}/{booked['manage_token']}").json["status"] == "no_show"


def test_print_view_and_find_by_code(app, steinfurt, tuesday):
    booked = book_online(steinfurt, at(tuesday, 11))
    logged_in(app, steinfurt, "staff")
    page = steinfurt.get(f"/admin/day/print?date={tuesday}").get_data(as_text=True)
    assert "Erika Mustermann" in page and "<form" not in page
    found = steinfurt.get(f"/admin/find?code={booked['code'].replace('-', '').lower()}")
    assert found.status_code == 302
    detail = steinfurt.get(found.headers["Location"]).get_data(as_text=True)
    assert booked["code"] in detail and "Zugang B" in detail


def test_a_bad_date_falls_back_to_today_with_a_message(app, steinfurt):
    logged_in(app, steinfurt, "staff")
    resp = steinfurt.get("/admin/day?date=2026-13-45")
    assert resp.status_code == 200 and "Datum ist ungültig" in resp.get_data(as_text=True)


def test_no_personal_data_in_the_logs_of_a_booking_and_check_in(app, steinfurt, tuesday, caplog):
    caplog.set_level(logging.DEBUG)
    # Alembic's fileConfig (run by the migrating fixture) disables the loggers that existed then.
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.startswith("app") and isinstance(logger, logging.Logger):
            logger.disabled = False
    app.testing = False  # the access log is written outside tests only; include it here
    try:
        logged_in(app, steinfurt, "staff", email="clerk.person@steinfurt.example")
        booked = book_online(steinfurt, at(tuesday, 9), name="Friederike Geheimname", email="friederike@example.org")
        aid = appt_id(app, booked["code"])
        steinfurt.get(f"/admin/day?date={tuesday}")
        steinfurt.post(f"/admin/appointments/{aid}/status", data={"status": "checked_in"})
        resp = steinfurt.post("/admin/phone-booking", data={
            "service": _service_id(app), "start": at(tuesday, 10).isoformat(), "name": "Theo Telefon",
            "email": "theo@example.org", "phone": "0170 1234567"})
        assert resp.status_code == 302
        steinfurt.post("/admin/login", data={"email": "wrong.person@example.org", "password": "x"})
    finally:
        app.testing = True
    assert any(getattr(r, "path", "") == "/admin/phone-booking" for r in caplog.records), "requests were logged"
    assert any(r.getMessage() == "login failed" for r in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + " " + " ".join(str(v) for v in vars(record).values())
        for secret in ("Friederike", "Geheimname", "friederike@", "Theo", "theo@", "1234567", "clerk.person",
                       "wrong.person", booked["manage_token"]):
            assert secret not in text, (record.name, record.getMessage())


def _service_id(app) -> int:
    from app.catalog.models import Service

    with in_tenant(app, "steinfurt"):
        return db.session.scalar(select(Service.id).where(Service.slug == "personalausweis"))


def test_a_clerk_moves_an_appointment_to_a_proposed_time_and_resends_the_confirmation(app, steinfurt, tuesday):
    booked = book_online(steinfurt, at(tuesday, 9))
    aid = appt_id(app, booked["code"])
    logged_in(app, steinfurt, "staff", email="clerk@steinfurt.example")
    detail = steinfurt.get(f"/admin/appointments/{aid}").get_data(as_text=True)
    assert "Termin verschieben" in detail and "Bestätigung erneut senden" in detail
    sent = len(mails(app))
    assert steinfurt.post(f"/admin/appointments/{aid}/resend").status_code == 302
    again = mails(app)
    assert len(again) == sent + 1 and again[-1]["To"] == "erika@example.org"
    assert again[-1]["Subject"].strip().startswith("Terminbestätigung")

    page = steinfurt.get(f"/admin/appointments/{aid}/move").get_data(as_text=True)
    starts = re.findall(r'name="start" value="([^"]+)"', page)
    assert starts and at(tuesday, 9).isoformat() not in starts  # its own time is not proposed
    resp = steinfurt.post(f"/admin/appointments/{aid}/move", data={"start": starts[0]}, follow_redirects=True)
    assert "verschoben auf" in resp.get_data(as_text=True)
    moved = steinfurt.get(f"{API}/{booked['manage_token']}").json
    assert moved["start"] != at(tuesday, 9).isoformat()
    assert mails(app)[-1]["Subject"].strip().startswith("Termin verschoben")
    # Not a start from the list: refused with a message, nothing moves.
    resp = steinfurt.post(f"/admin/appointments/{aid}/move", data={"start": "not a time"}, follow_redirects=True)
    assert "freien Zeiten wählen" in resp.get_data(as_text=True)
    assert steinfurt.get(f"{API}/{booked['manage_token']}").json["start"] == moved["start"]
    with in_tenant(app, "steinfurt"):
        actions = [e.action for e in db.session.scalars(select(AuditEntry).where(
            AuditEntry.object_id == str(aid)).order_by(AuditEntry.id))]
    assert actions.count("confirmation_resent") == 1 and actions.count("appointment_moved_by_office") == 1


def test_the_offices_day_is_the_towns_local_day_every_status_in_start_order(app, steinfurt, tuesday):
    """`staff.day_appointments`, the day view's query: the office's appointments starting on
    the local day, cancelled ones too, by start; the next day's are not among them."""
    from app.booking import staff
    from app.offices.models import Office
    from app.tenancy.resolve import tenant_info

    late = book_online(steinfurt, at(tuesday, 10), email="spaet@example.org")
    early = book_online(steinfurt, at(tuesday, 8))
    book_online(steinfurt, at(tuesday + timedelta(days=1), 8), email="morgen@example.org")
    assert steinfurt.delete(f"{API}/{late['manage_token']}").status_code == 204
    with in_tenant(app, "steinfurt") as tid:
        office = db.session.scalar(select(Office).where(Office.id == select(Appointment.office_id).where(
            Appointment.code == early["code"]).scalar_subquery()))
        day = staff.day_appointments(tenant_info(tid), office, tuesday)
        assert [(a.code, a.status) for a in day] == [(early["code"], "booked"), (late["code"], "cancelled")]
        assert day[0].service.slug == "personalausweis"
