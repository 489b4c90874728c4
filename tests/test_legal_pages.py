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


def test_the_back_office_tracks_feedback_shows_overdue_and_answers_by_mail(app):
    from datetime import timedelta

    from tests.test_backoffice_support import logged_in

    client = HostClient(app, "steinfurt.localhost")
    client.post("/barrierefreiheit", data={"message": "Kontrast der Hinweise zu schwach.", "email": "ole@example.org"})
    admin = logged_in(app, HostClient(app, "steinfurt.localhost"), "admin")
    page = text(admin.get("/admin/feedback"))
    assert "Kontrast der Hinweise zu schwach." in page and "eingegangen" in page and "überfällig</strong>" not in page
    from app.legal.models import AccessibilityFeedback
    from tests.test_backoffice_support import in_tenant

    with in_tenant(app, "steinfurt"):  # a month and more later (the back-office session would not last that long)
        item = db.session.scalar(select(AccessibilityFeedback))
        item_id = item.id
        item.received_at -= timedelta(days=40)
        item.due_on -= timedelta(days=40)
        commit()
    page = text(admin.get("/admin/feedback"))
    assert "überfällig</strong>" in page and "1 ist überfällig" in page
    resp = admin.post(f"/admin/feedback/{item_id}/answer", data={"answer": "Wir haben den Kontrast erhöht.",
                                                                 "send": "1"})
    assert resp.status_code == 302
    page = text(admin.get("/admin/feedback"))
    assert "beantwortet am" in page and "admin@steinfurt.example" in page and "überfällig</strong>" not in page
    answer = next(m for m in reversed(mails(app)) if m["To"] == "ole@example.org")
    assert "Antwort" in answer["Subject"] and "Kontrast erhöht" in answer.get_body(("plain",)).get_content()
    # Emsdetten's admin sees none of Steinfurt's feedback and cannot answer it.
    other = logged_in(app, HostClient(app, "emsdetten.localhost"), "admin")
    assert "Kontrast der Hinweise" not in text(other.get("/admin/feedback"))
    assert other.post(f"/admin/feedback/{item_id}/answer", data={"answer": "x"}).status_code == 404


def test_the_brand_colour_needs_contrast_and_is_used_with_logo_and_footer(app):
    from tests.test_backoffice_support import logged_in

    admin = logged_in(app, HostClient(app, "steinfurt.localhost"), "admin")
    base = {"name": "Stadt Steinfurt", "address": "Emsdettener Straße 40, 48565 Steinfurt",
            "contact_phone": "02551 1-0", "contact_email": "buergerbuero@steinfurt.example", "contact_hours": "",
            "branding_logo_url": "", "footer": ""}
    pale = admin.post("/admin/contact", data={**base, "branding_color": "#ffcc00"})
    assert pale.status_code == 422 and "Kontrast" in pale.get_data(as_text=True)
    foreign = admin.post("/admin/contact", data={**base, "branding_color": "", "branding_logo_url":
                                                 "https://cdn.example.com/logo.png"})
    assert foreign.status_code == 422 and "anderen Servern" in foreign.get_data(as_text=True)
    ok = admin.post("/admin/contact", data={**base, "branding_color": "#7a1f1f", "footer": "Rathaus Steinfurt",
                                            "branding_logo_url": "/static/favicon.svg"})
    assert ok.status_code == 302
    citizen = HostClient(app, "steinfurt.localhost")
    home = text(citizen.get("/"))
    assert 'href="/brand.css"' in home and 'src="/static/favicon.svg"' in home and "Rathaus Steinfurt" in home
    assert "--brand: #7a1f1f" in citizen.get("/brand.css").get_data(as_text=True)


def test_district_it_cannot_switch_a_draft_on_past_its_checklist(app):
    from tests.test_backoffice_support import logged_in

    runner = app.test_cli_runner()
    assert runner.invoke(args=["tenants", "create", "laer", "--name", "Gemeinde Laer",
                               "--parent", "kreis-steinfurt"]).exit_code == 0
    kreis = logged_in(app, HostClient(app, "kreis-steinfurt.localhost"), "district-it")
    resp = kreis.post("/admin/district/laer/status", data={"status": "live"})
    assert "bleibt Entwurf" in text(kreis.get(resp.headers["Location"]))
    assert HostClient(app, "laer.localhost").get("/api/v1/tenant").json["status"] == "draft"
    # Switching a bookable town off and on again needs no checklist.
    kreis.post("/admin/district/steinfurt/status", data={"status": "disabled"})
    assert HostClient(app, "steinfurt.localhost").get("/").status_code == 503
    kreis.post("/admin/district/steinfurt/status", data={"status": "pilot"})
    assert HostClient(app, "steinfurt.localhost").get("/").status_code == 200


def test_answered_feedback_loses_name_and_email_after_the_retention_period(app):
    from datetime import timedelta

    from app import clock
    from app.jobs.due import run_due
    from app.legal.models import AccessibilityFeedback
    from tests.test_backoffice_support import in_tenant

    client = HostClient(app, "steinfurt.localhost")
    for n in (1, 2):
        client.post("/barrierefreiheit", data={"message": f"Meldung {n}", "name": "Uwe", "email": f"u{n}@example.org"})
    with in_tenant(app, "steinfurt"):
        first, second = db.session.scalars(select(AccessibilityFeedback).order_by(AccessibilityFeedback.id))
        first.status, first.answer, first.answered_at = "answered", "Erledigt.", clock.now() - timedelta(days=31)
        commit()
    with app.app_context():
        run_due()
    with in_tenant(app, "steinfurt"):
        first, second = db.session.scalars(select(AccessibilityFeedback).order_by(AccessibilityFeedback.id))
        assert (first.name, first.email, first.message) == ("", "", "Meldung 1")
        assert second.email == "u2@example.org"  # still to be answered: kept
