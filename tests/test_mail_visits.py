"""A visit's mails list each service with its count, the documents of all of them once,
the fee of each and the expected time; snapshots of the confirmation in both languages.

A changed text fails here until its snapshot is renewed on purpose:
UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_mail_visits.py
"""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.mail.models import OutboxMail
from app.tenancy.scope import all_tenants
from tests.conftest import at

SNAPSHOTS = Path(__file__).parent / "snapshots" / "mail"
VISIT_DAY = date(2026, 12, 14)  # a Monday, two weeks after the frozen "now"


def _visit_mail(app, steinfurt, fixed_now, lang: str, event: str = "confirmation") -> tuple[OutboxMail, dict]:
    fixed_now(at(date(2026, 11, 30), 10))
    r = steinfurt.post("/api/v1/appointments", json={
        "services": [{"slug": "personalausweis", "count": 2}, {"slug": "reisepass", "count": 1}],
        "start": at(VISIT_DAY, 9).isoformat(), "name": "Familie Mustermann", "email": f"familie-{lang}@example.org",
        "lang": lang})
    assert r.status_code == 201, r.json
    with app.app_context(), all_tenants():
        mail = db.session.scalar(select(OutboxMail).where(OutboxMail.event == event,
                                                          OutboxMail.to_addr == f"familie-{lang}@example.org"))
        db.session.expunge(mail)
    return mail, r.json


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_visits_confirmation_matches_its_snapshot(app, steinfurt, fixed_now, lang):
    mail, appt = _visit_mail(app, steinfurt, fixed_now, lang)
    rendered = f"Subject: {mail.subject}\n\n{mail.text_body}\n"
    rendered = rendered.replace(appt["code"], "CODE").replace(appt["manage_token"], "TOKEN")
    path = SNAPSHOTS / f"visit_confirmation.{lang}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with UPDATE_SNAPSHOTS=1 and review it"
    assert rendered == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_visits_mail_lists_both_services_and_each_document_once(app, steinfurt, fixed_now, lang):
    mail, _ = _visit_mail(app, steinfurt, fixed_now, lang)
    two = "2 Personen" if lang == "de" else "2 persons"
    id_card = "Personalausweis beantragen" if lang == "de" else "Apply for an ID card"
    passport = "Reisepass beantragen" if lang == "de" else "Apply for a passport"
    for body in (mail.text_body, mail.html_body):
        assert f"{id_card} – {two}" in body and passport in body
        # The district's English documents and fees in an English mail, each document once.
        photo, birth, fees = (("biometrisches Passbild", "Geburtsurkunde", ("37,00 €", "70,00 €")) if lang == "de"
                              else ("biometric passport photo", "birth certificate", ("37.00 €", "70.00 €")))
        assert body.count(photo) == 1
        assert birth in body and all(fee in body for fee in fees)
        assert ("etwa 50 Minuten" if lang == "de" else "about 50 minutes") in body
    assert id_card in mail.subject and passport in mail.subject
    assert ("09:00–09:50" in mail.text_body)
    assert "DTEND;TZID=Europe/Berlin:20261214T095000" in mail.ics.replace("\r\n ", "")
