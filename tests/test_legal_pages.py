"""The legal pages every tenant host publishes (CONTRACT §6), from district defaults and
town overrides, in German and English."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants
from app.transaction import commit
from tests.conftest import HostClient, mails

DEMO = {
    "kreis-steinfurt": ("Kreis Steinfurt", "Tecklenburger Straße 10, 48565 Steinfurt", "02551 69-0",
                        "termine@kreis-steinfurt.example"),
    "steinfurt": ("Stadt Steinfurt", "Emsdettener Straße 40, 48565 Steinfurt", "02551 1-0",
                  "buergerbuero@steinfurt.example"),
    "emsdetten": ("Stadt Emsdetten", "Am Markt 1, 48282 Emsdetten", "02572 922-0", "buergerbuero@emsdetten.example"),
}


def text(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    body = resp.get_data(as_text=True)
    return re.sub(r"\s+", " ", body)


@pytest.mark.parametrize("slug", list(DEMO))
def test_every_legal_page_has_its_required_parts(app, slug):
    name, address, phone, email = DEMO[slug]
    client = HostClient(app, f"{slug}.localhost")
    impressum = text(client.get("/impressum"))
    for part in (name, address, phone, email, "Vertreten durch", "Aufsichtsbehörde"):
        assert part in impressum, part
    assert ("Bezirksregierung Münster" if slug == "kreis-steinfurt" else "Kommunalaufsicht") in impressum

    privacy = text(client.get("/datenschutz"))
    for part in (name, address, "Datenschutzbeauftragte", "Artikel 6 Absatz 1 Buchstabe e",
                 "Rechenzentrum", "30 Tage nach Ihrem Termin", "Artikel 15", "Artikel 17", "Artikel 21",
                 "LDI NRW", "Kavalleriestraße 2–4"):
        assert part in privacy, part

    statement = text(client.get("/barrierefreiheit"))
    for part in (name, "teilweise barrierefrei", "Monatskalender", "Alternative", "30.11.2026",
                 "Ombudsstelle für barrierefreie Informationstechnik", "Nordrhein-Westfalen",
                 '<label for="fb-message">', "Rückmeldung senden"):
        assert part in statement, part

    easy = text(client.get("/leichte-sprache"))
    assert name in easy and f"Unsere Telefon·nummer ist: {phone}." in easy

    sign = text(client.get("/gebaerdensprache"))
    assert name in sign and "3:20 Minuten" in sign and "24 MB" in sign and ".mp4" in sign


@pytest.mark.parametrize("slug", list(DEMO))
def test_the_legal_pages_in_english(app, slug):
    client = HostClient(app, f"{slug}.localhost")
    assert "Represented by" in text(client.get("/impressum?lang=en"))
    privacy = text(client.get("/datenschutz?lang=en"))
    assert "Privacy notice" in privacy and "Article 15" in privacy and "data centre" in privacy
    statement = text(client.get("/barrierefreiheit?lang=en"))
    assert "partially accessible" in statement and "Send feedback" in statement
    assert "You need help?" in text(client.get("/leichte-sprache?lang=en"))
    assert "German Sign Language" in text(client.get("/gebaerdensprache?lang=en"))


def test_a_town_overrides_what_it_sets_and_inherits_the_rest(app):
    emsdetten = text(HostClient(app, "emsdetten.localhost").get("/datenschutz"))
    steinfurt = text(HostClient(app, "steinfurt.localhost").get("/datenschutz"))
    assert "datenschutz@emsdetten.example" in emsdetten
    # Steinfurt sets no DPO: the built-in town text, filled with Steinfurt's own data.
    assert "Stadt Steinfurt, Emsdettener Straße 40, 48565 Steinfurt, E-Mail buergerbuero@steinfurt.example" in steinfurt
    assert "datenschutz@kreis-steinfurt.example" not in steinfurt  # the district's own DPO stays its own
    assert "den Bürgermeister der Stadt Emsdetten" in text(HostClient(app, "emsdetten.localhost").get("/impressum"))
    # Retention follows the tenant's setting.
    with app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt"))
        tenant.settings = {**tenant.settings, "retention_days": 14}
        commit()
    assert "14 Tage nach Ihrem Termin" in text(HostClient(app, "steinfurt.localhost").get("/datenschutz"))


@pytest.mark.parametrize("path", ["/", "/services/personalausweis", "/impressum", "/emergency"])
def test_the_footer_of_every_citizen_page_links_the_legal_pages(app, path):
    page = text(HostClient(app, "steinfurt.localhost").get(path))
    for href in ("/impressum", "/datenschutz", "/barrierefreiheit", "/leichte-sprache", "/gebaerdensprache"):
        assert f'href="{href}"' in page, href


def test_accessibility_feedback_reaches_the_back_office_and_the_citizen_gets_a_receipt(app):
    from app.legal.models import AccessibilityFeedback
    from tests.test_backoffice_support import in_tenant

    client = HostClient(app, "steinfurt.localhost")
    bad = client.post("/barrierefreiheit", data={"message": "", "email": "kein"})
    assert bad.status_code == 422
    assert "Bitte beschreiben Sie" in bad.get_data(as_text=True) and "gültige E-Mail" in bad.get_data(as_text=True)
    resp = client.post("/barrierefreiheit", data={"message": "Der Kalender lässt sich mit der Tastatur schwer bedienen.",
                                                  "name": "Rita Rollstuhl", "email": "rita@example.org"})
    assert resp.status_code == 303
    assert "Vielen Dank" in client.get(resp.headers["Location"]).get_data(as_text=True)
    receipt = next(m for m in reversed(mails(app)) if m["To"] == "rita@example.org")
    assert "Barrierefreiheit" in receipt["Subject"] and "Stadt Steinfurt" in receipt["Subject"]
    body = receipt.get_body(("plain",)).get_content()
    assert "Der Kalender lässt sich" in body and "bis spätestens" in body
    with in_tenant(app, "steinfurt"):
        item = db.session.scalar(select(AccessibilityFeedback))
        assert item.status == "received" and item.email == "rita@example.org"
        assert (item.due_on - item.received_at.date()).days in (28, 29, 30, 31)  # one month in NRW
        assert item.due_on.strftime("%d.%m.%Y") in body
    with in_tenant(app, "emsdetten"):
        assert db.session.scalar(select(AccessibilityFeedback)) is None  # nothing reaches another town
