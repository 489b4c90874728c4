"""ALTCHA end to end in a real browser (issue 16 point 3): on a town with `altcha: true` the
booking page carries our own widget; Chromium solves the challenge and the booking stands at
once (not held), with its confirmation mail. And the staff page of refused bookings
(point 6) at 375 px, clean under axe."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.booking.refusals import count_refusal
from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scope import tenant_scope
from app.transaction import commit
from tests.browser import mail_files, serious_violations, sign_in
from tests.conftest import next_weekday
from tests.test_backoffice_support import make_user
from tests.test_citizen_pages import day_url, english_catalogue, set_settings  # noqa: F401  (autouse fixture)

pytestmark = pytest.mark.browser


def test_the_widget_solves_the_challenge_and_the_booking_stands(new_page, site):
    app, base = site
    set_settings(app, "steinfurt", altcha=True)
    before = len(mail_files(app))
    page = new_page(375, 740)
    third_party = []
    page.on("request", lambda r: None if r.url.startswith(base) or r.url.startswith("data:")
            or r.url.startswith("blob:") else third_party.append(r.url))
    page.goto(base + day_url(next_weekday(1)))
    page.locator("#times a[href^='/book?']").first.click()
    page.locator("altcha-widget").wait_for()
    page.get_by_label("Name", exact=True).fill("Erika Mustermann")
    page.get_by_label("E-Mail", exact=True).fill("erika.altcha@example.org")
    page.get_by_label("Ich bin kein Roboter").focus()
    page.keyboard.press("Space")  # by keyboard: the box is drawn over the input
    expect(page.locator("input[name=altcha]")).to_have_value(re.compile(r".{20,}"), timeout=30_000)
    page.get_by_role("button", name="Termin verbindlich buchen").click()
    page.get_by_role("heading", name="Ihr Termin ist gebucht").wait_for()
    assert "bestätigen" not in page.locator("h1").inner_text()
    assert len(mail_files(app)) == before + 1
    assert third_party == []


def test_staff_read_the_refused_bookings_at_375_px_clean_under_axe(new_page, site):
    app, base = site
    make_user(app, "refusals@steinfurt.example", "steinfurt", "staff")
    with app.app_context(), tenant_scope(tenant_id(app, "steinfurt")):
        count_refusal(db.session.get(Tenant, tenant_id(app, "steinfurt")), "cap_email")
        commit()
    page = new_page(375, 740, bypass_csp=True)  # axe is injected
    sign_in(page, base, "refusals@steinfurt.example")
    page.get_by_role("link", name="Abgewiesene Buchungen").click()
    page.get_by_role("heading", name="Abgewiesene Online-Buchungen").wait_for()
    assert "abgewiesen" in page.locator("table caption").first.inner_text()
    # The table fits a phone (the back-office frame around it is h3's new layout's concern).
    assert page.evaluate("Math.max(...[...document.querySelectorAll('table')].map(t => t.scrollWidth))") <= 360
    assert serious_violations(page) == []


def tenant_id(app, slug: str) -> int:
    from sqlalchemy import select

    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        return db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))
