"""The reply to an emergency request and the back-office invitation are mail texts like
every other: built in (German and English), editable per tenant, inherited district → town."""
from __future__ import annotations

import re

import pytest

from app.booking.models import EmergencyRequest
from app.extensions import db
from app.transaction import commit
from tests.conftest import HostClient, mails
from tests.test_backoffice_booking import make_request
from tests.test_backoffice_support import in_tenant, logged_in


@pytest.fixture
def kreis(app):
    return HostClient(app, "kreis-steinfurt.localhost")


def plain(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def test_the_built_in_emergency_reply_greets_answers_and_signs_in_the_citizens_language(app, steinfurt):
    rid_de = make_request(app, email="hilfe@example.org")
    rid_en = make_request(app, email="help@example.org")
    with in_tenant(app, "steinfurt"):
        db.session.get(EmergencyRequest, rid_en).lang = "en"
        commit()
    logged_in(app, steinfurt, "staff")
    steinfurt.post(f"/admin/emergencies/{rid_de}/reply", data={"answer": "Kommen Sie morgen um 8 Uhr."})
    steinfurt.post(f"/admin/emergencies/{rid_en}/reply", data={"answer": "Come tomorrow at 8."})
    de = next(m for m in mails(app) if m["To"] == "hilfe@example.org")
    en = next(m for m in mails(app) if m["To"] == "help@example.org")
    assert de["Subject"] == "Ihre Notfallanfrage – Stadt Steinfurt"
    assert plain(de).startswith("Guten Tag Hanna Hilfe,\n\nKommen Sie morgen um 8 Uhr.\n\nMit freundlichen Grüßen\n"
                                "Stadt Steinfurt\n")
    assert en["Subject"] == "Your emergency request – Stadt Steinfurt"
    assert plain(en).startswith("Hello Hanna Hilfe,\n\nCome tomorrow at 8.\n\nKind regards\nStadt Steinfurt\n")


def test_a_towns_own_emergency_reply_text_is_used(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    page = steinfurt.get("/admin/mail").get_data(as_text=True)
    assert "Antwort auf eine Notfallanfrage" in page and "Einladung ins Back Office" in page
    resp = steinfurt.post("/admin/mail/emergency_reply/de", data={
        "subject": "Antwort der Stadt Steinfurt", "body": "Hallo {{ name }},\n\n{{ answer }}\n\nIhr Bürgerbüro, {{ phone }}"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    rid = make_request(app)
    steinfurt.post(f"/admin/emergencies/{rid}/reply", data={"answer": "Bitte rufen Sie uns an."})
    [mail] = [m for m in mails(app) if m["To"] == "hilfe@example.org"]
    assert mail["Subject"] == "Antwort der Stadt Steinfurt"
    assert plain(mail).startswith("Hallo Hanna Hilfe,\n\nBitte rufen Sie uns an.\n\nIhr Bürgerbüro, ")


def test_a_broken_placeholder_in_the_reply_text_is_refused(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    resp = steinfurt.post("/admin/mail/emergency_reply/de", data={"subject": "Antwort", "body": "{{ antwort }}"})
    assert resp.status_code == 422 and "antwort" in resp.get_data(as_text=True)


def test_the_districts_own_invitation_text_reaches_a_new_towns_admin(app, kreis):
    logged_in(app, kreis, "district-it")
    resp = kreis.post("/admin/mail/invitation/de", data={
        "subject": "Willkommen bei der Terminvergabe: {{ tenant }}",
        "body": "Hallo,\n\nSie sind jetzt {{ role }} von {{ tenant }}.\nPasswort festlegen: {{ link }}\n"
                "Anmelden: {{ login }}\n\nIhr {{ sender }}"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    resp = kreis.post("/admin/district/onboard", data={"name": "Gemeinde Altenberge", "slug": "altenberge",
                                                        "admin_email": "admin@altenberge.example"})
    assert resp.status_code == 302
    [mail] = [m for m in mails(app) if m["To"] == "admin@altenberge.example"]
    assert mail["Subject"] == "Willkommen bei der Terminvergabe: Gemeinde Altenberge"
    text = plain(mail)
    assert "Sie sind jetzt admin von Gemeinde Altenberge." in text and "Ihr Kreis Steinfurt" in text
    assert re.search(r"Passwort festlegen: http://altenberge\.localhost/admin/invitation/[A-Za-z0-9_-]+\n", text)
    assert "Anmelden: http://altenberge.localhost/admin/login" in text


def test_the_built_in_invitation_names_the_town_role_link_and_sender(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    assert steinfurt.post("/admin/users/invite", data={"email": "neu@steinfurt.example", "role": "staff"}).status_code == 302
    [mail] = [m for m in mails(app) if m["To"] == "neu@steinfurt.example"]
    assert mail["Subject"] == "Ihr Zugang zum Back Office – Stadt Steinfurt"
    text = plain(mail)
    assert "Back Office der Online-Terminvergabe von Stadt Steinfurt eingerichtet (staff)" in text
    assert re.search(r"nur einmal:\nhttp://steinfurt\.localhost/admin/invitation/[A-Za-z0-9_-]+\n", text)
    assert text.rstrip().endswith("Mit freundlichen Grüßen\nStadt Steinfurt")
