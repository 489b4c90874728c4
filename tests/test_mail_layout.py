"""The appointment mails as a citizen gets them, text and HTML, in German and English:
snapshots of the whole mail (renew on purpose with UPDATE_SNAPSHOTS=1 and read the diff),
the order of what they say (what, when, where and how to get there, what to bring, what it
costs, the deadlines, the code and one manage link, then the greeting), and the HTML part
in Chromium at 375 px: it fits the phone, nothing cut off."""
from __future__ import annotations

import os
import re

import pytest

from app.booking.notifications import appointment_facts
from app.mail.defaults import BUILTIN
from app.mail.render import mail_html, mail_plain, render_string
from tests.conftest import make_app
from tests.test_mail_snapshots import COMMON, SAMPLE, SNAPSHOTS

EVENTS = ("confirmation", "moved", "reminder", "cancellation", "office_cancelled", "reconfirm_request",
          "reconfirm_released")
EXTRA = {
    "de": {"move_until": "Sonntag, 06.12.2026, 09:30 Uhr"},
    "en": {"move_until": "Sunday, 6 December 2026, 09:30"},
}
LONG_TOKEN = "Q" * 43  # manage tokens are this long: the link must wrap on a phone, not widen the mail


def context(lang: str, **extra) -> dict:
    ctx = {**COMMON, **SAMPLE[lang], **EXTRA[lang], "_movable": True,
           "manage_url": f"https://steinfurt.example/manage/{LONG_TOKEN}",
           "cancel_url": f"https://steinfurt.example/manage/{LONG_TOKEN}/cancel",
           "reconfirm_url": f"https://steinfurt.example/manage/{LONG_TOKEN}/reconfirm",
           "documents": ["Personalausweis", "ein aktuelles biometrisches Passbild (35 × 45 mm)"]}
    ctx.update(extra)
    return ctx


def render(event: str, lang: str, body: str | None = None, **extra) -> tuple[str, str, str]:
    """(subject, text part, HTML part) of the built-in mail (or of a town's own `body`), pure:
    context in, mail out."""
    ctx = context(lang, **extra)
    template = {**BUILTIN[event][lang], **({"body": body} if body else {})}
    subject, body = render_string(template["subject"], ctx), render_string(template["body"], ctx)
    facts = appointment_facts(ctx, lang, event)
    qr = ctx["code"] if event in ("confirmation", "moved", "reminder") else None
    return subject, mail_plain(body, facts), mail_html(subject, body, facts, lang=lang, qr=qr)


@pytest.fixture(scope="module")
def flask_app(sqlite_url, tmp_path_factory):
    app = make_app(sqlite_url, tmp_path_factory.mktemp("layout"))
    with app.app_context():
        yield app


def check_snapshot(name: str, rendered: str) -> None:
    path = SNAPSHOTS / "full" / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with UPDATE_SNAPSHOTS=1 and review it"
    assert rendered == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("event, lang", [(e, lang) for e in EVENTS for lang in ("de", "en")])
def test_the_whole_mail_matches_its_snapshot(flask_app, event, lang):
    subject, text, html = render(event, lang)
    check_snapshot(f"{event}.{lang}.txt", f"Subject: {subject}\n\n{text}\n")
    check_snapshot(f"{event}.{lang}.html", html)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_confirmation_reads_in_the_order_a_visit_needs_with_each_fact_once(flask_app, lang):
    _, text, html = render("confirmation", lang)
    labels = (["Anliegen", "Wann", "Ort", "Eingang", "Karte", "Bitte mitbringen", "Gebühr", "Hinweise",
               "Verschieben und absagen", "Verspätung", "Buchungscode", "Termin verwalten"] if lang == "de" else
              ["Service", "When", "Where", "Entrance", "Map", "Please bring", "Fee", "Notices",
               "Moving and cancelling", "Running late", "Booking code", "Manage appointment"])
    positions = [text.index(f"\n{label}:") for label in labels]
    assert positions == sorted(positions)
    sign_off = "Mit freundlichen Grüßen\nStadt Steinfurt" if lang == "de" else "Kind regards\nStadt Steinfurt"
    assert text.endswith(sign_off)  # the greeting at the end, not in the middle
    for part in (text, html):
        assert part.count(COMMON["code"]) == (1 if part is text else 3)  # HTML: the fact, the QR's data and alt
        assert part.count(f"/manage/{LONG_TOKEN}") == 1  # one manage link
        assert part.count(COMMON["directions"]) == 1
        assert "bei Bürgerbüro" not in part
    # The HTML keeps the same order; the map is a link only, nothing is loaded from outside.
    html_positions = [html.index(f">{label}<") for label in labels]
    assert html_positions == sorted(html_positions)
    assert html.rindex("Stadt Steinfurt") > html_positions[-1]
    assert "https://www.openstreetmap.org/search?query=Emsdettener+Stra%C3%9Fe+40%2C+48565+Steinfurt" in html
    assert not re.search(r'<img[^>]+src="https?:', html) and "<style" not in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "max-width: 600px" in html


