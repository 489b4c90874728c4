"""The citizen pages in a real browser (Debian's Chromium through Playwright), on SQLite:
booking with JavaScript, without it, and by keyboard alone, and axe-core on every page
in German and English. Screenshots of each step land in docs/screenshots/run/.

The browser, the server and axe come from tests/browser.py. Skipped when /usr/bin/chromium is
missing, unless REQUIRE_BROWSER=1 (CI), then failed."""
from __future__ import annotations

import re

import pytest

from app import clock
# The shared browser fixtures and helpers, importable from here as before.
from tests.browser import (ARGS, CHROMIUM, SHOTS, WIDTHS, axe_source, chromium, german,  # noqa: F401
                           mail_files, serious_violations, server, shot, site)
from tests.conftest import at, next_weekday
from tests.test_citizen_pages import english_catalogue, set_settings  # noqa: F401  (autouse fixture)

pytestmark = pytest.mark.browser


def book_by_clicking(context, base: str, label: str) -> tuple:
    """Home → service → take the proposal → name and e-mail → booked; returns (page, clicks)."""
    page = context.new_page()
    clicks = 0
    page.goto(base + "/")
    shot(page, f"1-home-{label}")
    page.get_by_role("link", name=re.compile("Personalausweis")).click()
    clicks += 1
    page.get_by_role("heading", name="Nächster freier Termin").wait_for()
    shot(page, f"2-service-{label}")
    page.get_by_role("link", name="Diesen Termin nehmen").click()
    clicks += 1
    page.get_by_label("Name", exact=True).fill("Erika Mustermann")
    page.get_by_label("E-Mail", exact=True).fill(f"erika.{label}@example.org")
    shot(page, f"3-form-{label}")
    page.get_by_role("button", name="Termin verbindlich buchen").click()
    clicks += 1
    page.get_by_role("heading", name="Ihr Termin ist gebucht").wait_for()
    shot(page, f"4-booked-{label}")
    return page, clicks


@pytest.mark.parametrize("width", list(WIDTHS))
def test_booking_with_javascript_takes_at_most_four_clicks(chromium, site, width):
    app, base = site
    before = len(mail_files(app))
    w, h = WIDTHS[width]
    context = chromium.new_context(viewport={"width": w, "height": h}, locale="de-DE")
    page, clicks = book_by_clicking(context, base, f"js-{width}")
    assert clicks <= 4
    assert re.match(rf"{re.escape(base)}/manage/[^/?]+\?booked=1$", page.url)
    code = page.locator(".code strong").inner_text()
    assert len(mail_files(app)) == before + 1
    assert code in mail_files(app)[-1].read_text(errors="replace")
    context.close()


def test_booking_works_without_javascript(chromium, site):
    app, base = site
    before = len(mail_files(app))
    context = chromium.new_context(java_script_enabled=False, viewport={"width": 375, "height": 740})
    page, clicks = book_by_clicking(context, base, "nojs-phone")
    assert clicks <= 4
    assert len(mail_files(app)) == before + 1
    # Form errors come back from the server, inline, with what was typed.
    page.goto(base + "/services/reisepass")
    page.get_by_role("link", name="Diesen Termin nehmen").click()
    page.get_by_label("E-Mail", exact=True).fill("nicht-gueltig")
    page.get_by_role("button", name="Termin verbindlich buchen").click()
    assert page.get_by_role("alert").filter(has_text="Bitte prüfen Sie Ihre Angaben").is_visible()
    assert page.get_by_label("E-Mail", exact=True).input_value() == "nicht-gueltig"
    assert page.get_by_label("E-Mail", exact=True).get_attribute("aria-invalid") == "true"
    shot(page, "5-form-errors-nojs-phone")
    context.close()


def test_booking_by_keyboard_alone(new_page, site):
    app, base = site
    before = len(mail_files(app))
    page = new_page(1280, 900)
    page.goto(base + "/")

    def focused() -> dict:
        return page.evaluate("""() => { const e = document.activeElement;
            const s = getComputedStyle(e);
            return {text: (e.innerText || e.value || '').trim(), id: e.id, tag: e.tagName,
                    outline: s.outlineStyle, shadow: s.boxShadow}; }""")

    def tab_to(predicate, limit: int = 60) -> dict:
        for _ in range(limit):
            page.keyboard.press("Tab")
            info = focused()
            if predicate(info):
                return info
        raise AssertionError("never reached by Tab")

    page.keyboard.press("Tab")
    first = focused()
    assert first["text"] == "Zum Inhalt springen"  # the skip link comes first
    assert first["outline"] != "none"  # and focus is visible
    link = tab_to(lambda f: f["text"].startswith("Personalausweis"))
    assert link["outline"] != "none" or link["shadow"] != "none"
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Nächster freier Termin").wait_for()
    tab_to(lambda f: f["text"] == "Diesen Termin nehmen")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Termin verbindlich buchen").wait_for()
    tab_to(lambda f: f["id"] == "name")
    page.keyboard.type("Karl Tastatur")
    tab_to(lambda f: f["id"] == "email")
    page.keyboard.type("karl@example.org")
    shot(page, "6-keyboard-form-desktop")
    tab_to(lambda f: f["text"] == "Termin verbindlich buchen")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Ihr Termin ist gebucht").wait_for()
    assert len(mail_files(app)) == before + 1


