"""Issue 16's "done when", on PostgreSQL with the jobs on Redis: with `release_time: "07:30"`,
`release_cancelled_after_minutes: 30` and `altcha: true` in Steinfurt's tenant.yaml, synced
with `flask tenants sync`, the new day appears at 07:30 and not before, a cancelled slot goes
to the waiting list first and to everyone 30 minutes later, a booking without a solved
challenge is refused and one with it succeeds, and `+tag` addresses do not get round the cap.

The town's file also sets `horizon_days: 2` so that, on a Saturday, the horizon holds no open
day until the Monday is released: only then can `/next` say "nothing free, bookable from …"
(with the demo's 56 days something is always free). The clock is frozen (app.clock.now)."""
from __future__ import annotations

import shutil
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from redis import Redis
from rq import SimpleWorker

from app import ROOT
from app.jobs.queue import QUEUES, queue, redis_connection
from app.proof_of_work import solve
from tests.conftest import REDIS_URL, HostClient, at, close, count_rows, mails, make_app, needs_redis, next_weekday
from tests.test_citizen_pages import text

API = "/api/v1"
SETTINGS = """settings:
  horizon_days: 2
  release_time: "07:30"
  release_cancelled_after_minutes: 30
  altcha: true
"""


@pytest.fixture
def town(pg_url, tmp_path):
    """Steinfurt with the three settings from its tenant.yaml, through `flask tenants sync`."""
    Redis.from_url(REDIS_URL).flushdb()
    app = make_app(pg_url, tmp_path, REDIS_URL=REDIS_URL)
    folder = tmp_path / "tenants"
    shutil.copytree(ROOT / "tenants", folder)
    path = folder / "steinfurt" / "tenant.yaml"
    path.write_text(path.read_text().replace("settings: {}\n", SETTINGS, 1))
    synced = app.test_cli_runner().invoke(args=["tenants", "sync", str(folder)])
    assert synced.exit_code == 0 and "steinfurt" in synced.output, synced.output
    yield app, HostClient(app, "steinfurt.localhost")
    close(app)
    Redis.from_url(REDIS_URL).flushdb()


def deliver(app) -> list:
    """Run the queued jobs as the rq worker does (mail goes out through Redis); the mails so far."""
    with app.app_context():
        SimpleWorker([queue(q) for q in QUEUES], connection=redis_connection()).work(burst=True)
    return mails(app)


def solution(client) -> str:
    """What the widget sends: a fresh challenge from the API, solved (the `altcha` package)."""
    challenge = client.get(f"{API}/altcha")
    assert challenge.status_code == 200 and challenge.headers["Cache-Control"] == "no-store"
    return solve(challenge.json)


def post(client, start, email, altcha: str | None = "solve"):
    body = {"service": "personalausweis", "start": start.isoformat(), "name": "Erika Mustermann", "email": email}
    if altcha:
        body["altcha"] = solution(client) if altcha == "solve" else altcha
    return client.post(f"{API}/appointments", json=body)


def starts(client, day) -> dict[str, int]:
    """What everyone sees online: start → free places."""
    resp = client.get(f"{API}/services/personalausweis/slots?from={day}&to={day}")
    assert resp.status_code == 200
    return {s["start"]: s["free"] for s in resp.json["slots"]}


@needs_redis
def test_the_new_day_appears_at_07_30_and_not_before(town, fixed_now):
    app, client = town
    monday = next_weekday(0, after_days=9)
    saturday = monday - timedelta(days=2)  # with a 2-day horizon, Saturday 07:30 releases the Monday

    fixed_now(at(saturday, 7, 29) + timedelta(seconds=59))
    assert starts(client, monday) == {}
    nothing = client.get(f"{API}/services/personalausweis/next")
    assert nothing.status_code == 404 and nothing.json["bookable_from"] == monday.isoformat()
    page = text(client.get("/services/personalausweis"))
    assert (f"Neue Termine jeweils um 07:30 Uhr – als Nächstes am {saturday:%d.%m.%Y} für den {monday:%d.%m.%Y}"
            in page)
    assert f"Termine am {monday:%d.%m.%Y} können Sie ab dem {saturday:%d.%m.%Y} buchen" in page
    early = post(client, at(monday, 9), "erika@example.org")  # even with a solved challenge
    assert early.status_code == 422 and "start" in early.json["errors"]

    fixed_now(at(saturday, 7, 30))
    free = starts(client, monday)
    assert at(monday, 8).isoformat() in free and at(monday, 9).isoformat() in free
    assert client.get(f"{API}/services/personalausweis/next").json["start"] == at(monday, 8).isoformat()
    page = text(client.get("/services/personalausweis"))
    tuesday = monday + timedelta(days=1)
    assert f"als Nächstes am {(saturday + timedelta(days=1)):%d.%m.%Y} für den {tuesday:%d.%m.%Y}" in page
    assert post(client, at(monday, 9), "erika@example.org").status_code == 201
    assert count_rows(app, "appointments") == 1


