"""The kiosk at the entrance, the waiting room's screen and GET /api/v1/offices/{slug}/queue."""
from __future__ import annotations

import re

from app import clock
from app.queue import kiosk
from app.queue import operations as queue
from app.transaction import commit
from tests.conftest import at, next_weekday
from tests.queue_factory import appointment, counter, office, service, switch_off, switch_on, town


def _setup(app, fixed_now, quotas=None):
    day = next_weekday(0)
    fixed_now(at(day, 9, 50))
    with town(app) as t:
        switch_on(quotas)
        appt = appointment(at(day, 10), name="Erika Mustermann")
        code = appt.code
        token = kiosk.kiosk_token(queue.setup_of(office()))
        commit()
    return day, code, token


def test_kiosk_checks_in_by_code_and_draws_walk_in_tickets_until_the_quota_is_used(app, steinfurt, fixed_now):
    day, code, token = _setup(app, fixed_now, {"anmeldung": 1})
    page = steinfurt.get(f"/kiosk/{token}")
    assert page.status_code == 200 and "Buchungscode" in page.text and "Anmeldung" in page.text
    r = steinfurt.post(f"/kiosk/{token}/check-in", data={"code": code.lower().replace("-", " ")})
    assert r.status_code == 303
    ticket = steinfurt.get(r.headers["Location"])
    assert "T-001" in ticket.text and "Erika" not in ticket.text
    r = steinfurt.post(f"/kiosk/{token}/ticket", data={"service": "anmeldung"})
    assert r.status_code == 303 and "A-002" in steinfurt.get(r.headers["Location"]).text
    r = steinfurt.post(f"/kiosk/{token}/ticket", data={"service": "anmeldung"})
    assert r.status_code == 422 and "keine Wartenummern mehr" in r.text
    assert "Heute keine Wartenummern mehr." in steinfurt.get(f"/kiosk/{token}").text
    r = steinfurt.post(f"/kiosk/{token}/check-in", data={"code": "ZZZZ-ZZZZ"})
    assert r.status_code == 422 and "keinen Termin" in r.text


def test_kiosk_tells_an_early_citizen_when_check_in_opens(app, steinfurt, fixed_now):
    day, code, token = _setup(app, fixed_now)
    fixed_now(at(day, 9, 10))
    r = steinfurt.post(f"/kiosk/{token}/check-in", data={"code": code}, headers={"Accept-Language": "de"})
    assert r.status_code == 422 and "ab 09:30 Uhr" in r.text
    r = steinfurt.post(f"/kiosk/{token}/check-in?lang=en", data={"code": code})
    assert r.status_code == 422 and "from 09:30" in r.text


def test_a_kiosk_link_is_bound_to_its_town_and_dies_when_revoked(app, steinfurt, emsdetten, fixed_now):
    day, code, token = _setup(app, fixed_now)
    assert emsdetten.get(f"/kiosk/{token}").status_code == 404
    assert steinfurt.get(f"/kiosk/{token[:-2]}xx").status_code == 404
    with town(app):
        kiosk.revoke(queue.setup_of(office()))
        commit()
    assert steinfurt.get(f"/kiosk/{token}").status_code == 404


def test_queue_api_and_screen_show_tickets_and_counters_never_names(app, steinfurt, emsdetten, fixed_now):
    day, code, token = _setup(app, fixed_now)
    with town(app) as t:
        queue.draw_ticket(t, office(), service("anmeldung"), clock.now(), name="Ali Yilmaz")
        queue.draw_ticket(t, office(), service("anmeldung"), clock.now())
        commit()
        queue.call_next(t, counter("schalter-3"), clock.now())
        commit()
    body = steinfurt.get("/api/v1/offices/buergerbuero/queue").json
    assert set(body) == {"office", "open", "waiting", "estimated_wait_minutes", "called", "updated_at"}
    assert body["office"]["slug"] == "buergerbuero" and body["open"] is True and body["waiting"] == 1
    assert body["called"] == [{"ticket": "A-001", "counter": "Schalter 3", "at": at(day, 9, 50).isoformat()}]
    assert isinstance(body["estimated_wait_minutes"], int) and body["estimated_wait_minutes"] >= 1
    screen = steinfurt.get("/offices/buergerbuero/screen")
    assert screen.status_code == 200 and "A-001" in screen.text and "Schalter 3" in screen.text
    assert 'aria-live="assertive"' in screen.text
    for page in (screen.text, steinfurt.get("/api/v1/offices/buergerbuero/queue").text):
        assert "Ali" not in page and "Erika" not in page
    r = steinfurt.get("/api/v1/offices/nirgendwo/queue")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/problem+json")
    assert emsdetten.get("/api/v1/offices/buergerbuero/queue").status_code == 404
    changes = steinfurt.get("/offices/buergerbuero/screen/changes?seen=nothing-yet").json
    assert changes["queue"]["called"][0]["ticket"] == "A-001" and changes["version"]


def test_an_office_without_a_queue_is_404_in_the_api(app, steinfurt):
    assert steinfurt.get("/api/v1/offices/buergerbuero/queue").status_code == 200  # the demo's is on
    with town(app):
        switch_off()
        commit()
    assert steinfurt.get("/api/v1/offices/buergerbuero/queue").status_code == 404
    assert steinfurt.get("/offices/buergerbuero/screen").status_code == 404


_ = re


def test_the_confirmation_mail_and_page_carry_the_booking_code_as_qr_code(app, steinfurt):
    import io

    import zxingcpp
    from PIL import Image

    from tests.conftest import mails

    monday = next_weekday(0)
    booked = steinfurt.post("/api/v1/appointments", json={
        "service": "personalausweis", "start": at(monday, 10).isoformat(), "name": "Erika Mustermann",
        "email": "erika@example.org"}).json
    msg = mails(app)[-1]
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<checkin-qr>"
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    assert 'src="cid:checkin-qr"' in html
    read = zxingcpp.read_barcodes(Image.open(io.BytesIO(images[0].get_content())))
    assert [r.text for r in read] == [booked["code"]]
    page = steinfurt.get(f"/manage/{booked['manage_token']}").text
    assert '<svg role="img" aria-label="QR-Code mit Ihrem Buchungscode' in page
