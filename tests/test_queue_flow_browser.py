"""The Bürgerbüro's day, end to end (issue 13's "done when"): two gunicorn processes on
one PostgreSQL database; a citizen checks in at the kiosk with the QR code from the
confirmation mail, a walk-in draws a ticket, a clerk calls "next" on process 1, and the
waiting room's screen, served by process 2 in another browser, shows the call within 2 s.
Then axe-core on every queue page (German and English, 375 px and 1280 px).

Screenshots land in docs/screenshots/run/ (copies for the README in docs/screenshots/)."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import ROOT, clock
from app.booking.notifications import queue_mail
from app.extensions import db
from app.queue import kiosk
from app.queue import operations as queue
from app.transaction import commit
from tests.browser import serious_violations, shot, sign_in
from tests.conftest import make_app, mails
from tests.queue_factory import appointment, counter, office, town
from tests.test_backoffice_support import make_user
from tests.workers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
CALL_WITHIN_SECONDS = 2.0


def _wait_until_up(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn on {port} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn on {port} did not come up")


@pytest.fixture
def two_processes(pg_url, tmp_path):
    """The demo data on PostgreSQL, served by two separate gunicorn processes."""
    app = make_app(pg_url, tmp_path)
    env = {**os.environ, "DATABASE_URL": pg_url, "SECRET_KEY": "queue-flow-test-key", "BASE_DOMAIN": "localhost",
           "MAIL_URL": "console", "AMTSTERMIN_INSTANCE": str(tmp_path / "instance"), "RATELIMIT_ENABLED": "false",
           "PUBLIC_URL_SCHEME": "http"}
    env.pop("REDIS_URL", None)
    ports = [free_port(), free_port()]
    procs = [subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn") if (ROOT / ".venv" / "bin" / "gunicorn").exists()
         else os.path.join(os.path.dirname(sys.executable), "gunicorn"),
         "--workers", "1", "--threads", "8", "--graceful-timeout", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    try:
        for port, proc in zip(ports, procs):
            _wait_until_up(port, proc)
        app.config["SECRET_KEY"] = env["SECRET_KEY"]  # the kiosk link is signed as the servers sign
        yield app, [f"http://steinfurt.localhost:{port}" for port in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _shot(page, name: str) -> None:
    shot(page, name, animations="disabled")


def _qr_payload_of_last_mail(app) -> str:
    import zxingcpp
    from PIL import Image

    msg = mails(app)[-1]
    png = next(p for p in msg.walk() if p.get_content_type() == "image/png").get_content()
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))[0].text


def test_kiosk_qr_check_in_walk_in_and_call_reach_the_screen_of_another_process(two_processes, new_page):
    app, (first, second) = two_processes
    with town(app) as t:
        now = clock.now()
        # Due in two minutes: within the check-in window, and due by the tolerance.
        appt = appointment(now.replace(second=0, microsecond=0) + timedelta(minutes=2), name="Erika Mustermann")
        queue_mail("confirmation", appt)
        token = kiosk.kiosk_token(queue.setup_of(office()))
        desk = counter("schalter-2").id
        commit()
        code = appt.code
    make_user(app, "clerk@steinfurt.example", "steinfurt", "staff")
    payload = _qr_payload_of_last_mail(app)
    assert payload == code

    # The kiosk at the entrance (process 2): the scanner types the QR code's payload.
    kiosk_page = new_page(1024, 768)
    kiosk_page.goto(f"{second}/kiosk/{token}")
    kiosk_page.get_by_label("Buchungscode").fill(payload)
    _shot(kiosk_page, "queue-1-kiosk")
    kiosk_page.get_by_role("button", name="Einchecken").click()
    appointment_ticket = kiosk_page.locator(".ticket-number").inner_text()
    assert re.fullmatch(r"T-\d{3}", appointment_ticket)
    _shot(kiosk_page, "queue-2-ticket")
    # A walk-in draws a ticket at the same kiosk.
    kiosk_page.get_by_role("link", name="Fertig").click()
    kiosk_page.get_by_role("button", name="Wohnsitz anmelden").click()
    walk_in_ticket = kiosk_page.locator(".ticket-number").inner_text()
    assert re.fullmatch(r"A-\d{3}", walk_in_ticket)

    # The waiting room's screen, on process 2, in a browser of its own.
    screen = new_page(1280, 720)
    screen.goto(f"{second}/offices/buergerbuero/screen")
    screen.get_by_text("Noch kein Aufruf heute.").wait_for()
    assert screen.locator("#waiting").inner_text() == "Wartende: 2"

    # The clerk at Schalter 2, on process 1.
    clerk = new_page(1280, 900)
    sign_in(clerk, first, "clerk@steinfurt.example")
    clerk.goto(f"{first}/admin/queue?counter={desk}")
    time.sleep(0.5)  # the screen's long poll is waiting now
    for expected in (appointment_ticket, walk_in_ticket):  # the due appointment first, then the walk-in
        started = time.monotonic()
        clerk.get_by_role("button", name="Nächste Person aufrufen").click()
        clerk.get_by_text(f"Aufgerufen: {expected}").wait_for()
        screen.locator("#calls tbody tr.latest td", has_text=expected).wait_for(timeout=CALL_WITHIN_SECONDS * 1000)
        elapsed = time.monotonic() - started
        assert elapsed < CALL_WITHIN_SECONDS, f"{expected} reached the screen after {elapsed:.2f} s"
        assert screen.locator("#calls tbody tr.latest td").nth(1).inner_text() == "Schalter 2"
        assert screen.locator("#announce").inner_text() == f"Nummer {expected}, bitte zu Schalter 2."
        if expected == appointment_ticket:  # the clerk sees who it is; the screen never does
            assert "Erika Mustermann" in clerk.content()
            _shot(clerk, "queue-3-workstation")
    _shot(screen, "queue-4-screen")
    assert "Erika" not in screen.content()
    with town(app):
        assert db.session.get(type(appt), appt.id).status == "completed"  # finished by the second call


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_queue_page_passes_axe_on_a_phone_and_a_desktop(two_processes, new_page, lang):
    app, (first, _second) = two_processes
    with town(app) as t:
        token = kiosk.kiosk_token(queue.setup_of(office()))
        entry = queue.draw_ticket(t, office(), queue.office_services(office())[0], clock.now())
        commit()
        queue.call_next(t, counter("schalter-1"), clock.now())
        commit()
        queue.draw_ticket(t, office(), queue.office_services(office())[0], clock.now())
        commit()
        entry_id, desk = entry.id, counter("schalter-1").id
    make_user(app, "admin@steinfurt.example", "steinfurt", "admin")
    pages = {
        "kiosk": f"/kiosk/{token}", "kiosk-ticket": f"/kiosk/{token}/tickets/{entry_id}",
        "screen": "/offices/buergerbuero/screen", "workstation": f"/admin/queue?counter={desk}",
        "workstation-choose": "/admin/queue?counter=0", "front-desk": "/admin/queue/desk",
        "desk-ticket": f"/admin/queue/tickets/{entry_id}", "setup": "/admin/queue/setup",
    }
    problems: dict[str, list[str]] = {}
    for width, height in ((375, 740), (1280, 900)):
        # axe is injected as a script; the pages' own CSP would (rightly) refuse it.
        page = new_page(width, height, bypass_csp=True)
        sign_in(page, first, "admin@steinfurt.example")
        for name, path in pages.items():
            page.goto(f"{first}{path}{'&' if '?' in path else '?'}lang={lang}")
            found = serious_violations(page)
            if found:
                problems[f"{name}@{width}"] = found
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width + 1:
                problems[f"{name}@{width}"] = problems.get(f"{name}@{width}", []) + [f"scrolls sideways: {scroll}px"]
            if lang == "en" and name in ("kiosk", "kiosk-ticket", "screen"):
                assert page.locator("html").get_attribute("lang") == "en", name
        page.context.close()
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    _ = select
