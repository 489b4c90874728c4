"""The JSON API as a town's web developer uses it (CONTRACT §5): answers and every error path."""
from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from tests.conftest import at, count_rows, mails, next_weekday

API = "/api/v1"


def book(client, start, email="erika@example.org", service="personalausweis", **extra):
    body = {"service": service, "start": start.isoformat() if hasattr(start, "isoformat") else start,
            "name": "Erika Mustermann", "email": email, **extra}
    return client.post(f"{API}/appointments", json=body)


@pytest.fixture
def monday():
    return next_weekday(0)


def test_services_list_shapes_and_town_override(steinfurt, emsdetten):
    services = {s["slug"]: s for s in steinfurt.get(f"{API}/services").json}
    assert {"personalausweis", "reisepass", "fuehrungszeugnis", "anmeldung", "abmeldung", "umzug",
            "fuehrerschein"} <= set(services)
    pa = services["personalausweis"]
    assert pa["duration_minutes"] == 20 and pa["documents"] and isinstance(pa["documents"][0], str)
    assert pa["office"]["name"] == "Bürgerbüro / Einwohnermeldeamt"
    theirs = {s["slug"]: s for s in emsdetten.get(f"{API}/services").json}
    assert theirs["reisepass"]["duration_minutes"] == 30 != services["reisepass"]["duration_minutes"]
    assert theirs["reisepass"]["documents"] != services["reisepass"]["documents"]
    assert "fuehrungszeugnis" not in theirs  # Emsdetten: not bookable online


def test_tenant_answer(steinfurt):
    t = steinfurt.get(f"{API}/tenant").json
    assert t["slug"] == "steinfurt" and t["timezone"] == "Europe/Berlin"
    office = t["offices"][0]
    assert office["entrances"][0]["name"] == "Zugang B (Kantineneingang)"
    assert office["entrances"][0]["directions"] and office["notices"]


def test_slots_are_sorted_free_and_inside_the_window(steinfurt, monday):
    r = steinfurt.get(f"{API}/services/personalausweis/slots?from={monday}&to={monday}")
    assert r.status_code == 200
    slots = r.json["slots"]
    starts = [s["start"] for s in slots]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert starts[0] == at(monday, 8).isoformat()
    # 4 counters open, 1 held back for staff and emergencies.
    assert {s["free"] for s in slots} == {3}
    # Monday: 08:00–12:30 and 14:00–16:00; a 20-minute service starts by 12:10 and 15:40.
    assert at(monday, 12, 10).isoformat() in starts and at(monday, 12, 20).isoformat() not in starts
    assert at(monday, 15, 40).isoformat() in starts and at(monday, 13, 0).isoformat() not in starts


def test_next_is_the_first_free_slot(steinfurt):
    nxt = steinfurt.get(f"{API}/services/personalausweis/next").json
    first = steinfurt.get(f"{API}/services/personalausweis/slots").json["slots"][0]
    assert nxt["start"] == first["start"] and nxt["office"]["slug"] == "buergerbuero"


@pytest.mark.parametrize("query, field", [
    ("from=2026-13-01", "from"), ("to=tomorrow", "to"), ("to=", "to"), ("from=2027-01-10&to=2027-01-01", "to"),
    ("from=2027-01-01&to=2027-04-05", "to"),
])
def test_bad_slot_windows_are_422(steinfurt, query, field):
    r = steinfurt.get(f"{API}/services/personalausweis/slots?{query}")
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert field in r.json["errors"]


def test_unknown_service_is_404(steinfurt):
    for path in ("/services/nope/slots", "/services/nope/next"):
        r = steinfurt.get(API + path)
        assert r.status_code == 404 and r.json["status"] == 404 and r.json["title"]