# --- accessibility ------------------------------------------------------------------------


def citizen_pages(app, base: str, context) -> dict[str, str]:
    """Every citizen page, reached as a citizen would, by name."""
    page = context.new_page()
    page.goto(base + "/services/personalausweis?lang=de")
    book_url = page.get_by_role("link", name="Diesen Termin nehmen").get_attribute("href")
    page.goto(base + book_url)
    page.get_by_label("Name", exact=True).fill("Axel Prüfer")
    page.get_by_label("E-Mail", exact=True).fill("axel@example.org")
    page.get_by_role("button", name="Termin verbindlich buchen").click()
    page.get_by_role("heading", name="Ihr Termin ist gebucht").wait_for()
    manage = page.url.split("?")[0].removeprefix(base)
    page.goto(base + "/services/personalausweis")
    day_link = page.locator("td.free a").first.get_attribute("href").split("#")[0]
    page.close()
    day = re.search(r"day=([\d-]+)", day_link).group(1)
    return {
        "home": "/", "service": "/services/personalausweis", "service-day": day_link,
        "book": book_url, "book-errors": None, "confirmation": manage + "?booked=1", "manage": manage,
        "move": f"{manage}/move?day={day}", "cancel": f"{manage}/cancel", "emergency": "/emergency",
        "emergency-sent": "/emergency/sent", "not-found": "/manage/unknown",
        "impressum": "/impressum", "datenschutz": "/datenschutz", "barrierefreiheit": "/barrierefreiheit",
        "barrierefreiheit-sent": "/barrierefreiheit?sent=1", "leichte-sprache": "/leichte-sprache",
        "gebaerdensprache": "/gebaerdensprache",
    }


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_citizen_page_passes_axe(chromium, site, lang, monkeypatch):
    app, base = site
    port = base.rsplit(":", 1)[1]
    # axe is injected as a script; the pages' own CSP would (rightly) refuse it.
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    pages = citizen_pages(app, base, context)
    page = context.new_page()
    problems: dict[str, list[str]] = {}

    def check(name: str, url: str) -> None:
        page.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")
        found = serious_violations(page)
        if found:
            problems[name] = found
        if lang == "en":
            assert page.locator("html").get_attribute("lang") == "en", name

    for name, path in pages.items():
        if path is None:  # the booking form sent with mistakes
            page.goto(base + pages["book"] + f"&lang={lang}")
            page.locator("#email").fill("falsch")
            page.locator("form.booking-form button[type=submit]").click()
            page.locator(".error-summary").wait_for()
            found = serious_violations(page)
            if found:
                problems[name] = found
            continue
        check(name, base + path)
    check("tenant-list", f"http://localhost:{port}/")
    # The calendar is full: Saturday, with a horizon of one day.
    saturday = next_weekday(5)
    monkeypatch.setattr(clock, "now", lambda: at(saturday, 10))
    set_settings(app, "emsdetten", horizon_days=1)
    try:
        check("calendar-full", f"http://emsdetten.localhost:{port}/services/personalausweis")
        assert page.get_by_role("heading", name=re.compile("kein Termin frei|No appointment is free")).is_visible()
        if lang == "de":
            shot(page, "7-calendar-full-desktop")
            page.set_viewport_size({"width": 375, "height": 740})
            shot(page, "7-calendar-full-phone")
    finally:
        set_settings(app, "emsdetten", horizon_days=56)
    context.close()
    assert not problems, "\n".join(f"{name}: {items}" for name, items in problems.items())


def test_pages_fit_a_320_px_screen(new_page, site):
    app, base = site
    page = new_page(320, 640)
    for path in ("/", "/services/personalausweis", "/emergency"):
        page.goto(base + path)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 320px"


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_drafts_soon_page_and_the_feedback_form_with_errors_pass_axe(new_page, server, width):
    """The pages of the go-live work: what a draft's citizens see, and the accessibility
    feedback form sent empty, at desktop and phone width."""
    app, port = server
    runner = app.test_cli_runner()
    if "laer" not in runner.invoke(args=["tenants", "list"]).output:
        assert runner.invoke(args=["tenants", "create", "laer", "--name", "Gemeinde Laer", "--parent",
                                   "kreis-steinfurt", "--phone", "02554 9200-0"]).exit_code == 0
    w, h = WIDTHS[width]
    page = new_page(w, h, bypass_csp=True)  # axe is injected
    problems = {}
    page.goto(f"http://laer.localhost:{port}/")
    page.get_by_role("heading", name="Online-Terminvergabe bald verfügbar").wait_for()
    problems["soon"] = serious_violations(page)
    page.goto(f"http://steinfurt.localhost:{port}/barrierefreiheit")
    page.get_by_role("button", name="Rückmeldung senden").click()
    page.locator(".error-summary").wait_for()
    problems["feedback-errors"] = serious_violations(page)
    assert not any(problems.values()), problems
