"""ALTCHA end to end in a real browser (issue 16 point 3): on a town with `altcha: true` the
booking page carries our own widget; Chromium solves the challenge and the booking stands at
once (not held), with its confirmation mail."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import next_weekday
from tests.test_citizen_browser import chromium, mail_files, server, site  # noqa: F401  (fixtures)
from tests.test_citizen_pages import day_url, english_catalogue, set_settings  # noqa: F401  (autouse fixture)


def test_the_widget_solves_the_challenge_and_the_booking_stands(chromium, site):  # noqa: F811
    app, base = site
    set_settings(app, "steinfurt", altcha=True)
    before = len(mail_files(app))
    context = chromium.new_context(viewport={"width": 375, "height": 740}, locale="de-DE")
    page = context.new_page()
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
    context.close()
