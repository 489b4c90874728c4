"""Issue 14 points 8 and 9 in a real browser: the page of a service not bookable online
passes axe in both languages; after a failed submit the focus is on the error summary and
the title says "Fehler:"; the favicon is ours."""
from __future__ import annotations

import pytest

from tests.browser import serious_violations
from tests.test_citizen_pages import english_catalogue  # noqa: F401  (autouse fixture)

pytestmark = pytest.mark.browser


def test_the_page_of_a_service_by_phone_passes_axe_and_fits_a_phone(new_page, server):
    app, port = server
    page = new_page(375, 740, bypass_csp=True)  # axe is injected
    problems = {}
    for lang in ("de", "en"):
        page.goto(f"http://emsdetten.localhost:{port}/services/fuehrungszeugnis?lang={lang}")
        assert page.locator("a.phone").first.inner_text() == "02572 922-0"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        found = serious_violations(page)
        if found:
            problems[lang] = found
    page.goto(f"http://emsdetten.localhost:{port}/?lang=de")
    offline = page.locator("a.service-offline")
    assert "nur telefonisch/vor Ort" in offline.first.inner_text()
    offline.first.click()
    page.get_by_role("heading", name="Diesen Termin vereinbaren Sie telefonisch oder vor Ort").wait_for()
    assert not problems, problems


def test_a_failed_submit_moves_the_focus_to_the_error_summary(new_page, site):
    app, base = site
    page = new_page(375, 740)
    page.goto(base + "/services/personalausweis?lang=de")
    page.goto(base + page.get_by_role("link", name="Diesen Termin nehmen").get_attribute("href"))
    page.get_by_label("Name", exact=True).fill("Erika Mustermann")
    page.get_by_label("E-Mail", exact=True).fill("keine-adresse")
    page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    page.get_by_role("button", name="Termin verbindlich buchen").click()
    page.locator(".error-summary").wait_for()
    assert page.title().startswith("Fehler: ")
    page.wait_for_function("document.activeElement && document.activeElement.classList.contains('error-summary')")
    assert page.locator('link[rel="icon"]').get_attribute("href").endswith("favicon.svg")
    icon = page.goto(base + "/favicon.ico")
    assert icon.ok and "svg" in icon.headers["content-type"] and page.url.endswith("/static/favicon.svg")


def test_the_cancelled_page_is_a_calm_confirmation_that_passes_axe(chromium, site):
    from tests.test_citizen_visits_browser import book_family

    app, base = site
    context = chromium.new_context(viewport={"width": 375, "height": 740}, bypass_csp=True)
    page = book_family(context, base, "absage-browser@example.org")
    page.goto(page.url.split("?")[0] + "/cancel")
    page.get_by_role("button", name="Ja, Termin absagen").click()
    page.get_by_role("heading", name="Ihr Termin ist abgesagt").wait_for()
    main = page.locator("main").inner_text()
    assert "Bitte mitbringen" not in main and "Kantine" not in main
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert not serious_violations(page)
    context.close()


def test_the_pages_reflow_at_320_px_with_200_percent_text(new_page, site):
    app, base = site
    page = new_page(320, 640, bypass_csp=True)  # the larger text is injected
    wide = {}
    for lang in ("de", "en"):
        for path in ("/", "/services/personalausweis", "/link"):
            page.goto(f"{base}{path}?lang={lang}")
            page.add_style_tag(content="html { font-size: 200% !important; }")
            over = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if over > 0:
                wide[f"{lang}{path}"] = over
    assert not wide, wide


def test_the_lost_link_page_passes_axe(new_page, site):
    app, base = site
    page = new_page(375, 740, bypass_csp=True)  # axe is injected
    problems = {}
    for lang in ("de", "en"):
        page.goto(f"{base}/link?lang={lang}")
        page.locator("#ll-email").fill("erika@example.org")
        page.locator("#ll-code").fill("ABCD-1234")
        page.locator("form button[type=submit]").click()
        page.locator(".success").wait_for()
        found = serious_violations(page)
        if found:
            problems[lang] = found
    assert not problems, problems