def test_booking_answers_with_everything_and_mails_it(app, steinfurt, monday):
    r = book(steinfurt, at(monday, 9, 30))
    assert r.status_code == 201, r.json
    a = r.json
    assert a["status"] == "booked" and a["service"] == {"slug": "personalausweis", "name": "Personalausweis beantragen"}
    assert a["start"] == at(monday, 9, 30).isoformat() and a["end"] == at(monday, 9, 50).isoformat()
    assert a["office"]["address"].startswith("Emsdettener Straße 40")
    assert a["entrance"]["name"] == "Zugang B (Kantineneingang)" and a["documents"]
    assert len(a["manage_token"]) >= 22 and a["manage_url"].endswith("/manage/" + a["manage_token"])
    assert steinfurt.get(f"{API}/appointments/{a['manage_token']}").json == a
    [mail] = mails(app)
    assert monday.strftime("%d.%m.%Y") in mail["Subject"] and "Personalausweis" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for needle in (monday.strftime("%d.%m.%Y"), "09:30", "Emsdettener Straße 40", "Zugang B (Kantineneingang)",
                   "Kantine", "Hausordnung", "biometrisches Passbild", a["code"], a["manage_url"]):
        assert needle in text, needle
        assert needle.replace("&", "&amp;") in html, needle
    [ics] = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == at(monday, 9, 30)
    assert "TZID=Europe/Berlin" in ics.get_content().replace("\r\n ", "")


def test_a_full_start_is_409_with_a_fresh_proposal(app, steinfurt, monday):
    start = at(monday, 10)
    for i in range(3):
        assert book(steinfurt, start, email=f"p{i}@example.org").status_code == 201
    before = count_rows(app, "appointments")
    r = book(steinfurt, start, email="late@example.org")
    assert r.status_code == 409 and r.json["type"].endswith("slot-taken")
    assert r.json["next"]["start"] and r.json["next"]["start"] != start.isoformat()
    assert count_rows(app, "appointments") == before
    slots = steinfurt.get(f"{API}/services/personalausweis/slots?from={monday}&to={monday}").json["slots"]
    assert start.isoformat() not in [s["start"] for s in slots]


def test_active_booking_limit_per_email(app, steinfurt, monday):
    assert book(steinfurt, at(monday, 8), email="Max@Example.org").status_code == 201
    assert book(steinfurt, at(monday, 9), email="max@example.org").status_code == 201
    r = book(steinfurt, at(monday, 11), email="MAX@example.org ")
    assert r.status_code in (409, 422)
    r = book(steinfurt, at(monday, 11), email="max@example.org")
    assert r.status_code == 409 and r.json["type"].endswith("active-booking-limit")
    assert count_rows(app, "appointments") == 2


@pytest.mark.parametrize("change, field", [
    ({"name": ""}, "name"), ({"email": "not-an-address"}, "email"), ({"service": "hundesteuer"}, "service"),
    ({"start": "2027-01-01T09:00:00"}, "start"), ({"start": "soon"}, "start"), ({"persons": 9}, "persons"),
    ({"phone": "call me maybe"}, "phone"), ({"surprise": 1}, "surprise"),
])
def test_invalid_fields_are_422_and_change_nothing(app, steinfurt, monday, change, field):
    body = {"service": "personalausweis", "start": at(monday, 9).isoformat(), "name": "Erika", "email": "e@example.org"}
    body.update(change)
    r = steinfurt.post(f"{API}/appointments", json=body)
    assert r.status_code == 422 and r.mimetype == "application/problem+json", r.json
    assert field in r.json["errors"], r.json
    assert count_rows(app, "appointments") == 0 and count_rows(app, "outbox_mails") == 0


@pytest.mark.parametrize("start", ["off_grid", "night", "past", "beyond", "sunday"])
def test_unbookable_starts_are_422_on_start(app, steinfurt, monday, start):
    value = {
        "off_grid": at(monday, 9, 5), "night": at(monday, 20), "past": at(monday - timedelta(days=14), 9),
        "beyond": at(monday + timedelta(days=70), 9), "sunday": at(monday - timedelta(days=1), 9),
    }[start]
    r = book(steinfurt, value)
    assert r.status_code == 422 and "start" in r.json["errors"], r.json
    assert count_rows(app, "appointments") == 0


