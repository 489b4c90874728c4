"""How long this machine's Chromium takes to solve the booking page's ALTCHA challenge at
the chosen difficulty (app.proof_of_work.MAX_NUMBER), from the press on "Ich bin kein
Roboter" until the solution is in the form (challenge fetch included). Not a test.

    .venv/bin/python -m bench.altcha_solve [--runs 15]

Runs the app on SQLite in a temporary folder with the demo towns, Steinfurt with
`altcha: true`, and drives /usr/bin/chromium through Playwright; prints each run, the
median and the maximum. Results: docs/benchmarks.md."""
from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import threading
import time
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app import ROOT, create_app
from app.proof_of_work import MAX_NUMBER
from tests.conftest import make_app, next_weekday
from tests.test_citizen_browser import ARGS, CHROMIUM
from tests.test_citizen_pages import day_url, set_settings


def serve(folder: Path):
    url = f"sqlite:///{folder / 'bench.db'}"
    migrating = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "MAIL_DIR": str(folder / "mail")})
    with migrating.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    app = make_app(url, folder)
    set_settings(app, "steinfurt", altcha=True)
    logging.getLogger("app.access").disabled = True  # one line per request would bury the figures
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        httpd = serve(Path(tmp))
        base = f"http://steinfurt.localhost:{httpd.server_port}"
        times = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            # bypass_csp: only so the waiting below may run as page script; the widget and its worker are ours either way.
            page = browser.new_context(viewport={"width": 375, "height": 740}, bypass_csp=True).new_page()
            page.goto(base + day_url(next_weekday(1)))
            link = base + page.locator("#times a[href^='/book?']").first.get_attribute("href")
            for run in range(args.runs):
                page.goto(link)
                page.locator("altcha-widget").wait_for()
                page.get_by_label("Ich bin kein Roboter").focus()
                started = time.perf_counter()
                page.keyboard.press("Space")
                page.wait_for_function("(document.querySelector('input[name=altcha]')?.value || '').length > 20",
                                       polling="raf", timeout=60_000)
                times.append(time.perf_counter() - started)
                print(f"run {run + 1}: {times[-1]:.2f} s", flush=True)
            browser.close()
        httpd.shutdown()
    print(f"maxnumber {MAX_NUMBER}, {len(times)} runs: median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s, min {min(times):.2f} s")


if __name__ == "__main__":
    main()
