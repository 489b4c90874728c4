"""The statistics pages in Chromium: axe-core finds nothing serious on a town's page, the
district's side-by-side page and the printable report, in German and English; the page
reads on a phone. Screenshots of the pilot's first four weeks go to docs/screenshots/.

The four weeks are seeded through the same incremental path as real use: appointments
written through the ORM (the statistics' flush listener counts them), the daily recording
run each morning with the clock moved. Skipped without /usr/bin/chromium unless
REQUIRE_BROWSER=1, then failed."""
from __future__ import annotations

import random
import re
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import ROOT, clock
from app.booking.codes import new_code, new_manage_token
from app.booking.models import Appointment
from app.catalog.models import Service
from app.extensions import db
from app.offices.models import Counter
from app.statistics.recording import record_day
from app.statistics.tracking import fold_deltas, mark_cancelled_by_office
from app.tenancy.models import Tenant
from app.tenancy.resolve import TenantInfo
from app.tenancy.scope import all_tenants, tenant_scope
from app.transaction import commit
from tests.conftest import at, make_app
from tests.test_backoffice_support import make_user, totp_code
from tests.test_citizen_browser import chromium, serious_violations  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
FIRST = date(2027, 2, 1)  # the pilot's first Monday
SHOTS = ROOT / "docs" / "screenshots"


def seed_pilot(app, slug: str, per_day: int, rng: random.Random) -> None:
    """Four weeks: each working day's bookings for the days ahead, cancellations, moves
    later, no-shows and served appointments on the day, the recording each morning."""
    with app.app_context():
        with all_tenants():
            tenant = TenantInfo.of(db.session.scalar(select(Tenant).where(Tenant.slug == slug)))
        with tenant_scope(tenant.id):
            services = list(db.session.scalars(select(Service).where(Service.office_id.is_not(None),
                                                                     Service.bookable_online.is_(True))))
            counters = {s.office_id: list(db.session.scalars(select(Counter.id).where(Counter.office_id == s.office_id)))
                        for s in services}
            taken: set[tuple[int, object]] = set()
            booked: list[Appointment] = []
            for offset in range(28):
                day = FIRST + timedelta(days=offset)
                clock.now = lambda d=day: at(d, 7)
                record_day(tenant)
                commit()
                if day.weekday() >= 5:
                    continue
                for appt in [a for a in booked if a.starts_at.date() == day and a.status == "booked"]:
                    appt.status = rng.choices(["completed", "no_show"], [0.93, 0.07])[0]
                clock.now = lambda d=day: at(d, 9)
                for _ in range(per_day):
                    svc = rng.choice(services)
                    ahead = rng.choice([1, 1, 2, 3, 5, 8, 13])
                    start_day = day + timedelta(days=ahead)
                    while start_day.weekday() >= 5:
                        start_day += timedelta(days=1)
                    start = at(start_day, 8) + timedelta(minutes=20 * rng.randrange(12))
                    counter = rng.choice(counters[svc.office_id])
                    if (counter, start) in taken:
                        continue
                    taken.add((counter, start))
                    appt = Appointment(code=new_code(), manage_token=new_manage_token(), service_id=svc.id,
                                       office_id=svc.office_id, counter_id=counter, starts_at=start,
                                       ends_at=start + timedelta(minutes=20), name="", email="",
                                       source=rng.choices(["online", "phone", "emergency"], [0.72, 0.24, 0.04])[0])
                    db.session.add(appt)
                    booked.append(appt)
                db.session.flush()
                for appt in rng.sample([a for a in booked if a.status == "booked"], k=2):
                    if rng.random() < 0.3:
                        mark_cancelled_by_office(appt)
                    appt.status, appt.cancelled_at, appt.sequence = "cancelled", clock.now(), appt.sequence + 1
                commit()
            fold_deltas()


@pytest.fixture(scope="module")
def server(sqlite_url, tmp_path_factory):
    from werkzeug.serving import make_server

    real_now = clock.now
    app = make_app(sqlite_url, tmp_path_factory.mktemp("statistics"), WTF_CSRF_ENABLED=True)
    try:
        rng = random.Random(17)
        seed_pilot(app, "steinfurt", 14, rng)
        seed_pilot(app, "emsdetten", 8, rng)
        clock.now = lambda: at(FIRST + timedelta(days=27), 17)
        make_user(app, "admin@steinfurt.example", "steinfurt", "admin")
        make_user(app, "it@kreis-steinfurt.example", "kreis-steinfurt", "district-it")
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield app, httpd.server_port
        httpd.shutdown()
        thread.join(5)
    finally:
        clock.now = real_now
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def login(context, base: str, email: str):
    page = context.new_page()
    page.goto(base + "/admin/login")
    page.get_by_label("E-Mail").fill(email)
    page.get_by_label("Passwort").fill("richtig-geheim-42")
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()
    if page.url.endswith("/admin/login/code"):  # district IT signs in with a second factor
        page.get_by_label("Code").fill(totp_code())
        page.get_by_role("button", name="Bestätigen").click()
        page.wait_for_load_state()
    return page


PERIOD = "from=2027-02-01&to=2027-02-28"


def test_statistics_pages_pass_axe_in_german_and_english_and_read_on_a_phone(chromium, server):
    app, port = server
    town, district = f"http://steinfurt.localhost:{port}", f"http://kreis-steinfurt.localhost:{port}"
    problems: dict[str, list[str]] = {}

    def check(page, name: str, url: str, shot: str | None = None) -> None:
        page.goto(url)
        assert page.get_by_role("heading", level=1).is_visible(), name
        found = serious_violations(page)
        if found:
            problems[name] = found
        if shot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)

    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = login(context, town, "admin@steinfurt.example")
    check(page, "town", f"{town}/admin/statistics?{PERIOD}", "statistics-steinfurt-desktop")
    assert page.locator("svg[role=img]").count() == 7
    assert page.get_by_role("link", name=re.compile(r"Als CSV herunterladen\s*: Buchungen pro Tag nach Weg")).is_visible()
    check(page, "town-en", f"{town}/admin/statistics?{PERIOD}&lang=en")
    assert page.get_by_role("heading", name="Bookings per day by channel").is_visible()
    check(page, "report", f"{town}/admin/statistics/report?{PERIOD}&lang=de", "statistics-report")
    context.close()

    phone = chromium.new_context(bypass_csp=True, viewport={"width": 375, "height": 740}, locale="de-DE")
    page = login(phone, town, "admin@steinfurt.example")
    check(page, "town-phone", f"{town}/admin/statistics?{PERIOD}", "statistics-steinfurt-phone")
    # Nothing wider than the phone but the tables, which scroll inside their own region.
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 375, overflow
    phone.close()

    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = login(context, district, "it@kreis-steinfurt.example")
    check(page, "district", f"{district}/admin/statistics?{PERIOD}", "statistics-district")
    assert page.get_by_role("rowheader", name="Stadt Steinfurt").first.is_visible()
    assert page.get_by_role("rowheader", name="Stadt Emsdetten").first.is_visible()
    check(page, "district-en", f"{district}/admin/statistics?{PERIOD}&lang=en")
    check(page, "district-report", f"{district}/admin/statistics/report?{PERIOD}&lang=de")
    context.close()
    assert problems == {}
