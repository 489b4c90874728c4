"""Tenant admin: services with inheritance, mail texts, settings; validation and audit."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.catalog.models import Service
from app.extensions import db
from app.mail.models import MailTemplate
from tests.conftest import HostClient, at, mails, next_weekday
from tests.test_backoffice_support import in_tenant, logged_in, service_id  # noqa: F401



def service_form(client, sid: int, **changes) -> dict:
    """The edit form as the page fills it, with `changes`."""
    import re

    page = client.get(f"/admin/services/{sid}").get_data(as_text=True)
    data = {}
    for name in ("name", "name_en", "fee", "duration_minutes", "persons_max"):
        data[name] = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)
    for name in ("description", "description_en", "documents"):
        data[name] = re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', page).group(1)
    import html

    data = {k: html.unescape(v) for k, v in data.items()}
    data["bookable_online"] = "1" if re.search(r'name="bookable_online"[^>]*checked', page) else ""
    data["active"] = "1" if re.search(r'name="active"[^>]*checked', page) else ""
    data.update(changes)
    return data


def api_service(client, slug: str) -> dict:
    return next(s for s in client.get("/api/v1/services").json if s["slug"] == slug)


def test_a_district_change_reaches_a_town_that_did_not_override_it_not_one_that_did(app, steinfurt, emsdetten):
    kreis = HostClient(app, "kreis-steinfurt.localhost")
    logged_in(app, kreis, "admin")
    sid = service_id(app, "reisepass", "kreis-steinfurt")
    new_docs = "Personalausweis\nbiometrisches Passbild\nNEU: Einwilligung beider Eltern bei Minderjährigen"
    resp = kreis.post(f"/admin/services/{sid}", data=service_form(kreis, sid, documents=new_docs))
    assert resp.status_code == 302
    assert api_service(steinfurt, "reisepass")["documents"][-1].startswith("NEU: Einwilligung")  # follows
    assert not any("NEU" in d for d in api_service(emsdetten, "reisepass")["documents"])  # overrode documents


def test_a_town_overrides_a_field_and_goes_back_to_the_district_value(app, steinfurt):
    logged_in(app, steinfurt, "admin", email="admin@steinfurt.example")
    sid = service_id(app, "personalausweis", "steinfurt")
    assert "vom Kreis übernommen" in steinfurt.get(f"/admin/services/{sid}").get_data(as_text=True)
    resp = steinfurt.post(f"/admin/services/{sid}", data=service_form(steinfurt, sid, fee="40,00 €"))
    assert resp.status_code == 302
    assert api_service(steinfurt, "personalausweis")["fee"] == "40,00 €"
    with in_tenant(app, "steinfurt"):
        svc = db.session.get(Service, sid)
        assert svc.overridden == ["fee"] and svc.admin_edited
    page = steinfurt.get(f"/admin/services/{sid}").get_data(as_text=True)
    assert "eigener Wert (Kreis: 37,00 €" in page and "Gebühr zurücksetzen" in page
    assert steinfurt.post(f"/admin/services/{sid}/reset", data={"field": "fee"}).status_code == 302
    assert api_service(steinfurt, "personalausweis")["fee"].startswith("37,00 €")
    with in_tenant(app, "steinfurt"):
        entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert [e.action for e in entries] == ["service_updated", "service_reset_to_inherited"]
        assert entries[0].before["fee"].startswith("37,00") and entries[0].after["fee"] == "40,00 €"
        assert entries[0].actor == "admin@steinfurt.example"


def test_service_validation_errors_are_clear_and_change_nothing(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    sid = service_id(app, "personalausweis", "steinfurt")
    resp = steinfurt.post(f"/admin/services/{sid}", data=service_form(
        steinfurt, sid, duration_minutes="3", name="", persons_max="zwei"))
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Dauer (Minuten): muss zwischen 5 und 480 liegen" in text
    assert "Name: muss 1 bis 200 Zeichen lang sein" in text and "Personen höchstens: muss eine ganze Zahl sein" in text
    assert api_service(steinfurt, "personalausweis")["duration_minutes"] == 20


def test_disabling_a_service_with_bookings_lists_them_and_asks_first(app, steinfurt):
    day = next_weekday(1)
    booked = steinfurt.post("/api/v1/appointments", json={"service": "umzug", "start": at(day, 9).isoformat(),
                                                          "name": "Uwe Umzug", "email": "uwe@example.org"}).json
    logged_in(app, steinfurt, "admin")
    sid = service_id(app, "umzug", "steinfurt")
    data = service_form(steinfurt, sid, active="")
    ask = steinfurt.post(f"/admin/services/{sid}", data=data)
    assert ask.status_code == 409 and booked["code"] in ask.get_data(as_text=True)
    assert any(s["slug"] == "umzug" for s in steinfurt.get("/api/v1/services").json)  # nothing saved yet
    assert steinfurt.post(f"/admin/services/{sid}", data={**data, "confirm": "1"}).status_code == 302
    assert not any(s["slug"] == "umzug" for s in steinfurt.get("/api/v1/services").json)
    assert steinfurt.get(f"/api/v1/appointments/{booked['manage_token']}").json["status"] == "booked"


def test_another_tenants_service_is_not_found(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    theirs = service_id(app, "reisepass", "emsdetten")
    assert steinfurt.get(f"/admin/services/{theirs}").status_code == 404
    assert steinfurt.post(f"/admin/services/{theirs}/reset", data={"field": "documents"}).status_code == 404


def test_mail_template_preview_save_and_back_to_the_inherited_text(app, emsdetten):
    logged_in(app, emsdetten, "admin")
    page = emsdetten.get("/admin/mail/confirmation/de").get_data(as_text=True)
    assert "eigener Text" in page and "Erika Mustermann" in page  # Emsdetten's own text, previewed
    preview = emsdetten.post("/admin/mail/confirmation/de", data={
        "action": "preview", "subject": "Hallo {{ name }}", "body": "Termin am {{ date }} um {{ time }}."})
    page = preview.get_data(as_text=True)
    # The preview shows Emsdetten's own office and entrance and a future date, not sample data.
    assert preview.status_code == 200 and re.search(r"Termin am \d\d\.\d\d\.\d{4} um \d\d:\d\d\.", page)
    assert "Am Markt 1, 48282 Emsdetten" in page and "Haupteingang Rathaus" in page
    assert "24.11.2026" not in page
    # The whole text part in the mail's order: the text, then the facts down to the manage link.
    assert page.index("Termin am ") < page.index("Ort: Bürgerbüro Emsdetten") < page.index("Termin verwalten:")
    test = emsdetten.post("/admin/mail/confirmation/de", data={
        "action": "test", "subject": "Hallo {{ name }}", "body": "Termin am {{ date }} um {{ time }}."})
    assert test.status_code == 200 and "Testmail an admin@emsdetten.example" in test.get_data(as_text=True)
    sent = next(m for m in reversed(mails(app)) if m["To"] == "admin@emsdetten.example")
    assert sent["Subject"] == "[Test] Hallo Erika Mustermann"
    assert "Am Markt 1, 48282 Emsdetten" in sent.get_body(("plain",)).get_content()
    assert sent.get_body(("html",)) is not None
    with in_tenant(app, "emsdetten"):
        assert db.session.scalar(select(MailTemplate.subject)).startswith("Ihr Termin im Bürgerbüro Emsdetten")
    bad = emsdetten.post("/admin/mail/confirmation/de", data={"action": "save", "subject": "x",
                                                              "body": "{{ config.SECRET_KEY }}"})
    assert bad.status_code == 422 and "das Mailtexte nicht dürfen" in bad.get_data(as_text=True)
    unknown = emsdetten.post("/admin/mail/confirmation/de", data={"action": "save", "subject": "x",
                                                                  "body": "{{ secret }}"})
    assert unknown.status_code == 422 and "unbekannten Platzhalter „secret“" in unknown.get_data(as_text=True)
    bad_syntax = emsdetten.post("/admin/mail/confirmation/de", data={"action": "save", "subject": "x",
                                                                     "body": "Guten Tag,\n\n{% if %}"})
    assert bad_syntax.status_code == 422
    assert "Vorlage hat einen Syntaxfehler in Zeile 3" in bad_syntax.get_data(as_text=True)
    assert emsdetten.post("/admin/mail/confirmation/de/reset").status_code == 302
    page = emsdetten.get("/admin/mail/confirmation/de").get_data(as_text=True)
    assert "Standardtext" in page
    with in_tenant(app, "emsdetten"):
        assert db.session.scalar(select(MailTemplate.id)) is None
        actions = list(db.session.scalars(select(AuditEntry.action)))
        assert actions == ["test_mail_sent", "mail_template_reset"]
    day = next_weekday(1)
    emsdetten.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(day, 9).isoformat(),
                                                 "name": "Ida", "email": "ida@example.org"})
    assert mails(app)[-1]["Subject"].startswith("Terminbestätigung: ")  # the built-in text again


def test_unknown_mail_event_is_404(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    assert steinfurt.get("/admin/mail/nope/de").status_code == 404
    assert steinfurt.get("/admin/mail/confirmation/fr").status_code == 404


def test_settings_keep_only_own_values_validate_and_show_origin(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    page = steinfurt.get("/admin/settings").get_data(as_text=True)
    assert "vom Kreis" in page and "Standard" in page
    bad = steinfurt.post("/admin/settings", data={"slot_minutes": "7", "horizon_days": "abc"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "must divide an hour" in text and "muss eine Zahl sein" in text
    ok = steinfurt.post("/admin/settings", data={"slot_minutes": "10", "horizon_days": "28", "booking_mode": "instant"})
    assert ok.status_code == 302
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        own = db.session.scalar(select(Tenant.settings).where(Tenant.slug == "steinfurt"))
    assert own == {"horizon_days": 28}  # equal-to-inherited values stay inherited
    assert steinfurt.post("/admin/settings", data={"inherit_horizon_days": "1"}).status_code == 302
    with app.app_context(), all_tenants():
        assert db.session.scalar(select(Tenant.settings).where(Tenant.slug == "steinfurt")) == {}
    with in_tenant(app, "steinfurt"):
        assert [e.action for e in db.session.scalars(select(AuditEntry))] == ["settings_updated", "settings_updated"]


def test_privacy_text_override_and_back(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    assert steinfurt.post("/admin/settings/texts", data={"privacy": "Eigener Datenschutzhinweis Steinfurt."}).status_code == 302
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        assert db.session.scalar(select(Tenant.texts).where(Tenant.slug == "steinfurt")) == {
            "privacy": "Eigener Datenschutzhinweis Steinfurt."}
    assert steinfurt.post("/admin/settings/texts", data={"inherit_privacy": "1"}).status_code == 302
    with app.app_context(), all_tenants():
        assert db.session.scalar(select(Tenant.texts).where(Tenant.slug == "steinfurt")) == {}


def test_audit_page_shows_back_office_writes(app, steinfurt):
    logged_in(app, steinfurt, "admin", email="admin@steinfurt.example")
    steinfurt.post("/admin/settings", data={"horizon_days": "30"})
    page = steinfurt.get("/admin/audit").get_data(as_text=True)
    assert "Einstellungen geändert" in page and "admin@steinfurt.example" in page
    assert "Buchungshorizont (Tage): 30" in page
    # A service's change reads as a sentence, not as JSON.
    sid = service_id(app, "reisepass", "steinfurt")
    form = service_form(steinfurt, sid, duration_minutes="25")
    assert steinfurt.post(f"/admin/services/{sid}", data=form).status_code == 302
    page = steinfurt.get("/admin/audit").get_data(as_text=True)
    assert "Dienstleistung geändert" in page and "Dauer von Reisepass beantragen: 20 Minuten → 25 Minuten" in page
    assert "&#34;duration_minutes&#34;" not in page and '"duration_minutes"' not in page


def test_the_district_sees_which_towns_a_catalogue_change_reaches_before_saving(app):
    kreis = HostClient(app, "kreis-steinfurt.localhost")
    logged_in(app, kreis, "admin")
    page = kreis.get(f"/admin/services/{service_id(app, 'reisepass', 'kreis-steinfurt')}").get_data(as_text=True)
    assert "Diese Änderung erreicht 2 Kommune(n)" in page
    # Emsdetten set its own duration and documents for passports: a change of those does not reach it.
    assert "Stadt Emsdetten – außer bei den eigenen Werten: Mitzubringende Unterlagen, Dauer (Minuten)" in page
    assert "<li>Stadt Steinfurt</li>" in page