def test_a_reminder_links_straight_to_the_one_button_cancel_page(flask_app):
    _, text, html = render("reminder", "de")
    assert f"Absagen: https://steinfurt.example/manage/{LONG_TOKEN}/cancel" in text
    assert re.search(rf'<a href="https://steinfurt.example/manage/{LONG_TOKEN}/cancel"[^>]*>Termin absagen</a>', html)
    assert "Online verschieben bis Sonntag, 06.12.2026, 09:30 Uhr; absagen bis zum Beginn." in text


def test_past_the_moving_deadline_the_mail_says_so_calmly(flask_app):
    _, text, _ = render("confirmation", "de", _movable=False)
    assert "Verschieben ist online nicht mehr möglich; absagen können Sie bis zum Beginn." in text
    assert "verschieben bis" not in text
    _, text, _ = render("confirmation", "en", _movable=False)
    assert "Moving online is no longer possible; you can cancel until the start." in text


@pytest.mark.browser
def test_the_html_fits_a_phone_375_px_wide(flask_app, chromium):
    page = chromium.new_page(viewport={"width": 375, "height": 740})
    try:
        for event in ("confirmation", "reminder", "cancellation", "reconfirm_request"):
            for lang in ("de", "en"):
                _, _, html = render(event, lang)
                page.set_content(html)
                fits = page.evaluate("""() => {
                    const width = document.documentElement.clientWidth;
                    const cut = [...document.body.querySelectorAll('*')].filter(el => {
                        const box = el.getBoundingClientRect();
                        return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5
                            || el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'hidden');
                    }).map(el => el.tagName + ': ' + el.textContent.trim().slice(0, 40));
                    return {scroll: document.documentElement.scrollWidth, width, cut};
                }""")
                assert fits["scroll"] <= 375, (event, lang, fits)
                assert fits["cut"] == [], (event, lang, fits)
                # Readable type: no smaller than 14 px anywhere.
                smallest = page.evaluate("() => Math.min(...[...document.body.querySelectorAll('p, li, a')]"
                                         ".map(el => parseFloat(getComputedStyle(el).fontSize)))")
                assert smallest >= 14
        # A town's own text with a long link in it wraps too (Emsdetten's old text had one).
        own = "Guten Tag {{ name }},\n\nTermin ändern oder absagen: {{ manage_url }}\n\nIhr Bürgerbüro-Team"
        page.set_content(render("confirmation", "de", body=own)[2])
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    finally:
        page.close()


class English(str):
    """A town's text that says it is English (as a language-aware accessor may hand it)."""
    lang = "en"


def test_a_towns_german_text_in_an_english_mail_is_marked_lang_de(flask_app):
    _, _, html = render("confirmation", "en")
    assert '<ul style="margin: 0; padding-left: 1.2em;" lang="de"><li>Personalausweis</li>' in html
    assert 'lang="de">Zugang B (Kantineneingang). Rechts am Rathaus vorbei.</p>' in html
    _, _, html = render("confirmation", "en", documents=[English("Identity card")], entrance=English("Entrance B"),
                        directions=English("Walk past the town hall on the right."))
    assert '<ul style="margin: 0; padding-left: 1.2em;"><li>Identity card</li>' in html
    assert '<p style="margin: 0;">Entrance B. Walk past the town hall on the right.</p>' in html
    _, _, html = render("confirmation", "de")
    assert ' lang="de"' not in html.split("<body", 1)[1]
