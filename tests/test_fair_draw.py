"""The fair draw (issue 16): with `fair_draw_services` a newly released day's requests in
its first minutes are entries, drawn by lot at the window's end; the seed and the order are
recorded and re-checked. Fairness of the lot itself is tested as a pure function."""
from __future__ import annotations

import hashlib
import random
import re
from collections import Counter as Tally
from datetime import timedelta
from itertools import permutations

import pytest
from sqlalchemy import select

from app.booking.draw import drawn_order, lot, verify
from app.booking.models import Appointment, DrawEntry, FairDraw, WaitlistEntry
from app.extensions import db
from app.offices.models import Closure, Office
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope
from app.tenancy.settings import validate_settings
from tests.conftest import HostClient, at, count_rows, mails, next_weekday
from tests.test_backoffice_support import login, make_user
from tests.test_citizen_pages import set_settings

API = "/api/v1"
RUNS = 3000
# chi-square critical values at p = 0.001: 2 degrees of freedom (3 outcomes), 5 (6 outcomes)
CHI2_DF2, CHI2_DF5 = 13.82, 20.52


def chi_square(counts: Tally, outcomes: list, runs: int) -> float:
    expected = runs / len(outcomes)
    return sum((counts.get(o, 0) - expected) ** 2 / expected for o in outcomes)


def naive_shuffle(seed: str, ids: list[int]) -> list[int]:
    """The well-known wrong shuffle (swap each with any place): biased, for the test's control."""
    rnd, out = random.Random(seed), list(ids)
    for i in range(len(out)):
        j = rnd.randrange(len(out))
        out[i], out[j] = out[j], out[i]
    return out


def test_every_entry_is_equally_likely_to_win_over_many_seeded_draws():
    ids = [11, 12, 13]  # three entries, one place: the first in the drawn order wins
    winners = Tally(drawn_order(f"seed-{i}", ids)[0] for i in range(RUNS))
    orders = Tally(tuple(drawn_order(f"seed-{i}", ids)) for i in range(RUNS))
    assert chi_square(winners, ids, RUNS) < CHI2_DF2, winners
    assert chi_square(orders, list(permutations(ids)), RUNS) < CHI2_DF5, orders
    # The bound is sharp enough to catch a biased shuffle.
    biased = Tally(tuple(naive_shuffle(f"seed-{i}", ids)) for i in range(RUNS))
    assert chi_square(biased, list(permutations(ids)), RUNS) > CHI2_DF5, biased
    # The lot anyone can recompute: SHA-256 of "<seed>:<entry id>".
    assert lot("abc", 7) == hashlib.sha256(b"abc:7").hexdigest()
    assert drawn_order("abc", [3, 1, 2]) == sorted([3, 1, 2], key=lambda i: lot("abc", i))


def test_the_setting_is_checked():
    assert validate_settings({"fair_draw_services": ["reisepass"], "fair_draw_minutes": 30}) == {}
    assert validate_settings({"fair_draw_services": "reisepass, personalausweis"}) == {}
    assert validate_settings({"fair_draw_services": []}) == {}
    problems = validate_settings({"fair_draw_services": ["Reise Pass"], "fair_draw_minutes": 2})
    assert set(problems) == {"fair_draw_services", "fair_draw_minutes"}
    assert "service slugs" in problems["fair_draw_services"] and "between 5 and 240" in problems["fair_draw_minutes"]
    assert validate_settings({"fair_draw_services": {"services": 1}})


@pytest.fixture
def draw_app(pg_app, fixed_now):
    """Steinfurt draws `personalausweis`, released at 07:30 and collected for 30 minutes;
    the released Monday is open 09:00–09:40 only: four counters, 20-minute appointments."""
    set_settings(pg_app, "steinfurt", release_time="07:30", fair_draw_services=["personalausweis"],
                 fair_draw_minutes=30, held_back_share=0.0)
    target = next_weekday(0, after_days=60)
    today = target - timedelta(days=56)
    with pg_app.app_context():
        with all_tenants():
            tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == "steinfurt"))
        with tenant_scope(tid):
            office = db.session.scalar(select(Office).where(Office.slug == "buergerbuero"))
            db.session.add_all([
                Closure(office_id=office.id, starts_at=at(target, 0), ends_at=at(target, 9), reason="Test"),
                Closure(office_id=office.id, starts_at=at(target, 9, 40), ends_at=at(target, 23, 59), reason="Test")])
            db.session.commit()
    pg_app.target, pg_app.today, pg_app.tid = target, today, tid
    fixed_now(at(today, 7, 35))
    return pg_app


def _request(client, start, email, **extra):
    return client.post(f"{API}/appointments", json={"service": "personalausweis", "start": start.isoformat(),
                                                    "name": f"Person {email[:6]}", "email": email, **extra})