@needs_redis
def test_the_challenge_is_needed_once_and_tags_do_not_get_round_the_cap(town, fixed_now):
    app, client = town
    monday = next_weekday(0, after_days=9)
    fixed_now(at(monday - timedelta(days=2), 7, 45))

    unsolved = post(client, at(monday, 9), "Erika@x.de", altcha=None)
    assert unsolved.status_code == 422 and "proof-of-work" in unsolved.json["errors"]["altcha"][0]
    assert count_rows(app, "appointments") == 0
    solved = solution(client)
    made = post(client, at(monday, 9), "Erika@x.de", altcha=solved)
    assert made.status_code == 201 and made.json["status"] == "booked"
    again = post(client, at(monday, 9, 10), "someone@example.org", altcha=solved)
    assert again.status_code == 422 and "already used" in again.json["errors"]["altcha"][0]
    assert count_rows(app, "appointments") == 1

    assert post(client, at(monday, 10), "erika+1@x.de").status_code == 201
    capped = post(client, at(monday, 11), "ERIKA+2@X.DE")
    assert capped.status_code == 409 and capped.json["type"].endswith("active-booking-limit")
    assert capped.json["cap"] == "email" and capped.json["limit"] == 2
    assert "email cap answered" in capped.json["detail"]
    assert count_rows(app, "appointments") == 2
    # The office sees what was refused: the two challenges in one counter, the cap in another.
    assert count_rows(app, "refusal_counts") == 2


@needs_redis
def test_a_cancelled_slot_goes_to_the_waiting_list_first_and_to_everyone_30_minutes_later(town, fixed_now):
    app, client = town
    monday = next_weekday(0, after_days=9)
    opened = fixed_now(at(monday - timedelta(days=2), 7, 30))
    start = at(monday, 10)
    tokens = []
    while start.isoformat() in starts(client, monday):  # three online places (one counter is staff's)
        made = post(client, start, f"fill{len(tokens)}@example.org")
        assert made.status_code == 201, made.json
        tokens.append(made.json["manage_token"])
    assert len(tokens) == 3
    joined = client.post("/waitlist", data={"service": "personalausweis", "name": "Wanda Warteliste",
                                            "email": "wanda@example.org"})
    assert joined.status_code == 303

    cancelled = fixed_now(opened + timedelta(minutes=10))
    for token in tokens[:2]:  # two citizens cancel: two places freed at 10:00
        assert client.delete(f"{API}/appointments/{token}").status_code == 204
    offers = [m for m in deliver(app) if m["To"] == "wanda@example.org" and "frei geworden" in m["Subject"]]
    assert len(offers) == 1
    link = next(w for w in offers[0].get_body(("plain",)).get_content().split() if "/book?" in w)
    query = parse_qs(urlsplit(link).query)
    assert query["start"] == [start.isoformat()] and query["offer"]

    # Everyone else: the start stays hidden and cannot be booked, for 30 minutes.
    assert start.isoformat() not in starts(client, monday)
    assert post(client, start, "schnell@example.org").status_code == 409
    # The waiting list first: the offer link books it at once.
    path = link.split("steinfurt.localhost", 1)[1]
    form = client.get(path)
    assert form.status_code == 200 and "nicht mehr frei" not in text(form)
    booked = client.post(path, data={"name": "Wanda Warteliste", "email": "wanda@example.org",
                                     "offer": query["offer"][0], "altcha": solution(client)})
    assert booked.status_code == 303 and "/manage/" in booked.headers["Location"]
    wanda = client.get(f"{API}/appointments/{booked.headers['Location'].split('/manage/')[1].split('?')[0]}")
    assert (wanda.json["status"], wanda.json["start"]) == ("booked", start.isoformat())

    fixed_now(cancelled + timedelta(minutes=29, seconds=59))
    assert start.isoformat() not in starts(client, monday)
    assert post(client, start, "schnell@example.org").status_code == 409
    fixed_now(cancelled + timedelta(minutes=30))
    assert starts(client, monday).get(start.isoformat()) == 1  # the second freed place, for anyone
    assert post(client, start, "puenktlich@example.org").status_code == 201
    assert start.isoformat() not in starts(client, monday)
