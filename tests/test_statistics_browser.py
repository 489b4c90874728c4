"""The statistics pages in Chromium: axe-core finds nothing serious on a town's page, the
district's side-by-side page and the printable report, in German and English; the page
reads on a phone. Screenshots of the pilot's first four weeks go to docs/screenshots/run/
(gitignored); UPDATE_SNAPSHOTS=1 writes the README's copies in docs/screenshots/.

The four weeks are seeded through the same incremental path as real use: appointments
written through the ORM (the statistics' flush listener counts them), the daily recording
run each morning with the clock moved. Skipped without /usr/bin/chromium unless
REQUIRE_BROWSER=1, then failed."""
from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import clock
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
from tests.browser import dispose, readme_shots, serious_violations, served, shot, sign_in
from tests.conftest import at, make_app
from tests.test_backoffice_support import make_user

pytestmark = pytest.mark.browser
FIRST = date(2027, 2, 1)  # the pilot's first Monday


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
    real_now = clock.now
    app = make_app(sqlite_url, tmp_path_factory.mktemp("statistics"), WTF_CSRF_ENABLED=True)
    try:
        rng = random.Random(17)
        seed_pilot(app, "steinfurt", 14, rng)
        seed_pilot(app, "emsdetten", 8, rng)
        clock.now = lambda: at(FIRST + timedelta(days=27), 17)
        make_user(app, "admin@steinfurt.example", "steinfurt", "admin")
        make_user(app, "it@kreis-steinfurt.example", "kreis-steinfurt", "district-it")
        with served(app) as port:
            yield app, port
    finally:
        clock.now = real_now
        dispose(app)


def login(new_page, width: int, height: int, base: str, email: str):
    page = new_page(width, height, bypass_csp=True)  # axe is injected
    sign_in(page, base, email)  # district IT with its second factor
    return page


PERIOD = "from=2027-02-01&to=2027-02-28"


def test_statistics_pages_pass_axe_in_german_and_english_and_read_on_a_phone(new_page, server):
    app, port = server
    town, district = f"http://steinfurt.localhost:{port}", f"http://kreis-steinfurt.localhost:{port}"
    problems: dict[str, list[str]] = {}

    def check(page, name: str, url: str, picture: str | None = None) -> None:
        page.goto(url)
        assert page.get_by_role("heading", level=1).is_visible(), name
        found = serious_violations(page)
        if found:
            problems[name] = found
        if picture:
            shot(page, picture, readme_shots())

    page = login(new_page, 1280, 900, town, "admin@steinfurt.example")
    check(page, "town", f"{town}/admin/statistics?{PERIOD}", "statistics-steinfurt-desktop")
    assert page.locator("svg[role=img]").count() == 7
    assert page.get_by_role("link", name=re.compile(r"Als CSV herunterladen\s*: Buchungen pro Tag nach Weg")).is_visible()
    check(page, "town-en", f"{town}/admin/statistics?{PERIOD}&lang=en")
    assert page.get_by_role("heading", name="Bookings per day by channel").is_visible()
    check(page, "report", f"{town}/admin/statistics/report?{PERIOD}&lang=de", "statistics-report")

    page = login(new_page, 375, 740, town, "admin@steinfurt.example")
    check(page, "town-phone", f"{town}/admin/statistics?{PERIOD}", "statistics-steinfurt-phone")
    # Nothing wider than the phone but the tables, which scroll inside their own region.
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 375, overflow

    page = login(new_page, 1280, 900, district, "it@kreis-steinfurt.example")
    check(page, "district", f"{district}/admin/statistics?{PERIOD}", "statistics-district")
    assert page.get_by_role("rowheader", name="Stadt Steinfurt").first.is_visible()
    assert page.get_by_role("rowheader", name="Stadt Emsdetten").first.is_visible()
    check(page, "district-en", f"{district}/admin/statistics?{PERIOD}&lang=en")
    check(page, "district-report", f"{district}/admin/statistics/report?{PERIOD}&lang=de")
    assert problems == {}
