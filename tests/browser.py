"""What every browser test shares (no tests of its own): Debian's Chromium through
Playwright, German unless a test asks for another locale; a fresh context per test, closed
after it; the app served from a thread of this process; axe-core; signing in to the back
office; screenshots.

One Chromium serves a whole run of browser tests: the conftest puts the browser modules
last, and the browser is closed before the first test that does not use it (Playwright's
event loop would otherwise be "running" for every later test). The fixtures `chromium`,
`server`, `site` and `new_page` are known to every test module through tests/conftest.py.

Without /usr/bin/chromium a browser test is skipped, unless REQUIRE_BROWSER=1 (CI): then
it fails."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from app import ROOT
from tests.conftest import make_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--host-resolver-rules=MAP *.localhost 127.0.0.1"]
SHOTS = ROOT / "docs" / "screenshots" / "run"  # gitignored: every run's pictures
README_SHOTS = ROOT / "docs" / "screenshots"  # tracked: the README's, rewritten only with UPDATE_SNAPSHOTS=1
WIDTHS = {"desktop": (1280, 900), "phone": (375, 740)}
PHONE, DESK = (375, 740), (1280, 900)


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        message = f"chromium not found at {CHROMIUM} (apt-get install chromium): browser tests skipped"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message.replace("skipped", "required by REQUIRE_BROWSER=1"))
        pytest.skip(message)


def german(browser):
    """A German browser unless a test asks for another locale: the pages follow
    Accept-Language on a first visit, and headless Chromium would send en-US."""
    new_context, new_page = browser.new_context, browser.new_page
    browser.new_context = lambda **kw: new_context(**{"locale": "de-DE", **kw})
    browser.new_page = lambda **kw: new_page(**{"locale": "de-DE", **kw})
    return browser


_running: dict = {}


def shared_browser():
    """The one Chromium of this run of browser tests, launched on first use."""
    if "browser" not in _running:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        try:
            _running["browser"] = german(playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS))
        except BaseException:
            playwright.stop()
            raise
        _running["playwright"] = playwright
    return _running["browser"]


def close_browser() -> None:
    browser, playwright = _running.pop("browser", None), _running.pop("playwright", None)
    if browser is not None:
        browser.close()
    if playwright is not None:
        playwright.stop()


@pytest.fixture
def chromium():
    """The shared Chromium; every context a test opens is closed after it."""
    require_chromium()
    browser = shared_browser()
    yield browser
    for context in list(browser.contexts):
        context.close()


@pytest.fixture
def new_page(chromium):
    """new_page(width, height, **context options): a page in a context of its own, closed
    after the test (bypass_csp=True where a test injects axe-core or a style)."""

    def open_page(width: int = 375, height: int = 740, **options):
        return chromium.new_context(viewport={"width": width, "height": height}, **options).new_page()

    return open_page


@contextmanager
def served(app):
    """The app on 127.0.0.1:<free port>, in a thread of this process; yields the port."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_port
    finally:
        httpd.shutdown()
        thread.join(5)


def dispose(app) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def server(sqlite_url, tmp_path_factory):
    """The demo on SQLite, served in a thread: (app, port). One per test module."""
    app = make_app(sqlite_url, tmp_path_factory.mktemp("browser"))
    try:
        with served(app) as port:
            yield app, port
    finally:
        dispose(app)


@pytest.fixture
def site(server):
    app, port = server
    return app, f"http://steinfurt.localhost:{port}"


# --- accessibility ------------------------------------------------------------------------
_AXE_JS: list[str] = []


def axe_source() -> str:
    if not _AXE_JS:
        import axe_playwright_python

        _AXE_JS.append((Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text())
    return _AXE_JS[0]


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now. Only violations
    are worked out in full (resultTypes): axe still runs every rule, but skips building
    selectors for every passing node, and only what is reported crosses to Python."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    return page.evaluate("""async () => {
        const result = await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
            resultTypes: ['violations']});
        return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.help} – ${JSON.stringify(v.nodes.slice(0, 3).map(n => n.target))}`);
    }""")


# --- helpers ------------------------------------------------------------------------------
def sign_in(page, base: str, email: str, password: str | None = None, app=None) -> None:
    """The back-office login form, filled and sent; the TOTP code too where it is asked
    for (with `app`, the user's last used code is forgotten first, so a test may sign in
    several times a minute)."""
    from tests.test_backoffice_support import PASSWORD, forget_used_code, totp_code

    if app is not None:
        forget_used_code(app, email)
    page.goto(base + "/admin/login")
    page.get_by_label("E-Mail").fill(email)
    page.get_by_label("Passwort").fill(password or PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()
    if "/admin/login/code" in page.url:
        page.get_by_label("Code").fill(totp_code())
        page.get_by_role("button", name="Bestätigen").click()
        page.wait_for_load_state()
    assert "/admin/login" not in page.url, (page.url, page.locator("main").inner_text()[:300])


def shot(page, name: str, folder: Path = SHOTS, **options) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True, **options)


def readme_shots() -> Path:
    """Where a test writes the README's pictures: the tracked folder with UPDATE_SNAPSHOTS=1,
    else the gitignored run folder, so a test run leaves the checkout clean."""
    return README_SHOTS if os.environ.get("UPDATE_SNAPSHOTS") == "1" else SHOTS


def mail_files(app) -> list[Path]:
    folder = Path(app.config["MAIL_DIR"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []
