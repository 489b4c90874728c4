"""Visits through the API (CONTRACT §5.1): several services with counts in one appointment,
on one counter, lasting their summed time; every impossible combination a 422 on `services`."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from app.extensions import db
from tests.conftest import at, count_rows, next_weekday
from tests.test_citizen_pages import set_settings

API = "/api/v1"
FAMILY = [{"slug": "personalausweis", "count": 2}, {"slug": "reisepass", "count": 1}]
# Steinfurt: ID card 20 min + 10 per further person, passport 20 min.
FAMILY_MINUTES = 20 + 10 + 20


@pytest.fixture
def monday():
    return next_weekday(0)


def book_visit(client, start, services=FAMILY, email="familie@example.org", **extra):
    body = {"services": services, "start": start.isoformat(), "name": "Familie Mustermann", "email": email,
            **extra}
    return client.post(f"{API}/appointments", json=body)


def book_one(client, start, service="personalausweis", email="einzeln@example.org", **extra):
    body = {"service": service, "start": start.isoformat(), "name": "Erika Mustermann", "email": email, **extra}
    return client.post(f"{API}/appointments", json=body)


def services_table(app) -> list[tuple]:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(text(
            "SELECT a.code, s.slug, x.count, x.position, a.counter_id FROM appointment_services x "
            "JOIN appointments a ON a.id = x.appointment_id JOIN services s ON s.id = x.service_id "
            "ORDER BY a.code, x.position"))]


def test_services_tell_how_they_combine(steinfurt):
    services = {s["slug"]: s for s in steinfurt.get(f"{API}/services").json}
    pa = services["personalausweis"]
    assert pa["persons_max"] == 3 and pa["additional_person_minutes"] == 10 and pa["combinable"] is True
    # Not set: each further person takes the service's own duration.
    fz = services["fuehrungszeugnis"]
    assert fz["additional_person_minutes"] == fz["duration_minutes"]


def test_family_visit_lasts_the_summed_time_on_one_counter(app, steinfurt, monday):
    """Done when: "Personalausweis ×2 + Reisepass" booked as one appointment through the API."""
    r = steinfurt.get(f"{API}/slots?services=personalausweis:2,reisepass&from={monday}&to={monday}")
    assert r.status_code == 200
    body = r.json
    assert body["services"] == FAMILY and body["duration_minutes"] == FAMILY_MINUTES
    starts = [s["start"] for s in body["slots"]]
    assert starts[0] == at(monday, 8).isoformat()
    for s in body["slots"]:
        assert datetime.fromisoformat(s["end"]) - datetime.fromisoformat(s["start"]) == timedelta(minutes=50)
    # Monday mornings close at 12:30: a 50-minute visit starts by 11:40.
    assert at(monday, 11, 40).isoformat() in starts and at(monday, 11, 50).isoformat() not in starts

    proposal = steinfurt.get(f"{API}/next?services=personalausweis:2,reisepass").json
    assert datetime.fromisoformat(proposal["end"]) - datetime.fromisoformat(proposal["start"]) == timedelta(minutes=50)

    r = book_visit(steinfurt, at(monday, 9))
    assert r.status_code == 201, r.json
    appt = r.json
    assert appt["services"] == [{"slug": "personalausweis", "name": "Personalausweis beantragen", "count": 2},
                                {"slug": "reisepass", "name": "Reisepass beantragen", "count": 1}]
    assert appt["service"]["slug"] == "personalausweis" and appt["duration_minutes"] == FAMILY_MINUTES
    assert appt["start"] == at(monday, 9).isoformat() and appt["end"] == at(monday, 9, 50).isoformat()
    # The passport photo is asked for by both services: listed once.
    assert len(appt["documents"]) == len(set(appt["documents"]))
    assert sum("Passbild" in d for d in appt["documents"]) == 1
    assert any("Geburtsurkunde" in d and "Reisepass" in d for d in appt["documents"])
    assert count_rows(app, "appointments") == 1
    rows = services_table(app)
    assert [(slug, n, pos) for _, slug, n, pos, _ in rows] == [("personalausweis", 2, 0), ("reisepass", 1, 1)]
    assert steinfurt.get(f"{API}/appointments/{appt['manage_token']}").json["services"] == appt["services"]


def test_one_service_with_persons_is_that_services_count(app, steinfurt, monday):
    r = book_one(steinfurt, at(monday, 9), persons=3)
    assert r.status_code == 201
    assert r.json["services"] == [{"slug": "personalausweis", "name": "Personalausweis beantragen", "count": 3}]
    assert r.json["end"] == at(monday, 9, 40).isoformat() and r.json["duration_minutes"] == 40


def test_the_whole_visit_has_to_fit_not_just_its_first_service(app, steinfurt, monday):
    # Three online counters (one of four is held back) are taken from 08:30.
    for i in range(3):
        assert book_one(steinfurt, at(monday, 8, 30), email=f"p{i}@example.org").status_code == 201
    assert book_one(steinfurt, at(monday, 8), email="kurz@example.org").status_code == 201  # 08:00–08:20 fits
    r = book_visit(steinfurt, at(monday, 8, 10))
    assert r.status_code == 409 and r.json["type"].endswith("slot-taken")
    nxt = r.json["next"]
    assert datetime.fromisoformat(nxt["end"]) - datetime.fromisoformat(nxt["start"]) == timedelta(minutes=50)
    slots = steinfurt.get(f"{API}/slots?services=personalausweis:2,reisepass&from={monday}&to={monday}").json
    assert at(monday, 8).isoformat() not in [s["start"] for s in slots["slots"]]
    assert book_visit(steinfurt, datetime.fromisoformat(nxt["start"])).status_code == 201


def _make_reisepass_another_office(app):
    from app.catalog.models import Service
    from app.offices.models import Office
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants, tenant_scope

    with app.app_context():
        with all_tenants():
            tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
        with tenant_scope(tid):
            other = Office(slug="aussenstelle", name="Außenstelle Borghorst", address="Markt 1, 48565 Steinfurt")
            db.session.add(other)
            db.session.flush()
            db.session.scalar(select(Service).where(Service.slug == "reisepass")).office_id = other.id
            db.session.commit()


def _not_combinable(app, slug):
    with app.app_context():
        db.session.execute(text("UPDATE services SET combinable = false WHERE slug = :s"), {"s": slug})
        db.session.commit()


@pytest.mark.parametrize("case", ["other office", "not combinable", "above persons_max", "twice", "too many",
                                  "unknown", "malformed", "empty"])
def test_every_impossible_combination_is_422_on_services(app, steinfurt, monday, case):
    services = {
        "other office": "personalausweis,reisepass", "not combinable": "personalausweis,reisepass",
        "above persons_max": "personalausweis:4", "twice": "personalausweis,personalausweis:2",
        "too many": "personalausweis,reisepass,anmeldung,umzug", "unknown": "personalausweis,hundesteuer",
        "malformed": "personalausweis:zwei", "empty": "",
    }[case]
    if case == "other office":
        _make_reisepass_another_office(app)
    if case == "not combinable":
        _not_combinable(app, "reisepass")
    for path in ("slots", "next"):
        r = steinfurt.get(f"{API}/{path}?services={services}")
        assert r.status_code == 422, (path, r.json)
        assert r.content_type.startswith("application/problem+json") and r.json["errors"]["services"]
    items = [{"slug": p.split(":")[0], "count": int(p.split(":")[1]) if p[-1:].isdigit() and ":" in p else 1}
             for p in services.split(",") if p and not p.endswith("zwei")]
    if items:
        r = book_visit(steinfurt, at(monday, 9), services=items)
        assert r.status_code == 422 and r.json["errors"]["services"], r.json
    assert count_rows(app, "appointments") == 0


def test_the_tenant_setting_limits_services_per_visit(app, steinfurt, monday):
    three = "personalausweis,reisepass,anmeldung"
    assert steinfurt.get(f"{API}/slots?services={three}&from={monday}&to={monday}").status_code == 200
    set_settings(app, "steinfurt", max_services_per_visit=2)
    r = steinfurt.get(f"{API}/slots?services={three}&from={monday}&to={monday}")
    assert r.status_code == 422 and "2" in r.json["errors"]["services"][0]


@pytest.mark.parametrize("body, field", [
    ({"services": FAMILY, "service": "personalausweis"}, "services"),
    ({"services": []}, "services"),
    ({"services": [{"slug": "personalausweis", "count": "2"}]}, "services"),
    ({"services": [{"count": 2}]}, "services"),
    ({"services": "personalausweis"}, "services"),
    ({}, "service"),
])
def test_malformed_services_bodies_are_422(app, steinfurt, monday, body, field):
    full = {"start": at(monday, 9).isoformat(), "name": "Familie Mustermann", "email": "f@example.org", **body}
    r = steinfurt.post(f"{API}/appointments", json=full)
    assert r.status_code == 422 and r.json["errors"][field], r.json
    assert count_rows(app, "appointments") == 0


def test_a_patch_moves_the_whole_visit(app, steinfurt, monday):
    appt = book_visit(steinfurt, at(monday, 9)).json
    r = steinfurt.patch(f"{API}/appointments/{appt['manage_token']}", json={"start": at(monday, 10).isoformat()})
    assert r.status_code == 200, r.json
    moved = r.json
    assert moved["code"] == appt["code"] and moved["services"] == appt["services"]
    assert moved["start"] == at(monday, 10).isoformat() and moved["end"] == at(monday, 10, 50).isoformat()
    # The old time is free again for the whole visit, the new one taken on one counter.
    slots = steinfurt.get(f"{API}/slots?services=personalausweis:2,reisepass&from={monday}&to={monday}").json["slots"]
    free = {s["start"]: s["free"] for s in slots}
    assert free[at(monday, 9).isoformat()] == 3 and free[at(monday, 10).isoformat()] == 2
    assert len({counter for *_, counter in services_table(app)}) == 1


def test_a_patch_onto_a_start_where_the_visit_does_not_fit_is_409(app, steinfurt, monday):
    appt = book_visit(steinfurt, at(monday, 9)).json
    for i in range(3):
        assert book_one(steinfurt, at(monday, 10, 30), email=f"p{i}@example.org").status_code == 201
    r = steinfurt.patch(f"{API}/appointments/{appt['manage_token']}", json={"start": at(monday, 10).isoformat()})
    assert r.status_code == 409
    assert steinfurt.get(f"{API}/appointments/{appt['manage_token']}").json["start"] == at(monday, 9).isoformat()


def test_the_booking_cap_counts_a_visit_once(app, steinfurt, monday):
    assert book_visit(steinfurt, at(monday, 8), email="cap@example.org").status_code == 201
    assert book_one(steinfurt, at(monday, 10), email="cap@example.org").status_code == 201
    r = book_one(steinfurt, at(monday, 11), email="cap@example.org")
    assert r.status_code == 409 and r.json["type"].endswith("active-booking-limit")


def test_cancelling_a_visit_frees_its_whole_time(app, steinfurt, monday):
    appt = book_visit(steinfurt, at(monday, 9)).json
    assert steinfurt.delete(f"{API}/appointments/{appt['manage_token']}").status_code == 204
    slots = steinfurt.get(f"{API}/slots?services=personalausweis:2,reisepass&from={monday}&to={monday}").json["slots"]
    assert {s["start"]: s["free"] for s in slots}[at(monday, 9).isoformat()] == 3


def test_openapi_describes_visits(steinfurt):
    spec = steinfurt.get(f"{API}/openapi.json").json
    assert {"/slots", "/next"} <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/slots"]["get"]["parameters"]}
    assert {"services", "from", "to"} <= params
    props = spec["components"]["schemas"]["BookingRequest"]["properties"]
    assert "services" in props and "service" in props
    assert {"services", "duration_minutes"} <= set(spec["components"]["schemas"]["Appointment"]["properties"])
    assert {"persons_max", "additional_person_minutes", "combinable"} <= set(
        spec["components"]["schemas"]["Service"]["properties"])


def test_one_service_is_the_form_and_the_apis_single_service_rule(app):
    """`visits.one_service`: the service bookable online here, for persons it takes
    (Steinfurt's ID card: up to 3); what the API's `service` + `persons` go through."""
    from app.catalog import visits
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants, tenant_scope

    with app.app_context():
        with all_tenants():
            tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
        with tenant_scope(tid):
            visit = visits.one_service("personalausweis", 3)
            assert [(s.slug, n) for s, n in visit.items] == [("personalausweis", 3)]
            with pytest.raises(visits.VisitProblem, match="at most 3 for this service") as persons:
                visits.one_service("personalausweis", 4)
            assert persons.value.kind == "persons"
            with pytest.raises(visits.VisitProblem, match="no service 'gibt-es-nicht' is bookable online") as unknown:
                visits.one_service("gibt-es-nicht")
            assert unknown.value.kind == "unknown"
