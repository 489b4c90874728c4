"""Drafts, the go-live checklist and publishing (CONTRACT §3, §4)."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants
from app.transaction import commit
from tests.conftest import HostClient
from tests.test_backoffice_support import in_tenant, logged_in

OWN = ["--address", "Kirchstraße 25, 48341 Altenberge", "--phone", "02505 82-0",
       "--email", "buergerbuero@altenberge.example"]


def create(app, *extra):
    return app.test_cli_runner().invoke(args=["tenants", "create", "altenberge", "--name", "Gemeinde Altenberge",
                                              "--parent", "kreis-steinfurt", *extra])


def publish(app, *extra):
    return app.test_cli_runner().invoke(args=["tenants", "publish", "altenberge", *extra])


def change(app, slug: str, **values):
    with app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        for key, value in values.items():
            setattr(tenant, key, value)
        commit()


def status(app, slug: str = "altenberge") -> str:
    with app.app_context(), all_tenants():
        return db.session.scalar(select(Tenant.status).where(Tenant.slug == slug))


def test_a_new_town_is_a_draft_its_citizens_see_soon_and_the_api_answers_503(app):
    result = create(app, *OWN)
    assert result.exit_code == 0, result.output
    assert "draft" in result.output and "http://altenberge.localhost" in result.output
    assert status(app) == "draft"
    client = HostClient(app, "altenberge.localhost")
    home = client.get("/")
    page = home.get_data(as_text=True)
    assert home.status_code == 503 and "bald verfügbar" in page
    assert "02505 82-0" in page and "buergerbuero@altenberge.example" in page
    assert client.get("/services/personalausweis").status_code == 503
    for path in ("/api/v1/services", "/api/v1/services/personalausweis/next", "/api/v1/openapi.json"):
        resp = client.get(path)
        assert resp.status_code == 503 and resp.mimetype == "application/problem+json", path
        assert resp.json["contact"] == {"phone": "02505 82-0", "email": "buergerbuero@altenberge.example"}
    booking = client.post("/api/v1/appointments", json={"service": "personalausweis",
                                                        "start": "2026-12-07T09:30:00+01:00", "name": "A",
                                                        "email": "a@example.org"})
    assert booking.status_code == 503
    tenant = client.get("/api/v1/tenant")
    assert tenant.status_code == 200 and tenant.json["status"] == "draft"
    # The legal pages are there for a draft, too; the back office works.
    assert client.get("/impressum").status_code == 200
    assert client.get("/admin/login").status_code == 200
    # The demo tenants keep the status their files give and stay bookable.
    steinfurt = HostClient(app, "steinfurt.localhost").get("/api/v1/tenant").json
    assert steinfurt["status"] == "pilot"
    listing = app.test_cli_runner().invoke(args=["tenants", "list"]).output
    assert any(line.startswith("altenberge") and line.rstrip().endswith("draft") for line in listing.splitlines())


def test_a_logged_in_admin_previews_the_citizen_pages_of_a_draft(app):
    create(app, *OWN)
    client = HostClient(app, "altenberge.localhost")
    logged_in(app, client, "admin")
    home = client.get("/")
    assert home.status_code == 200 and "Vorschau" in home.get_data(as_text=True)
    assert client.get("/services/personalausweis").status_code == 200
    # Another browser, not logged in, still sees the soon page.
    assert HostClient(app, "altenberge.localhost").get("/").status_code == 503


def test_publish_lists_every_missing_item_on_its_own_line_and_then_passes(app):
    assert create(app).exit_code == 0
    result = publish(app)
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("Anschrift fehlt") for line in lines), lines
    assert "Telefonnummer fehlt" in lines and "E-Mail-Adresse fehlt" in lines
    assert any(line.startswith("Impressum:") for line in lines)
    assert status(app) == "draft"
    change(app, "altenberge", address="Kirchstraße 25, 48341 Altenberge", contact_phone="02505 82-0",
           contact_email="buergerbuero@altenberge.example")
    result = publish(app, "--live")
    assert result.exit_code == 0, result.output
    assert status(app) == "live"
    assert HostClient(app, "altenberge.localhost").get("/api/v1/services/personalausweis/next").status_code == 200
    again = publish(app)  # run once more without --live: a live town is not turned back into a pilot
    assert again.exit_code == 0 and "altenberge is live" in again.output
    assert status(app) == "live"


def test_create_with_publish_but_without_contact_leaves_a_draft_and_says_what_is_missing(app):
    result = create(app, "--publish")
    assert result.exit_code == 1
    assert "Telefonnummer fehlt" in result.stdout.splitlines()
    assert status(app) == "draft"


def _checklist(app):
    from app.publishing.checklist import checklist

    with app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "altenberge"))
        return {item.key: item for item in checklist(tenant)}


def _district_legal(app, **changes):
    with app.app_context(), all_tenants():
        district = db.session.scalar(select(Tenant).where(Tenant.slug == "kreis-steinfurt"))
        legal = dict(district.legal)
        for key, value in changes.items():
            if value is None:
                legal.pop(key, None)
            else:
                legal[key] = value
        district.legal = legal
        commit()


def _no_hours(app):
    from app.offices.models import OpeningHours

    with in_tenant(app, "altenberge"):
        db.session.execute(delete(OpeningHours))
        commit()


def _no_counters(app):
    from app.offices.models import Counter

    with in_tenant(app, "altenberge"):
        for counter in db.session.scalars(select(Counter)):
            counter.active = False
        commit()


BREAKS = {
    "address: template placeholder": ("address", lambda app: change(app, "altenberge", address="Rathaus")),
    "address: no number": ("address", lambda app: change(app, "altenberge", address="Am Rathaus, Altenberge")),
    "address: the district's": ("address", lambda app: change(app, "altenberge",
                                                             address="Tecklenburger Straße 10, 48565 Steinfurt")),
    "phone: empty": ("phone", lambda app: change(app, "altenberge", contact_phone="")),
    "phone: the district's": ("phone", lambda app: change(app, "altenberge", contact_phone="02551 69-0")),
    "email: empty": ("email", lambda app: change(app, "altenberge", contact_email="")),
    "email: the district's": ("email", lambda app: change(app, "altenberge",
                                                         contact_email="termine@kreis-steinfurt.example")),
    "hours: none": ("hours", _no_hours),
    "hours: no counter": ("hours", _no_counters),
    "impressum: no supervisory authority": (
        "legal_impressum", lambda app: change(app, "altenberge", legal={"supervisory_authority": " "})),
    "datenschutz: no complaint authority outside NRW": (
        "legal_datenschutz", lambda app: change(app, "altenberge", state="BY")),
    "barrierefreiheit: no review date": (
        "legal_barrierefreiheit", lambda app: _district_legal(app, a11y_reviewed_on=None)),
    "barrierefreiheit: no status": ("legal_barrierefreiheit", lambda app: _district_legal(app, a11y_status=None)),
    "leichte-sprache: no text": ("legal_leichte-sprache", lambda app: _district_legal(app, easy_language=None)),
    "gebaerdensprache: no video in NRW": (
        "legal_gebaerdensprache", lambda app: _district_legal(app, sign_video_size=None)),
}


@pytest.mark.parametrize("case", list(BREAKS))
def test_each_checklist_item_fails_alone_and_blocks_publishing(app, case):
    assert create(app, *OWN).exit_code == 0
    before = _checklist(app)
    assert all(item.ok for item in before.values() if item.blocking), \
        [p for i in before.values() for p in i.problems if i.blocking]
    key, breaker = BREAKS[case]
    breaker(app)
    after = _checklist(app)
    failing = {k for k, item in after.items() if item.blocking and not item.ok}
    # An empty phone or e-mail leaves the pages that print it incomplete as well; a state
    # without built-in bodies lacks both the complaint authority and the enforcement body.
    also = {"phone: empty": {"legal_impressum", "legal_datenschutz"},
            "email: empty": {"legal_impressum", "legal_datenschutz"},
            "datenschutz: no complaint authority outside NRW": {"legal_barrierefreiheit"}}.get(case, set())
    assert failing == {key} | also, failing
    result = publish(app)
    assert result.exit_code == 1 and status(app) == "draft"
    assert set(after[key].problems) <= set(result.stdout.splitlines())


def test_advice_items_do_not_block_publishing(app):
    from app.catalog.models import Service

    assert create(app, *OWN).exit_code == 0
    with in_tenant(app, "altenberge"):
        svc = db.session.scalar(select(Service).where(Service.slug == "personalausweis"))
        svc.documents = []
        commit()
    items = _checklist(app)
    assert not items["documents"].ok and not items["documents"].blocking
    assert not items["test_mail"].ok and not items["test_mail"].blocking
    assert publish(app).exit_code == 0 and status(app) == "pilot"


def test_a_district_without_sign_language_duty_has_no_such_item(app):
    assert create(app, *OWN).exit_code == 0
    change(app, "altenberge", state="BY", legal={"complaint_authority": "Bayerisches Landesamt für Datenschutzaufsicht",
                                                "enforcement_body": "Durchsetzungsstelle Bayern"})
    items = _checklist(app)
    assert "legal_gebaerdensprache" not in items
    assert all(item.ok for item in items.values() if item.blocking)
    assert HostClient(app, "altenberge.localhost").get("/gebaerdensprache").status_code == 404


def test_tenants_create_prints_the_urls_with_the_running_port(app):
    app.config["PUBLIC_PORT"] = "5000"
    result = create(app, *OWN)
    assert "http://altenberge.localhost:5000/" in result.output
    assert "http://altenberge.localhost:5000/admin/" in result.output


@pytest.mark.parametrize("name, slug", [("Gemeinde Altenberge", "altenberge"), ("Stadt Hörstel", "hoerstel"),
                                        ("Bad Bentheim", "bad-bentheim"), ("Gemeinde Lotte (Westf.)", "lotte-westf")])
def test_the_slug_is_suggested_from_the_name(name, slug):
    from app.publishing.names import suggest_slug

    assert suggest_slug(name) == slug


def test_opening_hours_as_a_clerk_writes_them():
    from app.publishing.hours_text import HoursInvalid, format_hours, parse_hours

    rules = parse_hours("Mo–Fr 08:00–12:00\nDo 14:00 - 17:30 Uhr; Sa 9.00–11.00")
    assert rules == [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "12:00"},
                     {"days": ["thu"], "from": "14:00", "to": "17:30"},
                     {"days": ["sat"], "from": "09:00", "to": "11:00"}]
    assert format_hours(rules) == "Mo–Fr 08:00–12:00\nDo 14:00–17:30\nSa 09:00–11:00"
    for bad in ("Montag 8–12", "Mo 12:00–08:00", "Xy 08:00–12:00", ""):
        with pytest.raises(HoursInvalid):
            parse_hours(bad)


def test_the_onboarding_form_refuses_bad_hours_and_keeps_what_was_typed(app):
    kreis = HostClient(app, "kreis-steinfurt.localhost")
    logged_in(app, kreis, "district-it")
    resp = kreis.post("/admin/district/onboard", data={"name": "Gemeinde Laer", "slug": "", "admin_email":
                                                       "admin@laer.example", "hours": "Montags vormittags"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Öffnungszeiten" in page and "Zeile 1" in page
    assert 'value="laer"' in page and "Montags vormittags" in page
    assert kreis.get("/admin/district/onboard/slug?name=Stadt+Hörstel").json == {"slug": "hoerstel"}
