"""Fair when the calendar opens (issue 16): with `release_time` the day entering the horizon
opens at that local time, not at midnight, and the pages say so."""
from __future__ import annotations

from datetime import timedelta

from app.tenancy.settings import validate_settings
from tests.conftest import at, next_weekday
from tests.test_citizen_pages import set_settings, text

SLOTS = "/api/v1/services/personalausweis/slots"


def test_the_new_day_opens_at_the_release_time_and_not_before(app, steinfurt, fixed_now):
    target = next_weekday(0, after_days=60)  # a Monday the horizon (56 days) reaches today
    today = target - timedelta(days=56)
    set_settings(app, "steinfurt", release_time="07:30")
    fixed_now(at(today, 7, 29))
    before = steinfurt.get(f"{SLOTS}?from={target}&to={target}")
    assert before.status_code == 200 and before.json["slots"] == []
    early = steinfurt.post("/api/v1/appointments", json={
        "service": "personalausweis", "start": at(target, 9).isoformat(), "name": "Erika Mustermann",
        "email": "erika@example.org"})
    assert early.status_code == 422 and "start" in early.json["errors"]
    page = text(steinfurt.get("/services/personalausweis"))
    assert "Neue Termine jeweils um 07:30 Uhr" in page and target.strftime("%d.%m.%Y") in page

    fixed_now(at(today, 7, 30))
    after = steinfurt.get(f"{SLOTS}?from={target}&to={target}")
    assert after.json["slots"] and after.json["slots"][0]["start"].startswith(target.isoformat())


def test_without_a_release_time_the_day_opens_at_midnight(app, steinfurt, fixed_now):
    target = next_weekday(0, after_days=60)
    fixed_now(at(target - timedelta(days=56), 0, 5))
    assert steinfurt.get(f"{SLOTS}?from={target}&to={target}").json["slots"]
    assert "Neue Termine jeweils" not in text(steinfurt.get("/services/personalausweis"))


def test_the_fairness_settings_are_checked_before_anything_is_written():
    assert validate_settings({"release_time": "07:30", "release_cancelled_after_minutes": 30, "altcha": True}) == {}
    problems = validate_settings({"release_time": "7:30", "release_cancelled_after_minutes": -1, "altcha": "yes"})
    assert set(problems) == {"release_time", "release_cancelled_after_minutes", "altcha"}
    assert validate_settings({"release_time": "24:00"}) and validate_settings({"release_time": ""}) == {}
