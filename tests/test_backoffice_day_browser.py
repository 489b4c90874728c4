"""The clerk's day view in a real browser at the desk (1280 px) and on a phone (375 px):
clean under axe-core, German statuses, the buttons reachable by keyboard.

Skipped when /usr/bin/chromium is missing, unless REQUIRE_BROWSER=1 (CI), then failed."""
from __future__ import annotations

import pytest

from app.backoffice import day as day_view
from tests.browser import serious_violations, sign_in
from tests.conftest import HostClient, at, next_weekday
from tests.test_backoffice_support import make_user

pytestmark = pytest.mark.browser


def test_the_day_view_passes_axe_at_the_desk_and_on_a_phone_and_its_list_refreshes(new_page, server,
                                                                                     monkeypatch):
    app, port = server
    monkeypatch.setattr(day_view, "REFRESH_SECONDS", 1)  # the server runs in this process
    day = next_weekday(1)
    api = HostClient(app, "steinfurt.localhost")
    r = api.post("/api/v1/appointments", json={
        "services": [{"slug": "personalausweis", "count": 2}, {"slug": "reisepass", "count": 1}],
        "start": at(day, 9).isoformat(), "name": "Familie Beispiel", "email": "fam@example.org",
        "phone": "02551 123", "note": "Kinderwagen"})
    assert r.status_code == 201, r.json
    make_user(app, "day@steinfurt.example", "steinfurt", "staff")
    base = f"http://steinfurt.localhost:{port}"
    page = new_page(1280, 900, bypass_csp=True)  # axe is injected
    sign_in(page, base, "day@steinfurt.example")
    page.wait_for_url("**/admin/day**")
    problems = {}
    for width, height in ((1280, 900), (375, 740)):
        page.set_viewport_size({"width": width, "height": height})
        for order in ("", "&by=counter"):
            page.goto(f"{base}/admin/day?date={day.isoformat()}{order}")
            page.get_by_text("Familie Beispiel").first.wait_for()
            body = page.inner_text("main")
            assert "gebucht" in body and "booked" not in body and "Kinderwagen" in body and "02551 123" in body
            problems[f"day{order}@{width}"] = serious_violations(page)
    assert {k: v for k, v in problems.items() if v} == {}
    # A booking made elsewhere shows up in the open page without a reload.
    page.evaluate("() => { window.notReloaded = true; }")
    r = api.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(day, 11).isoformat(),
                                                 "name": "Nachzüglerin Nora", "email": "nora@example.org"})
    assert r.status_code == 201, r.json
    page.get_by_text("Nachzüglerin Nora").wait_for(timeout=10_000)
    assert page.evaluate("() => window.notReloaded") is True
