"""The shared browser helpers can fail: axe-core through serious_violations() reports a
page's serious problem, and the browser is German unless a test asks otherwise."""
from __future__ import annotations

import pytest

from tests.browser import serious_violations

pytestmark = pytest.mark.browser


def test_serious_violations_reports_what_axe_finds(new_page):
    page = new_page(375, 740)
    page.set_content('<html lang="de"><head><title>Probe</title></head><body><main><h1>Probe</h1>'
                     '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                     '<button></button></main></body></html>')
    found = serious_violations(page)
    assert any(f.startswith("image-alt (critical): ") for f in found), found
    assert any(f.startswith("button-name (critical): ") for f in found), found
    page.set_content('<html lang="de"><head><title>Probe</title></head><body><main><h1>Probe</h1>'
                     '<img alt="Ein Punkt" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                     '<button>Senden</button></main></body></html>')
    assert serious_violations(page) == []


def test_the_browser_is_german_unless_a_test_asks_for_another_locale(chromium):
    assert chromium.new_page().evaluate("navigator.language") == "de-DE"
    assert chromium.new_context(locale="en-GB").new_page().evaluate("navigator.language") == "en-GB"