def test_malformed_json_wrong_type_and_big_bodies(app, steinfurt):
    r = steinfurt.post(f"{API}/appointments", data="{nope", content_type="application/json")
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    r = steinfurt.post(f"{API}/appointments", data="service=x", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415
    r = steinfurt.post(f"{API}/appointments", data='{"name": "' + "x" * 70000 + '"}', content_type="application/json")
    assert r.status_code == 413
    r = steinfurt.post(f"{API}/appointments", json=[1, 2])
    assert r.status_code == 422
    assert count_rows(app, "appointments") == 0


def test_move_keeps_code_and_token_and_frees_the_old_slot(app, steinfurt, monday):
    a = book(steinfurt, at(monday, 9)).json
    r = steinfurt.patch(f"{API}/appointments/{a['manage_token']}", json={"start": at(monday, 11).isoformat()})
    assert r.status_code == 200, r.json
    assert r.json["code"] == a["code"] and r.json["manage_token"] == a["manage_token"]
    assert r.json["start"] == at(monday, 11).isoformat()
    slots = steinfurt.get(f"{API}/services/personalausweis/slots?from={monday}&to={monday}").json["slots"]
    free = {s["start"]: s["free"] for s in slots}
    assert free[at(monday, 9).isoformat()] == 3 and free[at(monday, 11).isoformat()] == 2
    assert [m["Subject"].split(":")[0] for m in mails(app)] == ["Terminbestätigung", "Termin verschoben"]


def test_move_onto_a_full_start_is_409_and_keeps_the_old_one(app, steinfurt, monday):
    for i in range(3):
        book(steinfurt, at(monday, 10), email=f"f{i}@example.org")
    a = book(steinfurt, at(monday, 9)).json
    r = steinfurt.patch(f"{API}/appointments/{a['manage_token']}", json={"start": at(monday, 10).isoformat()})
    assert r.status_code == 409 and r.json["next"]
    assert steinfurt.get(f"{API}/appointments/{a['manage_token']}").json["start"] == at(monday, 9).isoformat()


def test_cancel_frees_the_slot_at_once_and_is_idempotent(app, steinfurt, monday):
    tokens = [book(steinfurt, at(monday, 10), email=f"c{i}@example.org").json["manage_token"] for i in range(3)]
    assert book(steinfurt, at(monday, 10), email="x@example.org").status_code == 409
    assert steinfurt.delete(f"{API}/appointments/{tokens[0]}").status_code == 204
    assert steinfurt.get(f"{API}/appointments/{tokens[0]}").json["status"] == "cancelled"
    assert steinfurt.delete(f"{API}/appointments/{tokens[0]}").status_code == 204
    assert book(steinfurt, at(monday, 10), email="x@example.org").status_code == 201
    r = steinfurt.patch(f"{API}/appointments/{tokens[0]}", json={"start": at(monday, 11).isoformat()})
    assert r.status_code == 422
    cancel_mails = [m for m in mails(app) if m["Subject"].startswith("Termin abgesagt")]
    assert len(cancel_mails) == 1
    ics = next(p for p in cancel_mails[0].iter_attachments()).get_content()
    assert "METHOD:CANCEL" in ics and "SEQUENCE:1" in ics


def test_moving_past_the_deadline_is_422_but_cancelling_works_until_the_start(app, steinfurt, monday, fixed_now):
    a = book(steinfurt, at(monday, 9)).json
    fixed_now(at(monday, 7).astimezone())  # two hours before; the moving deadline is 24 hours
    r = steinfurt.patch(f"{API}/appointments/{a['manage_token']}", json={"start": at(monday, 11).isoformat()})
    assert r.status_code == 422
    assert steinfurt.get(f"{API}/appointments/{a['manage_token']}").json["status"] == "booked"
    assert steinfurt.delete(f"{API}/appointments/{a['manage_token']}").status_code == 204
    assert steinfurt.get(f"{API}/appointments/{a['manage_token']}").json["status"] == "cancelled"


def test_once_the_appointment_has_started_cancelling_is_422(app, steinfurt, monday, fixed_now):
    a = book(steinfurt, at(monday, 9)).json
    fixed_now(at(monday, 9, 1).astimezone())
    r = steinfurt.delete(f"{API}/appointments/{a['manage_token']}")
    assert r.status_code == 422 and r.json["type"].endswith("appointment-started")
    assert steinfurt.get(f"{API}/appointments/{a['manage_token']}").json["status"] == "booked"


def test_unknown_token_is_404_and_tokens_do_not_cross_tenants(steinfurt, emsdetten, monday):
    a = book(steinfurt, at(monday, 9)).json
    assert steinfurt.get(f"{API}/appointments/not-a-token").status_code == 404
    for method in ("get", "delete"):
        assert getattr(emsdetten, method)(f"{API}/appointments/{a['manage_token']}").status_code == 404
    r = emsdetten.patch(f"{API}/appointments/{a['manage_token']}", json={"start": at(monday, 11).isoformat()})
    assert r.status_code == 404
    assert steinfurt.get(f"{API}/appointments/{a['manage_token']}").json["status"] == "booked"


def test_calendar_full_answers_404_with_contact_and_bookable_from(app, steinfurt, monday, fixed_now):
    from app.extensions import db
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants
    from app.transaction import commit

    with app.app_context(), all_tenants():
        t = db.session.query(Tenant).filter_by(slug="steinfurt").one()
        t.settings = {"horizon_days": 1, "lead_minutes": 0}
        commit()
    fixed_now(at(monday - timedelta(days=1), 12).astimezone())  # Sunday noon: tomorrow is Monday
    slots = steinfurt.get(f"{API}/services/personalausweis/slots").json["slots"]
    assert slots
    # Book every online start of the only open day, then ask for the next.
    for i, s in enumerate(slots):
        for j in range(s["free"]):
            assert book(steinfurt, s["start"], email=f"full{i}-{j}@example.org").status_code in (201, 409)
    r = steinfurt.get(f"{API}/services/personalausweis/next")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert r.json["contact"]["phone"] == "02551 1-0"
    assert r.json["bookable_from"] == str(monday + timedelta(days=1))


def test_openapi_describes_every_endpoint(steinfurt):
    spec = steinfurt.get(f"{API}/openapi.json").json
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    assert {"/tenant", "/services", "/services/{slug}/slots", "/services/{slug}/next", "/appointments",
            "/appointments/{manage_token}"} <= set(paths)
    assert {"get", "patch", "delete"} <= set(paths["/appointments/{manage_token}"])
    assert "BookingRequest" in spec["components"]["schemas"]


def test_the_booking_cap_counts_per_tenant(steinfurt, emsdetten, monday):
    assert book(steinfurt, at(monday, 8), email="max@example.org").status_code == 201
    assert book(steinfurt, at(monday, 9), email="max@example.org").status_code == 201
    assert book(steinfurt, at(monday, 11), email="max@example.org").status_code == 409
    assert book(emsdetten, at(monday, 9), email="max@example.org").status_code == 201


def test_a_wrong_method_is_a_405_problem_that_says_what_is_allowed(steinfurt):
    r = steinfurt.client.open("/api/v1/services", method="TRACE", headers={"Host": "steinfurt.localhost"})
    assert r.status_code == 405 and r.mimetype == "application/problem+json"
    assert "GET" in r.headers["Allow"]
    r = steinfurt.client.put("/api/v1/appointments", headers={"Host": "steinfurt.localhost"})
    assert r.status_code == 405 and "POST" in r.headers["Allow"]


def test_the_openapi_description_is_valid(steinfurt):
    from openapi_spec_validator import validate

    validate(steinfurt.get(f"{API}/openapi.json").json)


def test_case_and_plus_tags_do_not_get_round_the_per_email_cap(app, steinfurt, monday):
    """max_active_per_email is 2: Erika+1 and ERIKA+2 are still Erika."""
    assert book(steinfurt, at(monday, 9), email="erika@example.org").status_code == 201
    assert book(steinfurt, at(monday, 10), email="Erika+1@Example.org").status_code == 201
    r = book(steinfurt, at(monday, 11), email="ERIKA+termine@example.org")
    assert r.status_code == 409 and r.json["type"].endswith("active-booking-limit")
    # Another mailbox at the same domain is someone else.
    assert book(steinfurt, at(monday, 11), email="erikas.nachbarin@example.org").status_code == 201


def test_answers_in_the_language_asked_for_say_so_to_caches(steinfurt, monday):
    """The service's name follows Accept-Language: every answer, an error's too, tells a
    shared cache (a town's proxy, a CDN) to keep one copy per language."""
    path = f"{API}/services/personalausweis/slots?from={monday}&to={monday}"
    de = steinfurt.get(path)
    en = steinfurt.get(path, headers={"Accept-Language": "en"})
    assert de.json["service"]["name"] != en.json["service"]["name"]
    bad = steinfurt.get(f"{API}/services/personalausweis/slots?from=gestern")
    missing = steinfurt.get(f"{API}/services/gibt-es-nicht/next")
    for answer in (de, en, bad, missing, steinfurt.get(f"{API}/services")):
        assert "Accept-Language" in answer.vary, answer.request.path
