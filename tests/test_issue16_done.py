"""Issue 16's "done when", for the parts on main: with `release_time: "07:30"` and
`altcha: true` on a town, the new day appears at 07:30 and not before, a booking without a
solved challenge is refused and one with it succeeds, and `+tag` addresses do not get round
the cap (the cooling-off for cancelled slots is tested with the waiting list, issue 16 point 2)."""
from __future__ import annotations

from datetime import timedelta

from app.proof_of_work import solve
from tests.conftest import at, count_rows, next_weekday
from tests.test_citizen_pages import set_settings

API = "/api/v1"


def booking(start, email, altcha=None):
    body = {"service": "personalausweis", "start": start.isoformat(), "name": "Erika Mustermann", "email": email}
    return body | ({"altcha": altcha} if altcha else {})


def test_release_time_proof_of_work_and_the_cap_together(app, steinfurt, fixed_now):
    set_settings(app, "steinfurt", release_time="07:30", altcha=True)
    target = next_weekday(0, after_days=60)  # the day the 56-day horizon reaches on `today`
    today = target - timedelta(days=56)
    slots = f"{API}/services/personalausweis/slots?from={target}&to={target}"

    fixed_now(at(today, 7, 29) + timedelta(seconds=59))
    assert steinfurt.get(slots).json["slots"] == []
    early = steinfurt.post(f"{API}/appointments",
                           json=booking(at(target, 9), "erika@example.org", solve(steinfurt.get(f"{API}/altcha").json)))
    assert early.status_code == 422 and "start" in early.json["errors"]

    fixed_now(at(today, 7, 30))
    free = [s["start"] for s in steinfurt.get(slots).json["slots"]]
    assert free and free[0].startswith(target.isoformat())

    unsolved = steinfurt.post(f"{API}/appointments", json=booking(at(target, 9), "erika@example.org"))
    assert unsolved.status_code == 422 and "altcha" in unsolved.json["errors"]
    assert count_rows(app, "appointments") == 0

    for hour, email in ((9, "erika@example.org"), (10, "Erika+zweiter@example.org")):
        made = steinfurt.post(f"{API}/appointments",
                              json=booking(at(target, hour), email, solve(steinfurt.get(f"{API}/altcha").json)))
        assert made.status_code == 201, made.json
    third = steinfurt.post(f"{API}/appointments", json=booking(at(target, 11), "ERIKA+dritter@example.org",
                                                               solve(steinfurt.get(f"{API}/altcha").json)))
    assert third.status_code == 409 and third.json["cap"] == "email"
    assert count_rows(app, "appointments") == 2
