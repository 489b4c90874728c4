"""Issue 14's journey with a frozen clock: a citizen books for tomorrow 08:00 in English, sees
no warning, gets a phone-ready mail, gets the reminder before the moving deadline, cancels at
07:30 from the reminder's link, and the waiting list is offered the freed slot by mail."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.booking.models import WaitlistEntry
from app.catalog.models import Service
from app.offices.models import Entrance
from app.extensions import db
from app.jobs.due import run_due
from app.tenancy.scope import tenant_scope
from app.transaction import commit
from tests.conftest import at, mails, next_weekday
from tests.test_citizen_pages import set_settings, text
from tests.test_mail_texts import book, tenant_id


def test_book_tomorrow_at_eight_in_english_reminded_cancel_at_half_past_seven_waiting_list_offered(
        app, steinfurt, fixed_now):
    # Moving online until 12 hours before, the reminder 6 hours before that: 14:00 the day before;
    # online bookings until 15 minutes before, so the slot freed at 07:30 can still be offered.
    set_settings(app, "steinfurt", cancel_deadline_hours=12, reminder_hours=6, lead_minutes=15)
    tuesday = next_weekday(1)
    start = at(tuesday, 8)
    fixed_now(at(tuesday - timedelta(days=1), 9))
    with app.app_context(), tenant_scope(tenant_id("steinfurt")):
        service = db.session.scalar(select(Service).where(Service.slug == "personalausweis"))
        service.documents_en = ["Your current ID card or passport", "A recent biometric photo (35 × 45 mm)"]
        for entrance in db.session.scalars(select(Entrance)):
            entrance.directions_en = "From the car park, walk past the town hall on the right."
        db.session.add(WaitlistEntry(service_id=service.id, name="Wanda Warte", email="wanda@example.org",
                                     token="wanda-journey", lang="en"))
        commit()
    a = book(steinfurt, start, lang="en").json
    token = a["manage_token"]
    page = steinfurt.get(f"/manage/{token}?booked=1&lang=en")
    assert "Your appointment is booked" in text(page)
    assert 'role="alert"' not in page.get_data(as_text=True)
    [confirmation] = mails(app)
    html = confirmation.get_body(("html",)).get_content()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html and "max-width: 600px" in html
    plain = confirmation.get_body(("plain",)).get_content()
    assert "Where: Bürgerbüro / Einwohnermeldeamt, Emsdettener Straße 40" in plain
    assert "  - Your current ID card or passport" in plain and "Personalausweis oder Reisepass" not in plain
    assert "From the car park, walk past the town hall on the right." in plain and "Parkplatz" not in plain
    assert '<ul style="margin: 0; padding-left: 1.2em;"><li>Your current ID card or passport</li>' in html
    assert "Moving and cancelling: Move online until Monday" in plain and "cancel until the start" in plain
    with app.app_context():
        assert run_due(now=at(tuesday - timedelta(days=1), 13, 59))["reminders"] == 0
        fixed_now(at(tuesday - timedelta(days=1), 14))
        assert run_due(now=at(tuesday - timedelta(days=1), 14))["reminders"] == 1
    reminder = mails(app)[-1]
    assert reminder["Subject"].startswith("Reminder:")
    cancel_link = re.search(r"Cancel: (\S+)", reminder.get_body(("plain",)).get_content()).group(1)
    assert cancel_link.endswith(f"/manage/{token}/cancel")
    fixed_now(at(tuesday, 7, 30))
    path = cancel_link.split("localhost", 1)[1]
    assert "Cancel" in text(steinfurt.get(path + "?lang=en"))  # the page with the one button
    assert steinfurt.post(path).status_code == 303
    assert steinfurt.get(f"/api/v1/appointments/{token}").json["status"] == "cancelled"
    offer = next(m for m in mails(app) if m["To"] == "wanda@example.org")
    assert "became free" in offer["Subject"]
