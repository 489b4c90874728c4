"""A family books a visit in a real browser, with and without JavaScript, and every
page of it passes axe in German and English."""
from __future__ import annotations

import pytest

from tests.browser import mail_files, serious_violations
from tests.test_citizen_pages import english_catalogue  # noqa: F401  (autouse fixture)

pytestmark = pytest.mark.browser


def book_family(context, base: str, email: str):
    page = context.new_page()
    page.goto(base + "/services/personalausweis?lang=de")
    page.get_by_label("Anzahl Personen für „Personalausweis beantragen“").select_option("2")
    page.get_by_label("Weiteres Anliegen für denselben Termin").select_option("reisepass")
    page.get_by_role("button", name="Weiteres Anliegen hinzufügen").click()
    page.get_by_role("heading", name="Nächster freier Termin für Ihren Besuch").wait_for()
    assert "etwa 50 Minuten" in page.locator("main").inner_text()
    page.get_by_role("link", name="Diesen Termin nehmen").click()
    page.get_by_label("Name", exact=True).fill("Familie Mustermann")
    page.get_by_label("E-Mail", exact=True).fill(email)
    page.get_by_role("button", name="Termin verbindlich buchen").click()
    page.get_by_role("heading", name="Ihr Termin ist gebucht").wait_for()
    return page


@pytest.mark.parametrize("js", [True, False], ids=["with-js", "without-js"])
def test_a_family_books_a_visit_in_the_browser(chromium, site, js):
    app, base = site
    before = len(mail_files(app))
    context = chromium.new_context(java_script_enabled=js, viewport={"width": 375, "height": 740})
    page = book_family(context, base, f"familie-{'js' if js else 'nojs'}@example.org")
    body = page.locator("main").inner_text()
    assert "Personalausweis beantragen – 2 Personen" in body and "Reisepass beantragen – 1 Person" in body
    assert "etwa 50 Minuten" in body and body.count("ein aktuelles biometrisches Passbild") == 1
    assert len(mail_files(app)) == before + 1
    context.close()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_visit_pages_pass_axe(chromium, site, lang):
    app, base = site
    context = chromium.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = book_family(context, base, f"axe-{lang}@example.org")
    manage = page.url.split("?")[0]
    visit = base + "/visit?services=personalausweis:2,reisepass"
    page.goto(visit)
    book = base + page.get_by_role("link", name="Diesen Termin nehmen").get_attribute("href")
    problems = {}
    for name, url in {"service": base + "/services/personalausweis", "visit": visit, "book": book,
                      "manage": manage, "cancel": manage + "/cancel", "move": manage + "/move",
                      "impossible": base + "/visit?services=personalausweis:5,reisepass"}.items():
        page.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")
        found = serious_violations(page)
        if found:
            problems[name] = found
    context.close()
    assert not problems, problems
