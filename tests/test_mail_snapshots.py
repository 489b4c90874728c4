"""Snapshots of every built-in mail text, in German and English, on fixed sample data.

A changed text fails here until its snapshot is renewed on purpose:
UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_mail_snapshots.py
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.mail.defaults import BUILTIN
from app.mail.render import render_string

SNAPSHOTS = Path(__file__).parent / "snapshots" / "mail"
SAMPLE = {
    "de": {"weekday": "Montag", "date": "07.12.2026", "reconfirm_until": "Sonntag, 06.12.2026, 09:30 Uhr",
           "draw_date": "12.10.2026"},
    "en": {"weekday": "Monday", "date": "7 December 2026", "reconfirm_until": "Sunday, 6 December 2026, 09:30",
           "draw_date": "12 October 2026"},
}
COMMON = {
    "name": "Erika Mustermann", "service": "Reisepass beantragen", "time": "09:30", "end_time": "09:50",
    "office": "Bürgerbüro / Einwohnermeldeamt", "address": "Emsdettener Straße 40, 48565 Steinfurt",
    "entrance": "Zugang B (Kantineneingang)", "directions": "Rechts am Rathaus vorbei.", "code": "K7M3-X9QP",
    "manage_url": "https://steinfurt.example/manage/TOKEN", "cancel_url": "https://steinfurt.example/manage/TOKEN/cancel",
    "reconfirm_url": "https://steinfurt.example/manage/TOKEN/reconfirm", "booking_url": "https://steinfurt.example/",
    "tenant": "Stadt Steinfurt", "phone": "02551 1-0", "persons": 1, "reason": "Der Schalter ist krankheitsbedingt geschlossen.",
    "documents": ["Personalausweis"], "notices": ["Hausordnung"], "fee": "70,00 €",
    "answer": "Kommen Sie bitte morgen um 8 Uhr.", "role": "admin", "link": "https://steinfurt.example/admin/invitation/TOKEN",
    "login": "https://steinfurt.example/admin/login", "sender": "Kreis Steinfurt",
    "leave_url": "https://steinfurt.example/waitlist/entry?token=TOKEN",
    "draw_time": "08:00", "entry_url": "https://steinfurt.example/draw/entry?token=TOKEN",
}


@pytest.mark.parametrize("event, lang", [(e, lang) for e in sorted(BUILTIN) for lang in ("de", "en")])
def test_builtin_text_matches_its_snapshot(event, lang):
    template = BUILTIN[event][lang]
    context = {**COMMON, **SAMPLE[lang]}
    rendered = f"Subject: {render_string(template['subject'], context)}\n\n{render_string(template['body'], context)}\n"
    path = SNAPSHOTS / f"{event}.{lang}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with UPDATE_SNAPSHOTS=1 and review it"
    assert rendered == path.read_text(encoding="utf-8")
