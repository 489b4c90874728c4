"""District IT onboards a town through the form; its admin takes over from the invitation."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from tests.conftest import HostClient, mails
from tests.test_backoffice_support import PASSWORD, in_tenant, logged_in, login, make_user, service_id  # noqa: F401



@pytest.fixture
def kreis(app):
    return HostClient(app, "kreis-steinfurt.localhost")


def onboard(app, kreis, **overrides):
    logged_in(app, kreis, "district-it")
    data = {"name": "Gemeinde Altenberge", "slug": "altenberge", "admin_email": "admin@altenberge.example",
            **overrides}
    return kreis.post("/admin/district/onboard", data=data)


def invitation_link(app, to: str) -> str:
    mail = next(m for m in reversed(mails(app)) if m["To"] == to)
    text = mail.get_body(("plain",)).get_content()
    return re.search(r"http://[a-z0-9.-]+/admin/invitation/[A-Za-z0-9_-]+", text).group(0)


def test_altenberge_is_onboarded_as_a_draft_filled_in_published_and_booked(app, kreis):
    """The issue's "done when": district IT onboards Gemeinde Altenberge through the form as a
    draft, its admin fills in contact data and the legal pages' own fields, the checklist turns
    green, she publishes, and a citizen sees Altenberge's own contact and legal pages and books."""
    logged_in(app, kreis, "district-it")
    form = kreis.get("/admin/district/onboard").get_data(as_text=True)
    assert "Mo–Fr 08:00–12:00" in form  # the template's hours, to adjust
    resp = kreis.post("/admin/district/onboard", data={
        "name": "Gemeinde Altenberge", "slug": "", "admin_email": "admin@altenberge.example",
        "hours": "Mo–Fr 08:00–12:00\nDo 14:00–18:00"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    overview = kreis.get("/admin/district").get_data(as_text=True)
    assert "Gemeinde Altenberge" in overview and "http://altenberge.localhost/" in overview  # slug from the name
    assert "Entwurf" in overview and "erfüllt" in overview

    citizen = HostClient(app, "altenberge.localhost")
    assert citizen.get("/").status_code == 503 and "bald verfügbar" in citizen.get("/").get_data(as_text=True)
    assert citizen.get("/api/v1/services").status_code == 503

    # The admin sets a password from the invitation, on the new town's host.
    link = invitation_link(app, "admin@altenberge.example")
    assert link.startswith("http://altenberge.localhost/admin/invitation/")
    altenberge = HostClient(app, "altenberge.localhost")
    path = link.split("altenberge.localhost", 1)[1]
    assert "admin@altenberge.example" in altenberge.get(path).get_data(as_text=True)
    assert altenberge.post(path, data={"password": "altenberge-2026!", "repeat": "altenberge-2026!"}).status_code == 302
    assert altenberge.get(path).status_code == 404  # a link works once
    assert login(altenberge, "admin@altenberge.example", "altenberge-2026!").status_code == 302

    # The checklist says what is missing; publishing is refused.
    checklist = altenberge.get("/admin/golive").get_data(as_text=True)
    assert "Anschrift fehlt" in checklist and "Telefonnummer fehlt" in checklist and "✗ offen" in checklist
    refused = altenberge.post("/admin/golive/publish", data={})
    assert "Noch nicht möglich" in altenberge.get(refused.headers["Location"]).get_data(as_text=True)
    # Meanwhile she previews the citizen pages.
    assert "Vorschau" in altenberge.get("/").get_data(as_text=True)

    # Contact data …
    resp = altenberge.post("/admin/contact", data={
        "name": "Gemeinde Altenberge", "address": "Kirchstraße 25, 48341 Altenberge", "contact_phone": "02505 82-0",
        "contact_email": "Buergerbuero@Altenberge.example", "contact_hours": "Mo–Fr 8:00–12:00 Uhr",
        "branding_color": "#0b5d1e", "branding_logo_url": "", "footer": "Gemeinde Altenberge – Ihr Rathaus"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    # … and the legal pages' own fields.
    assert "vom Kreis übernommen" in altenberge.get("/admin/legal").get_data(as_text=True)
    resp = altenberge.post("/admin/legal", data={
        "represented_by": "die Bürgermeisterin Karla Beispiel",
        "dpo": "Datenschutzbeauftragte der Gemeinde Altenberge, Kirchstraße 25, 48341 Altenberge, "
               "E-Mail datenschutz@altenberge.example"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    checklist = altenberge.get("/admin/golive").get_data(as_text=True)
    assert "✗ offen" not in checklist.split("(Empfehlung)")[0], checklist
    assert "Pflichtpunkten erfüllt" in checklist
    resp = altenberge.post("/admin/golive/publish", data={})
    assert "ist veröffentlicht (Pilot)" in altenberge.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Pilot" in kreis.get("/admin/district").get_data(as_text=True)

    # A citizen sees Altenberge's own contact data and legal pages.
    home = HostClient(app, "altenberge.localhost").get("/")
    page = home.get_data(as_text=True)
    assert home.status_code == 200 and "02505 82-0" in page and "buergerbuero@altenberge.example" in page
    assert "Kirchstraße 25, 48341 Altenberge" in page and "Ihr Rathaus" in page
    assert "02551 69-0" not in page  # not the district's phone
    impressum = citizen.get("/impressum").get_data(as_text=True)
    assert "Gemeinde Altenberge" in impressum and "die Bürgermeisterin Karla Beispiel" in impressum
    assert "Kirchstraße 25, 48341 Altenberge" in impressum
    assert "datenschutz@altenberge.example" in citizen.get("/datenschutz").get_data(as_text=True)
    assert "Gemeinde Altenberge" in citizen.get("/barrierefreiheit").get_data(as_text=True)
    assert "02505 82-0" in citizen.get("/leichte-sprache").get_data(as_text=True)
    assert "#0b5d1e" in citizen.get("/brand.css").get_data(as_text=True)

    # … changes a service's documents …
    sid = service_id(app, "personalausweis", "altenberge")
    page = altenberge.get(f"/admin/services/{sid}")
    assert page.status_code == 200, (sid, page.status_code)
    form = page.get_data(as_text=True)
    assert "vom Kreis übernommen" in form
    resp = altenberge.post(f"/admin/services/{sid}", data={
        "name": "Personalausweis beantragen", "name_en": "Apply for an ID card",
        "description": "Neuer Personalausweis.", "description_en": "", "duration_minutes": "20",
        "documents": "alter Personalausweis\nbiometrisches Passbild\nMeldebescheinigung aus Altenberge",
        "fee": "37,00 €", "persons_max": "3", "bookable_online": "1", "active": "1"})
    assert resp.status_code == 302
    # … and the confirmation text.
    resp = altenberge.post("/admin/mail/confirmation/de", data={
        "action": "save", "subject": "Altenberge bestätigt: {{ service }} am {{ date }}",
        "body": "Moin {{ name }},\n\nwir freuen uns auf Sie am {{ date }} um {{ time }} Uhr im Rathaus Altenberge."
                "\n\nCode: {{ code }}\n{{ manage_url }}"})
    assert resp.status_code == 302

    # A citizen books on altenberge.localhost and gets a mail with both changes.
    proposal = altenberge.get("/api/v1/services/personalausweis/next")
    assert proposal.status_code == 200, proposal.json
    booked = altenberge.post("/api/v1/appointments", json={
        "service": "personalausweis", "start": proposal.json["start"], "name": "Clara Citizen",
        "email": "clara@example.org"})
    assert booked.status_code == 201, booked.json
    assert booked.json["documents"][-1] == "Meldebescheinigung aus Altenberge"
    mail = next(m for m in reversed(mails(app)) if m["To"] == "clara@example.org")
    assert mail["Reply-To"] == "buergerbuero@altenberge.example"
    assert mail["Subject"].startswith("Altenberge bestätigt: Personalausweis beantragen am ")
    body = mail.get_body(("plain",)).get_content()
    assert "Moin Clara Citizen" in body and "im Rathaus Altenberge" in body
    assert "Meldebescheinigung aus Altenberge" in body and "biometrisches Passbild" in body
    # Nobody else's catalogue or text changed.
    steinfurt_pa = next(s for s in HostClient(app, "steinfurt.localhost").get("/api/v1/services").json
                        if s["slug"] == "personalausweis")
    assert "Meldebescheinigung aus Altenberge" not in steinfurt_pa["documents"]
    with in_tenant(app, "altenberge"):
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"user_invited", "invitation_accepted", "service_updated", "mail_template_saved", "contact_updated",
                "legal_updated", "tenant_published"} <= actions
    with in_tenant(app, "kreis-steinfurt"):
        assert db.session.scalar(select(AuditEntry.action)) == "tenant_onboarded"


def test_onboarding_form_validation(app, kreis):
    assert onboard(app, kreis).status_code == 302
    again = kreis.post("/admin/district/onboard", data={"name": "Nochmal", "slug": "altenberge",
                                                        "admin_email": "x@example.org"})
    assert again.status_code == 422 and "exists already" in again.get_data(as_text=True)
    bad = kreis.post("/admin/district/onboard", data={"name": "", "slug": "Bad Slug!", "admin_email": "kein"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "lower-case" in text and "must not be empty" in text
    no_mail = kreis.post("/admin/district/onboard", data={"name": "Laer", "slug": "laer", "admin_email": "kein"})
    assert no_mail.status_code == 422 and "gültige E-Mail" in no_mail.get_data(as_text=True)
    from tests.conftest import count_rows

    assert count_rows(app, "tenants") == 4  # the failed attempts left nothing behind


def test_an_expired_invitation_is_refused(app, kreis):
    from datetime import datetime, timedelta, timezone

    from app.accounts.models import Invitation
    from app.transaction import commit

    onboard(app, kreis)
    link = invitation_link(app, "admin@altenberge.example")
    with in_tenant(app, "altenberge"):
        inv = db.session.scalar(select(Invitation))
        inv.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
        commit()
    client = HostClient(app, "altenberge.localhost")
    assert client.get(link.split("altenberge.localhost", 1)[1]).status_code == 404


def test_district_it_disables_and_enables_a_town(app, kreis):
    logged_in(app, kreis, "district-it")
    assert kreis.post("/admin/district/emsdetten/status", data={"status": "disabled"}).status_code == 302
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        assert db.session.scalar(select(Tenant.status).where(Tenant.slug == "emsdetten")) == "disabled"
    assert kreis.post("/admin/district/emsdetten/status", data={"status": "live"}).status_code == 302
    assert kreis.post("/admin/district/kreis-steinfurt/status", data={"status": "disabled"}).status_code == 400
    assert kreis.post("/admin/district/nowhere/status", data={"status": "live"}).status_code == 404
    with in_tenant(app, "kreis-steinfurt"):
        assert db.session.scalar(select(AuditEntry.after).where(AuditEntry.action == "tenant_status")
                                 .order_by(AuditEntry.id.desc()).limit(1)) == {"status": "live"}


def test_admin_invites_a_clerk(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    assert steinfurt.post("/admin/users/invite", data={"email": "neu@steinfurt.example", "role": "staff"}).status_code == 302
    link = invitation_link(app, "neu@steinfurt.example")
    clerk = HostClient(app, "steinfurt.localhost")
    path = link.split("steinfurt.localhost", 1)[1]
    short = clerk.post(path, data={"password": "kurz", "repeat": "kurz"})
    assert short.status_code == 422 and "mindestens 10 Zeichen" in short.get_data(as_text=True)
    assert clerk.post(path, data={"password": PASSWORD, "repeat": PASSWORD}).status_code == 302
    assert login(clerk, "neu@steinfurt.example").status_code == 302
    assert clerk.get("/admin/services").status_code == 403
    assert "neu@steinfurt.example" in steinfurt.get("/admin/users").get_data(as_text=True)


def test_district_it_cannot_be_invited_down_to_a_lesser_role(app, steinfurt):
    from tests.test_backoffice_support import make_user

    make_user(app, "it@kreis-steinfurt.example", "kreis-steinfurt", "district-it")
    logged_in(app, steinfurt, "admin")
    resp = steinfurt.post("/admin/users/invite", data={"email": "it@kreis-steinfurt.example", "role": "staff"})
    assert resp.status_code == 302
    assert "betreut den Kreis" in steinfurt.get("/admin/users").get_data(as_text=True)
    assert login(steinfurt, "it@kreis-steinfurt.example").status_code == 302
    assert steinfurt.get("/admin/settings").status_code == 200  # still district IT here


def test_onboard_town_creates_the_draft_and_invites_its_admin_in_one_operation(app):
    """`onboarding.towns.onboard_town`, which the form and `flask tenants create` call: the
    district template's town, and with an admin address its invitation, signed by the district."""
    from app.accounts.models import User
    from app.onboarding.towns import onboard_town, template_office_hours
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants
    from app.transaction import commit

    uid = make_user(app, "it@kreis-steinfurt.example", "kreis-steinfurt", "district-it")
    with app.app_context():
        with all_tenants():
            kreis_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == "kreis-steinfurt"))
            district = db.session.get(Tenant, kreis_id)
            template = (district.template or {}).get("office") or {}
            assert template_office_hours(kreis_id) == (template.get("hours") or [])
            it = db.session.get(User, uid)
        town = onboard_town("altenberge", "Gemeinde Altenberge", "kreis-steinfurt", admin_email="chef@altenberge.example",
                            invited_by=it)
        plain = onboard_town("laer", "Gemeinde Laer", "kreis-steinfurt")
        assert (town.status, town.parent_id, plain.status) == ("draft", kreis_id, "draft")
        commit()
    invitation = next(m for m in mails(app) if m["To"] == "chef@altenberge.example")
    assert "Kreis Steinfurt" in invitation.get_body(("plain",)).get_content()
    assert not [m for m in mails(app) if "laer" in m["To"]]
    with in_tenant(app, "altenberge"):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user_invited"))
        assert (entry.actor, entry.after["email"]) == ("it@kreis-steinfurt.example", "chef@altenberge.example")
