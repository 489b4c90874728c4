"""Mail texts: built-in, district and town templates; the sandbox; reminders; retention."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.booking.models import Appointment
from app.extensions import db
from app.mail.models import MailTemplate
from app.mail.render import TemplateProblem, check_template, render_string
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope
from app.transaction import commit
from tests.conftest import HostClient, at, mails, next_weekday


def book(client, start, i=0, **extra):
    return client.post("/api/v1/appointments", json={
        "service": "personalausweis", "start": start.isoformat(), "name": "Erika Mustermann",
        "email": f"c{i}@example.org", **extra})


def tenant_id(slug):
    with all_tenants():
        return db.session.scalar(select(Tenant.id).where(Tenant.slug == slug))


def test_emsdetten_sends_its_own_confirmation_text(app, emsdetten, steinfurt):
    monday = next_weekday(0)
    assert book(emsdetten, at(monday, 9)).status_code == 201
    assert book(steinfurt, at(monday, 9)).status_code == 201
    ems, stein = mails(app)
    assert ems["Subject"].startswith("Ihr Termin im Bürgerbüro Emsdetten")
    assert "schön, dass Sie online gebucht haben" in ems.get_body(("plain",)).get_content()
    assert stein["Subject"].startswith("Terminbestätigung")


def test_english_bookings_get_english_mail(app, steinfurt):
    monday = next_weekday(0)
    assert book(steinfurt, at(monday, 9), lang="en").status_code == 201
    [mail] = mails(app)
    assert mail["Subject"].startswith("Appointment confirmed: Apply for an ID card")
    assert "Please bring" in mail.get_body(("plain",)).get_content()


def test_a_district_text_reaches_towns_that_kept_the_inherited_one(app, steinfurt, emsdetten):
    with app.app_context():
        with tenant_scope(tenant_id("kreis-steinfurt")):
            db.session.add(MailTemplate(event="confirmation", lang="de", subject="Kreis: {{ service }} am {{ date }}",
                                        body="Kreistext für {{ name }}."))
            commit()
    monday = next_weekday(0)
    book(steinfurt, at(monday, 9))
    book(emsdetten, at(monday, 9))
    stein, ems = mails(app)
    assert stein["Subject"].startswith("Kreis: Personalausweis")
    assert ems["Subject"].startswith("Ihr Termin im Bürgerbüro Emsdetten")


@pytest.mark.parametrize("source", [
    "{{ ''.__class__ }}", "{{ name.__class__.__mro__ }}", "{{ config }}", "{{ request }}",
    "{% for i in range(999999999) %}x{% endfor %}", "{% for a in documents %}{% for b in documents %}{% endfor %}{% endfor %}",
    "{{ name|attr('__class__') }}", "{% set x = 1 %}", "{{ lipsum() }}", "{% include 'base.html' %}",
    "{{ 'a' * 100000000 }}", "x" * 20000,
])
def test_template_injection_is_refused(source):
    with pytest.raises(TemplateProblem):
        check_template(source)


def test_allowed_templates_render_plain_data():
    assert render_string("{{ name|upper }}: {% for d in documents %}- {{ d }} {% endfor %}",
                         {"name": "erika", "documents": ["A", "B"]}) == "ERIKA: - A - B"


def test_a_broken_stored_template_falls_back_and_never_blocks_the_booking(app, steinfurt):
    with app.app_context():
        with tenant_scope(tenant_id("steinfurt")):
            # Written past validation, as a bad import or an old row might be.
            db.session.add(MailTemplate(event="confirmation", lang="de", subject="{{ ''.__class__ }}",
                                        body="{{ config.SECRET_KEY }}"))
            commit()
    r = book(steinfurt, at(next_weekday(0), 9))
    assert r.status_code == 201
    [mail] = mails(app)
    assert mail["Subject"].startswith("Terminbestätigung")
    assert app.config["SECRET_KEY"] not in mail.get_body(("plain",)).get_content()


def test_move_sends_an_update_with_the_same_uid_and_higher_sequence(app, steinfurt):
    monday = next_weekday(0)
    a = book(steinfurt, at(monday, 9)).json
    steinfurt.patch(f"/api/v1/appointments/{a['manage_token']}", json={"start": at(monday, 11).isoformat()})
    first, moved = mails(app)
    ics1 = next(first.iter_attachments()).get_content()
    ics2 = next(moved.iter_attachments()).get_content()
    uid = [line for line in ics1.splitlines() if line.startswith("UID:")][0]
    assert uid in ics2 and "SEQUENCE:0" in ics1 and "SEQUENCE:1" in ics2
    assert "11:00" in moved.get_body(("plain",)).get_content()


def _reminder_setup(app, steinfurt, fixed_now):
    """Booked a week ahead; the clock at the reminder's time: 24 hours (reminder_hours)
    before the moving deadline, which is 24 hours (cancel_deadline_hours) before the start."""
    from datetime import datetime, timezone

    monday = next_weekday(0)
    a = book(steinfurt, at(monday, 10)).json
    fixed_now(at(monday, 10).astimezone(timezone.utc) - timedelta(hours=48))
    return a, datetime


def test_reminder_goes_out_once(app, steinfurt, fixed_now):
    from app import clock
    from app.jobs.due import run_due

    _reminder_setup(app, steinfurt, fixed_now)
    with app.app_context():
        assert run_due(now=clock.now())["reminders"] == 1
        assert run_due(now=clock.now())["reminders"] == 0
    subjects = [m["Subject"] for m in mails(app)]
    assert sum(s.startswith("Erinnerung") for s in subjects) == 1


def test_the_reminder_comes_before_the_moving_deadline_and_links_the_cancel_page(app, steinfurt, fixed_now):
    from app import clock
    from app.jobs.due import run_due

    a, _ = _reminder_setup(app, steinfurt, fixed_now)
    start = at(next_weekday(0), 10)
    with app.app_context():
        assert run_due(now=start - timedelta(hours=48, minutes=1))["reminders"] == 0  # not yet
        assert run_due(now=clock.now())["reminders"] == 1
    reminder = mails(app)[-1]
    body = reminder.get_body(("plain",)).get_content()
    deadline = (start - timedelta(days=1)).strftime("%d.%m.%Y")
    assert f"Online verschieben bis Sonntag, {deadline}, 10:00 Uhr; absagen bis zum Beginn." in body
    cancel_link = f"http://steinfurt.localhost/manage/{a['manage_token']}/cancel"
    assert f"Absagen: {cancel_link}" in body
    assert f'href="{cancel_link}"' in reminder.get_body(("html",)).get_content()
    # The link opens a page with one button; opening it (as a mail scanner does) cancels nothing.
    page = steinfurt.get(f"/manage/{a['manage_token']}/cancel")
    assert page.status_code == 200 and "Termin absagen" in page.get_data(as_text=True)
    assert steinfurt.get(f"/api/v1/appointments/{a['manage_token']}").json["status"] == "booked"
    assert steinfurt.post(f"/manage/{a['manage_token']}/cancel").status_code == 303
    assert steinfurt.get(f"/api/v1/appointments/{a['manage_token']}").json["status"] == "cancelled"


def test_a_booking_made_after_the_reminder_time_gets_no_reminder(app, steinfurt, fixed_now):
    from app.jobs.due import run_due

    monday = next_weekday(0)
    fixed_now(at(monday, 10) - timedelta(hours=30))  # inside the reminder window already
    assert book(steinfurt, at(monday, 10)).status_code == 201
    with app.app_context():
        assert run_due(now=at(monday, 10) - timedelta(hours=29))["reminders"] == 0
        assert run_due(now=at(monday, 10) - timedelta(hours=1))["reminders"] == 0
    assert [m["Subject"].split(":")[0] for m in mails(app)] == ["Terminbestätigung"]


def test_two_workers_send_one_reminder(pg_app, fixed_now):
    from app import clock
    from app.jobs.due import run_due

    steinfurt = HostClient(pg_app, "steinfurt.localhost")
    _reminder_setup(pg_app, steinfurt, fixed_now)
    results = []
    barrier = threading.Barrier(2)

    def work():
        with pg_app.app_context():
            barrier.wait()
            results.append(run_due(now=clock.now())["reminders"])
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert sorted(results) == [0, 1]
    assert sum(m["Subject"].startswith("Erinnerung") for m in mails(pg_app)) == 1


def test_personal_data_is_deleted_when_its_time_is_up(app, steinfurt):
    from app.jobs.due import run_due

    monday = next_weekday(0)
    a = book(steinfurt, at(monday, 9)).json
    with app.app_context():
        run_due(now=at(monday, 9) + timedelta(days=29))
        with tenant_scope(tenant_id("steinfurt")):
            appt = db.session.scalar(select(Appointment))
            assert appt.name == "Erika Mustermann"
        run_due(now=at(monday, 9) + timedelta(days=31))
        with tenant_scope(tenant_id("steinfurt")):
            appt = db.session.scalar(select(Appointment))
            assert (appt.name, appt.email, appt.phone) == ("", "", "") and appt.anonymized_at
            assert appt.code == a["code"]  # statistics keep the appointment itself


def test_requests_waiting_list_and_old_mail_are_cleaned_up_too(app, steinfurt):
    from app.booking.models import EmergencyRequest, WaitlistEntry
    from app.jobs.due import run_due
    from app.mail.models import OutboxMail

    monday = next_weekday(0)
    book(steinfurt, at(monday, 9))
    with app.app_context():
        tid = tenant_id("steinfurt")
        with tenant_scope(tid):
            svc = db.session.scalar(select(Appointment.service_id))
            created = at(monday, 9) - timedelta(days=3)
            db.session.add(EmergencyRequest(name="Nora Not", email="nora@example.org", phone="0171 1",
                                            reason="Reise morgen", status="answered", created_at=created))
            db.session.add(EmergencyRequest(name="Olaf Offen", reason="offen", status="open", created_at=created))
            db.session.add(WaitlistEntry(service_id=svc, name="Wanda", email="w@example.org", token="w1",
                                         status="withdrawn", created_at=created))
            commit()
        run_due(now=at(monday, 9) + timedelta(days=31))
        with tenant_scope(tid):
            requests = {r.status: r for r in db.session.scalars(select(EmergencyRequest))}
            assert (requests["answered"].name, requests["answered"].email, requests["answered"].reason) == ("", "", "")
            assert requests["open"].name == "Olaf Offen"  # still waiting for a clerk
            assert db.session.scalars(select(WaitlistEntry)).all() == []
            assert db.session.scalars(select(OutboxMail)).all() == []


def test_confirmation_says_until_when_to_move_and_that_cancelling_works_until_the_start(app, steinfurt):
    tuesday = next_weekday(1)
    assert book(steinfurt, at(tuesday, 9, 30)).status_code == 201
    [mail] = mails(app)
    deadline = (tuesday - timedelta(days=1)).strftime("%d.%m.%Y")
    for body in (mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()):
        assert f"Online verschieben bis Montag, {deadline}, 09:30 Uhr" in body
        assert "absagen bis zum Beginn" in body


def test_in_english_the_deadlines_are_english(app, steinfurt):
    assert book(steinfurt, at(next_weekday(1), 9, 30), lang="en").status_code == 201
    body = mails(app)[-1].get_body(("plain",)).get_content()
    assert "Move online until Monday" in body and "cancel until the start" in body


def test_booked_for_tomorrow_at_eight_the_page_and_mail_are_calm_and_cancel_works_at_half_past_seven(
        app, steinfurt, fixed_now):
    tuesday = next_weekday(1)
    fixed_now(at(tuesday - timedelta(days=1), 14))  # Monday afternoon: moving online has already ended
    a = book(steinfurt, at(tuesday, 8)).json
    manage = steinfurt.get(f"/manage/{a['manage_token']}?booked=1").get_data(as_text=True)
    assert "Ihr Termin ist gebucht" in manage
    assert 'role="alert"' not in manage and "Online nicht mehr" not in manage  # no warning box
    assert "Absagen können Sie online bis zum Beginn des Termins." in manage
    body = mails(app)[-1].get_body(("plain",)).get_content()
    assert "Verschieben ist online nicht mehr möglich; absagen können Sie bis zum Beginn." in body
    fixed_now(at(tuesday, 7, 30))
    assert steinfurt.post(f"/manage/{a['manage_token']}/cancel").status_code == 303
    assert steinfurt.get(f"/api/v1/appointments/{a['manage_token']}").json["status"] == "cancelled"