def test_requests_in_the_window_are_entries_and_the_draw_assigns_them_once(draw_app, fixed_now):
    from app.jobs.due import run_due

    steinfurt = HostClient(draw_app, "steinfurt.localhost")
    target, today = draw_app.target, draw_app.today
    # Booked first-come on another day: moving it onto the drawn day would get round the draw.
    other = _request(steinfurt, at(target - timedelta(days=7), 10), "frueh@example.org")
    assert other.status_code == 201, other.json
    moved = steinfurt.patch(f"{API}/appointments/{other.json['manage_token']}", json={"start": at(target, 9).isoformat()})
    assert moved.status_code == 422 and "drawn by lot" in moved.json["errors"]["start"][0]

    emails = [f"entrant{i}@example.org" for i in range(10)]
    for email in emails:
        r = _request(steinfurt, at(target, 9), email)
        assert r.status_code == 202, r.json
        assert r.json["status"] == "entered" and r.json["draw_at"] == at(today, 8).isoformat()
        assert r.json["start"] == at(target, 9).isoformat() and re.match(r"^[A-Z0-9-]+$", r.json["entry"])
    again = _request(steinfurt, at(target, 9), "Entrant3+zweit@Example.org")
    assert again.status_code == 409 and again.json["type"].endswith("draw-already-entered")
    off_grid = _request(steinfurt, at(target, 9, 5), "neu@example.org")
    assert off_grid.status_code == 422 and "start" in off_grid.json["errors"]
    assert count_rows(draw_app, "draw_entries") == 10
    assert count_rows(draw_app, "appointments") == 1  # nothing of the drawn day is booked yet
    entered = [m for m in mails(draw_app) if m["To"] in emails]
    assert len(entered) == 10 and all("Teilnahme an der Verlosung" in m["Subject"] for m in entered)
    body = entered[0].get_body(("plain",)).get_content()
    assert f"Die Verlosung findet am {today:%d.%m.%Y} um 08:00 Uhr statt" in body

    with draw_app.app_context():
        assert run_due(now=at(today, 7, 59))["draws"] == 0
    fixed_now(at(today, 8))
    pending = _request(steinfurt, at(target, 9), "eilig@example.org")  # closed, not held yet
    assert pending.status_code == 503 and pending.headers["Retry-After"]
    with draw_app.app_context():
        assert run_due()["draws"] == 1
        assert run_due()["draws"] == 0

    with draw_app.app_context(), tenant_scope(draw_app.tid):
        fair = db.session.scalar(select(FairDraw))
        entries = {e.email: e for e in db.session.scalars(select(DrawEntry))}
        starts = Tally(a.starts_at for a in db.session.scalars(
            select(Appointment).where(Appointment.starts_at >= at(target, 0))))
        waiting = {w.email for w in db.session.scalars(select(WaitlistEntry))}
        assert fair.status == "drawn" and len(fair.seed) == 32 and verify(fair)
        assert [row["entry"] for row in fair.ranking] == drawn_order(fair.seed, sorted(e.id for e in entries.values()))
        # In the drawn order: four get 09:00 (asked for), four the nearest free start, two the waiting list.
        assert starts == {at(target, 9): 4, at(target, 9, 20): 4}
        by_place = sorted(entries.values(), key=lambda e: e.position)
        assert [e.result for e in by_place] == ["booked"] * 8 + ["waitlist"] * 2
        assert waiting == {e.email for e in by_place[8:]}
        fair.ranking = list(reversed(fair.ranking))  # a tampered record fails the re-check
        assert not verify(fair)
        db.session.rollback()
        seed, draw_id = fair.seed, fair.id

    # Each entry: the entry mail and exactly one more — its confirmation or "kein Termin gelost".
    per = Tally(m["To"] for m in mails(draw_app) if m["To"] in emails)
    assert set(per.values()) == {2}, per
    lost = [m for m in mails(draw_app) if "Kein Termin gelost" in m["Subject"]]
    assert sorted(m["To"] for m in lost) == sorted(waiting)
    assert "Warteliste" in lost[0].get_body(("plain",)).get_content()
    # After the draw the day is first-come again: it is full.
    assert _request(steinfurt, at(target, 9), "spaet@example.org").status_code == 409

    make_user(draw_app, "staff@steinfurt.example", "steinfurt", "staff")
    login(steinfurt, "staff@steinfurt.example")
    listing = steinfurt.get("/admin/draws").get_data(as_text=True)
    assert f"{target:%d.%m.%Y}" in listing and seed in listing and "entrant" not in listing
    detail = steinfurt.get(f"/admin/draws/{draw_id}").get_data(as_text=True)
    assert "stimmt" in detail and "stimmt nicht" not in detail and seed in detail
    assert detail.count("Warteliste</td>") == 2 and "Person entran" not in detail and "entrant" not in detail


