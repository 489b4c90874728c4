"""Clerks and visits: the day view shows every service of a visit with its count, and a
phone caller's visit is booked as one appointment on one counter."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.booking.models import Appointment
from app.extensions import db
from tests.conftest import HostClient, at, next_weekday
from tests.test_admin_catalog import api_service, service_form
from tests.test_backoffice_support import in_tenant, logged_in, service_id  # noqa: F401


@pytest.fixture
def tuesday():
    return next_weekday(1)


def test_the_day_view_shows_every_service_of_a_visit(app, steinfurt, tuesday):
    r = steinfurt.post("/api/v1/appointments", json={
        "services": [{"slug": "personalausweis", "count": 2}, {"slug": "reisepass", "count": 1}],
        "start": at(tuesday, 9).isoformat(), "name": "Familie Mustermann", "email": "f@example.org"})
    assert r.status_code == 201
    logged_in(app, steinfurt, "staff")
    day = steinfurt.get(f"/admin/day?date={tuesday}").get_data(as_text=True)
    assert re.search(r"Personalausweis beantragen ×2<br>Reisepass beantragen", day)
    assert "09:00–09:50" in day
    with in_tenant(app, "steinfurt"):
        appt_id = db.session.scalar(select(Appointment.id))
    detail = steinfurt.get(f"/admin/appointments/{appt_id}").get_data(as_text=True)
    assert "Personalausweis beantragen – 2 Personen" in detail and "Reisepass beantragen – 1 Person" in detail


def test_a_clerk_books_a_visit_for_a_caller(app, steinfurt, tuesday):
    logged_in(app, steinfurt, "staff")
    pa, rp = service_id(app, "personalausweis", "steinfurt"), service_id(app, "reisepass", "steinfurt")
    form = steinfurt.get(f"/admin/phone-booking?service={pa}&persons=2&service2={rp}&persons2=1"
                         f"&day={tuesday.isoformat()}").get_data(as_text=True)
    assert "Weitere Dienstleistung im selben Termin" in form and "zusammen 50 Min." in form
    resp = steinfurt.post("/admin/phone-booking", data={
        "service": pa, "persons": "2", "service2": rp, "persons2": "1", "start": at(tuesday, 10).isoformat(),
        "name": "Familie Anrufer", "phone": "02551 123"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    page = steinfurt.get(resp.headers["Location"]).get_data(as_text=True)
    assert page.count("biometrisches Passbild") == 1 and "Reisepass beantragen" in page
    with in_tenant(app, "steinfurt"):
        appt = db.session.scalar(select(Appointment))
        assert appt.source == "phone" and appt.ends_at - appt.starts_at == timedelta(minutes=50)
        assert [(s.slug, n) for s, n in appt.services_with_counts()] == [("personalausweis", 2), ("reisepass", 1)]


def test_an_impossible_visit_is_explained_to_the_clerk(app, steinfurt, tuesday):
    logged_in(app, steinfurt, "staff")
    pa = service_id(app, "personalausweis", "steinfurt")
    resp = steinfurt.post("/admin/phone-booking", data={
        "service": pa, "persons": "2", "service2": pa, "persons2": "1", "start": at(tuesday, 10).isoformat(),
        "name": "Familie Anrufer"})
    assert resp.status_code == 422
    assert "nur einmal gewählt werden" in resp.get_data(as_text=True)
    with in_tenant(app, "steinfurt"):
        assert db.session.scalar(select(Appointment)) is None


def test_admins_edit_how_a_service_combines_and_towns_inherit_it(app, steinfurt):
    kreis = HostClient(app, "kreis-steinfurt.localhost")
    logged_in(app, kreis, "admin")
    kid = service_id(app, "reisepass", "kreis-steinfurt")
    r = kreis.post(f"/admin/services/{kid}", data=service_form(kreis, kid, additional_person_minutes="12",
                                                                combinable_shown="1", combinable="1"))
    assert r.status_code == 302
    assert api_service(steinfurt, "reisepass")["additional_person_minutes"] == 12  # follows the district
    logged_in(app, steinfurt, "admin", email="admin@steinfurt.example")
    sid = service_id(app, "reisepass", "steinfurt")
    page = steinfurt.get(f"/admin/services/{sid}").get_data(as_text=True)
    assert "Minuten je weitere Person" in page and "Mit anderen Anliegen in einem Termin buchbar" in page
    r = steinfurt.post(f"/admin/services/{sid}", data=service_form(steinfurt, sid, additional_person_minutes="12",
                                                                    combinable_shown="1"))
    assert r.status_code == 302
    assert api_service(steinfurt, "reisepass")["combinable"] is False
    assert "eigener Wert" in steinfurt.get(f"/admin/services/{sid}").get_data(as_text=True)
    r = steinfurt.get("/api/v1/slots?services=personalausweis,reisepass")
    assert r.status_code == 422 and r.json["errors"]["services"]
