"""The back-office login in a real browser (Debian's Chromium): after repeated failures the
vendored ALTCHA widget solves its challenge under the back office's strict CSP, the login
goes through, and the pages pass axe-core; the second factor's QR code is shown inline.

Skipped when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (CI), then failed."""
from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from app.accounts import throttle
from app.transaction import commit
from tests.test_backoffice_support import PASSWORD, make_user
from tests.browser import serious_violations

pytestmark = pytest.mark.browser


def _watch(page, base: str) -> list[str]:
    """What the browser refused or failed on (CSP violations, script errors) and every
    request that left our own host (a CDN, a font, a tracker)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: problems.append("elsewhere: " + r.url) if not r.url.startswith(base) else None)
    return problems


def test_after_failures_the_widget_solves_its_challenge_and_the_clerk_gets_in(new_page, server):
    app, port = server
    make_user(app, "widget@steinfurt.example", "steinfurt", "staff")
    with app.app_context():
        for _ in range(throttle.POW_AFTER):
            throttle.record_failure("widget@steinfurt.example", "192.0.2.200")
        commit()
    base = f"http://steinfurt.localhost:{port}"
    page = new_page(375, 740)  # the page's own CSP applies
    problems = _watch(page, base)
    page.goto(base + "/admin/login")
    page.get_by_label("E-Mail").fill("widget@steinfurt.example")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    # Refused without the proof of work; the page now carries the widget.
    page.locator("altcha-widget").wait_for()
    assert "bestätigen Sie bitte zuerst" in page.content()
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_label("Ich bin kein Roboter").focus()
    page.keyboard.press("Space")  # by keyboard: the box is drawn over the input
    expect(page.locator("input[name=altcha]")).to_have_value(re.compile(r".{20,}"), timeout=20_000)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/admin/day**")
    assert page.url.startswith(base + "/admin/day")
    assert problems == []


def test_login_widget_and_enrolment_pages_pass_axe(new_page, server):
    app, port = server
    make_user(app, "axe-it@kreis-steinfurt.example", "kreis-steinfurt", "district-it", second_factor=False)
    with app.app_context():
        for _ in range(throttle.POW_AFTER):
            throttle.record_failure("axe-it@kreis-steinfurt.example", "192.0.2.201")
        commit()
    base = f"http://kreis-steinfurt.localhost:{port}"
    page = new_page(1280, 900, bypass_csp=True)  # axe is injected
    page.goto(base + "/admin/login")
    page.get_by_label("E-Mail").fill("axe-it@kreis-steinfurt.example")
    page.get_by_label("Passwort").fill("falsch-falsch-falsch")
    page.get_by_role("button", name="Anmelden").click()
    page.locator("altcha-widget").wait_for()
    problems = {"login-with-widget": serious_violations(page)}
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_label("Ich bin kein Roboter").focus()
    page.keyboard.press("Space")  # by keyboard: the box is drawn over the input
    expect(page.locator("input[name=altcha]")).to_have_value(re.compile(r".{20,}"), timeout=20_000)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_role("heading", name="Zweiten Faktor einrichten").wait_for()
    problems["second-factor-setup"] = serious_violations(page)
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code aus der App").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Einrichten").click()
    page.get_by_role("heading", name="Ihre Wiederherstellungscodes").wait_for()
    problems["recovery-codes"] = serious_violations(page)
    page.goto(base + "/admin/sessions")
    problems["sessions"] = serious_violations(page)
    assert {k: v for k, v in problems.items() if v} == {}
