"""English complete (issue 14 point 3): a citizen reading English gets the town's English
documents, fees, directions, notices, contact hours and texts in pages, mails and the API;
German where the town wrote none, marked lang="de"; the browser's language on first visit."""
from __future__ import annotations

import re

from sqlalchemy import select

from app import ROOT

from tests.conftest import mails, next_weekday
from tests.test_citizen_pages import book, book_link_on, page, text

API = "/api/v1"
EN = {"Accept-Language": "en-GB,en;q=0.9"}


def _edit(app, slug: str, change) -> None:
    from app.extensions import db
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants, tenant_scope

    with app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        with tenant_scope(tenant.id):
            change(db, tenant)
        db.session.commit()


def test_first_visit_follows_the_browser_and_shows_the_towns_english(steinfurt):
    resp = steinfurt.get("/", headers=EN)
    body = text(resp)
    assert '<html lang="en">' in page(resp)
    assert "Book an appointment online" in body
    assert "walk to the right past the town hall" in body  # directions
    assert "House rules: please be on time" in body  # notices
    assert "Mon–Fri 8:00–12:30" in body  # contact hours
    assert "An emergency is, for example" in body  # the district's English emergency text
    assert "Kantineneingang" in body  # the entrance's name has no English: German …
    assert "Vom Parkplatz" not in body and "Hausordnung:" not in body
    # The English texts are not marked German.
    assert re.search(r'<p>\s*From the car park', page(resp)) and '<ul class="notices">' in page(resp)
    # A German browser, or a chosen German, stays German.
    assert "Vom Parkplatz" in text(steinfurt.get("/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}))
    assert "Vom Parkplatz" in text(steinfurt.get("/?lang=de", headers=EN))


def test_the_service_page_lists_english_documents_and_fee(steinfurt):
    body = text(steinfurt.get("/services/personalausweis?lang=en"))
    assert "a recent biometric passport photo (35 × 45 mm)" in body
    assert "37.00 € (under 24: 22.80 €)" in body
    assert "biometrisches Passbild" not in body
    german = text(steinfurt.get("/services/personalausweis?lang=de"))
    assert "biometrisches Passbild" in german and "37,00 €" in german


def test_without_english_the_german_text_is_shown_marked_as_german(app, steinfurt):
    from app.offices.models import Entrance, Office

    def drop(db, tenant):
        for e in db.session.scalars(select(Entrance)):
            e.directions_en = ""
        for o in db.session.scalars(select(Office)):
            o.notices_en = []
    _edit(app, "steinfurt", drop)
    html = page(steinfurt.get("/?lang=en"))
    assert re.search(r'<p lang="de">\s*Vom Parkplatz', html)
    assert re.search(r'<ul class="notices" lang="de">', html)


def test_an_english_booking_mail_carries_the_english_documents_directions_and_fee(app, steinfurt):
    steinfurt.get("/?lang=en")
    resp = book(steinfurt, book_link_on(steinfurt, next_weekday(1)))
    assert resp.status_code == 303
    mail = mails(app)[-1]
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for part in (plain, " ".join(html.split())):
        assert "a recent biometric passport photo" in part
        assert "walk to the right past the town hall" in part
        assert "37.00 €" in part
        assert "House rules: please be on time" in part
        assert "biometrisches Passbild" not in part and "Vom Parkplatz" not in part


def test_a_german_booking_mail_stays_german(app, steinfurt):
    resp = book(steinfurt, book_link_on(steinfurt, next_weekday(1)))
    assert resp.status_code == 303
    plain = mails(app)[-1].get_body(("plain",)).get_content()
    assert "biometrisches Passbild" in plain and "Vom Parkplatz" in plain and "37,00 €" in plain
    assert "passport photo" not in plain


def test_the_api_answers_in_the_asked_language(steinfurt):
    by_query = {s["slug"]: s for s in steinfurt.get(f"{API}/services?lang=en").json}
    by_header = {s["slug"]: s for s in steinfurt.get(f"{API}/services", headers=EN).json}
    german = {s["slug"]: s for s in steinfurt.get(f"{API}/services").json}
    for answer in (by_query, by_header):
        assert "a recent biometric passport photo (35 × 45 mm)" in answer["personalausweis"]["documents"]
        assert answer["personalausweis"]["fee"] == "37.00 € (under 24: 22.80 €)"
    assert german["personalausweis"]["fee"].startswith("37,00 €")
    tenant = steinfurt.get(f"{API}/tenant?lang=en").json
    assert tenant["contact"]["hours"].startswith("Mon–Fri")
    assert tenant["offices"][0]["entrances"][0]["directions"].startswith("From the car park")
    assert tenant["offices"][0]["notices"][0].startswith("House rules")


def test_english_documents_are_inherited_from_the_district_unless_the_town_sets_its_own(app):
    from app.catalog.inheritance import override, refresh_inherited
    from app.catalog.models import Service

    def district(db, tenant):
        svc = db.session.scalar(select(Service).where(Service.slug == "reisepass"))
        svc.documents_en = ["your old passport"]
        svc.fee_en = "70 euros"
    _edit(app, "kreis-steinfurt", district)

    def town(db, tenant):
        refresh_inherited(tenant)
        svc = db.session.scalar(select(Service).where(Service.slug == "reisepass"))
        assert svc.documents_for("en") == ["your old passport"] and svc.fee_for("en") == "70 euros"
        override(svc, fee_en="70 € in Steinfurt")
    _edit(app, "steinfurt", town)

    def district_again(db, tenant):
        db.session.scalar(select(Service).where(Service.slug == "reisepass")).fee_en = "seventy euros"
    _edit(app, "kreis-steinfurt", district_again)

    def check(db, tenant):
        refresh_inherited(tenant)
        svc = db.session.scalar(select(Service).where(Service.slug == "reisepass"))
        assert svc.fee_for("en") == "70 € in Steinfurt"  # the town's own stays
        assert svc.documents_for("en") == ["your old passport"]
        assert svc.fee_for("de").startswith("70,00 €") and svc.fee_for("de").lang == "de"
    _edit(app, "steinfurt", check)


def test_a_town_with_its_own_german_text_does_not_show_the_districts_english_of_another(app, steinfurt):
    def own_privacy(db, tenant):
        tenant.texts = {**(tenant.texts or {}), "emergency": "Steinfurt: rufen Sie uns an."}
    _edit(app, "steinfurt", own_privacy)
    body = text(steinfurt.get("/?lang=en"))
    assert "Steinfurt: rufen Sie uns an." in body
    assert "An emergency is, for example" not in body


def test_the_english_fields_round_trip_through_the_tenant_files(app, tmp_path):
    import yaml

    from app import ROOT
    from app.extensions import db
    from app.onboarding.export import export_tenant
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        doc = export_tenant(db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt")))
        district = export_tenant(db.session.scalar(select(Tenant).where(Tenant.slug == "kreis-steinfurt")))
    source = yaml.safe_load((ROOT / "tenants" / "steinfurt" / "tenant.yaml").read_text())
    assert doc["contact"]["hours_en"] == source["contact"]["hours_en"]
    assert doc["offices"][0]["entrances"][0]["directions_en"] == source["offices"][0]["entrances"][0]["directions_en"]
    assert doc["offices"][0]["notices_en"] == source["offices"][0]["notices_en"]
    pa = next(s for s in district["services"] if s["slug"] == "personalausweis")
    assert pa["fee_en"] == "37.00 € (under 24: 22.80 €)" and len(pa["documents_en"]) == 3
    assert "privacy_en" in district["texts"]


def test_every_german_text_has_one_english_translation():
    """A msgid given twice in the catalogue shows English users one of two translations, by
    chance of the file's order ("ohne Termin" was both "walk-in" and "without appointment")."""
    po = (ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    ids = re.findall(r'^msgid "(.+)"$', po, flags=re.M)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert twice == []