def test_the_citizen_form_enters_the_draw_and_the_pages_say_so(draw_app, fixed_now):
    from app.jobs.due import run_due

    steinfurt = HostClient(draw_app, "steinfurt.localhost")
    target, today = draw_app.target, draw_app.today
    service_page = steinfurt.get("/services/personalausweis").get_data(as_text=True)
    assert "Neu freigegebene Tage werden verlost" in service_page and "um 08:00 Uhr statt" in service_page
    link = f"/book?service=personalausweis&start={at(target, 9).isoformat().replace('+', '%2B')}"
    page = steinfurt.get(link).get_data(as_text=True)
    assert "Dieser Tag wird verlost" in page and "An der Verlosung teilnehmen" in page
    form = {"service": "personalausweis", "start": at(target, 9).isoformat(), "name": "Erika Mustermann",
            "email": "erika@example.org", "persons": "1"}
    r = steinfurt.post(link, data=form)
    assert r.status_code == 303 and "/draw/entry?token=" in r.headers["Location"]
    entry_page = steinfurt.get(r.headers["Location"]).get_data(as_text=True)
    assert "Sie nehmen an der Verlosung teil" in entry_page and "um 08:00 Uhr statt" in entry_page
    twice = steinfurt.post(link, data=form | {"email": "ERIKA+2@example.org"})
    assert twice.status_code == 422 and "schon teil" in twice.get_data(as_text=True)

    fixed_now(at(today, 8))
    with draw_app.app_context():
        assert run_due()["draws"] == 1
    assert "Ihnen wurde ein Termin zugelost" in steinfurt.get(r.headers["Location"]).get_data(as_text=True)
    confirmation = [m for m in mails(draw_app) if m["To"] == "erika@example.org" and "Terminbestätigung" in m["Subject"]]
    assert len(confirmation) == 1


def test_without_the_setting_the_released_day_is_first_come(pg_app, fixed_now):
    steinfurt = HostClient(pg_app, "steinfurt.localhost")
    set_settings(pg_app, "steinfurt", release_time="07:30")
    target = next_weekday(0, after_days=60)
    fixed_now(at(target - timedelta(days=56), 7, 31))
    assert _request(steinfurt, at(target, 9), "erika@example.org").status_code == 201
    assert count_rows(pg_app, "draw_entries") == 0


def test_retention_deletes_the_entries_and_keeps_the_record(draw_app, fixed_now):
    from app.jobs.due import run_due

    client = HostClient(draw_app, "steinfurt.localhost")
    target, today = draw_app.target, draw_app.today
    for i in range(3):
        assert _request(client, at(target, 9), f"kurz{i}@example.org").status_code == 202
    fixed_now(at(today, 8))
    with draw_app.app_context():
        assert run_due()["draws"] == 1
        run_due(now=at(target, 12) + timedelta(days=31))  # retention_days (30) after the drawn day
    assert count_rows(draw_app, "draw_entries") == 0
    with draw_app.app_context(), tenant_scope(draw_app.tid):
        fair = db.session.scalar(select(FairDraw))
        assert len(fair.entry_ids) == 3 and verify(fair)
        assert "kurz" not in str(fair.ranking)


def test_an_admin_sets_the_draw_in_the_settings_form(pg_app):
    from tests.test_backoffice_support import logged_in

    client = HostClient(pg_app, "steinfurt.localhost")
    logged_in(pg_app, client, "admin")
    r = client.post("/admin/settings", data={"fair_draw_services": "personalausweis, reisepass",
                                             "fair_draw_minutes": "20"})
    assert r.status_code == 302
    with pg_app.app_context(), all_tenants():
        own = db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt")).settings
    assert own["fair_draw_services"] == ["personalausweis", "reisepass"] and own["fair_draw_minutes"] == 20
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="personalausweis, reisepass"' in page
    bad = client.post("/admin/settings", data={"fair_draw_services": "Reise Pass!"})
    assert bad.status_code == 422 and "service slugs" in bad.get_data(as_text=True)


def test_a_phone_line_at_its_cap_is_told_so_on_the_phone_field_when_entering(draw_app, fixed_now):
    set_settings(draw_app, "steinfurt", max_active_per_phone=1)
    steinfurt = HostClient(draw_app, "steinfurt.localhost")
    phone = "+49 2551 69-1234"
    free = steinfurt.get(f"{API}/services/reisepass/next")
    assert free.status_code == 200
    booked = steinfurt.post(f"{API}/appointments", json={"service": "reisepass", "start": free.json["start"],
                                                         "name": "Erika Mustermann", "email": "erika@example.org",
                                                         "phone": phone})
    assert booked.status_code == 201
    target = draw_app.target
    link = f"/book?service=personalausweis&start={at(target, 9).isoformat().replace('+', '%2B')}"
    form = {"service": "personalausweis", "start": at(target, 9).isoformat(), "name": "Max Mustermann",
            "email": "max@example.org", "phone": phone, "persons": "1"}
    r = steinfurt.post(link, data=form)
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "Mit dieser Telefonnummer sind schon so viele Termine gebucht" in page
    assert "Mit dieser E-Mail-Adresse sind schon so viele Termine gebucht" not in page
    assert count_rows(draw_app, "draw_entries") == 0
