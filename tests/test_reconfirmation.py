"""Reconfirmation ("Kommen Sie?") with a frozen clock: off by default; when a town switches it
on, the mail goes out once N days before, "Ja, ich komme" keeps the appointment, an
unanswered one is released at the deadline (the waiting list gets the slot, the citizen
is told), and the statistics count what was asked, answered and released."""
from __future__ import annotations

import threading

import pytest
from datetime import timedelta

from sqlalchemy import func, select

from app.booking.models import Appointment, WaitlistEntry
from app.extensions import db
from app.jobs.due import run_due
from app.statistics.models import StatisticsDay
from app.statistics.tracking import fold_deltas
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope
from app.tenancy.settings import validate_settings
from app.transaction import commit
from tests.conftest import HostClient, at, mails, next_weekday
from tests.browser import serious_violations
from tests.test_citizen_pages import set_settings, text
from tests.test_backoffice_support import logged_in
from tests.test_mail_texts import book, tenant_id

ON = {"reconfirm_days_before": 3, "reconfirm_deadline_hours": 24}


def subjects(app) -> list[str]:
    return [m["Subject"] for m in mails(app)]


def status(client, token: str) -> str:
    return client.get(f"/api/v1/appointments/{token}").json["status"]


def test_off_by_default_nobody_is_asked(app, steinfurt, fixed_now):
    start = at(next_weekday(3, after_days=10), 9)
    fixed_now(start - timedelta(days=8))
    a = book(steinfurt, start).json
    with app.app_context():
        result = run_due(now=start - timedelta(days=3))
        assert (result["reconfirmations"], result["released"]) == (0, 0)
        assert run_due(now=start - timedelta(hours=2))["released"] == 0
    assert status(steinfurt, a["manage_token"]) == "booked"
    assert not any(s.startswith("Kommen Sie?") for s in subjects(app))


def test_asked_once_answered_with_one_button_and_kept(app, steinfurt, fixed_now):
    set_settings(app, "steinfurt", **ON)
    start = at(next_weekday(3, after_days=10), 9)
    fixed_now(start - timedelta(days=8))
    a = book(steinfurt, start).json
    token = a["manage_token"]
    with app.app_context():
        assert run_due(now=start - timedelta(days=3, minutes=1))["reconfirmations"] == 0  # not yet
        fixed_now(start - timedelta(days=3))
        assert run_due(now=start - timedelta(days=3))["reconfirmations"] == 1
        assert run_due(now=start - timedelta(days=3) + timedelta(minutes=5))["reconfirmations"] == 0  # never twice
    mail = mails(app)[-1]
    assert mail["Subject"].startswith("Kommen Sie? Personalausweis beantragen")
    body = mail.get_body(("plain",)).get_content()
    deadline = (start - timedelta(days=1)).strftime("%d.%m.%Y")
    assert f"Bitte antworten bis: Mittwoch, {deadline}, 09:00 Uhr" in body
    assert f"Kommen Sie?: http://steinfurt.localhost/manage/{token}/reconfirm" in body
    assert f"Absagen: http://steinfurt.localhost/manage/{token}/cancel" in body
    html = mail.get_body(("html",)).get_content()
    assert f'href="http://steinfurt.localhost/manage/{token}/reconfirm"' in html and "Ja, ich komme" in html
    # Opening the link (a mail scanner does) answers nothing; the button does.
    page = steinfurt.get(f"/manage/{token}/reconfirm")
    assert page.status_code == 200 and "Ja, ich komme" in text(page)
    manage = steinfurt.get(f"/manage/{token}")
    assert "Bitte bestätigen Sie Ihren Termin" in text(manage)
    answered = steinfurt.post(f"/manage/{token}/reconfirm")
    assert answered.status_code == 303 and "reconfirmed=1" in answered.headers["Location"]
    assert "Danke, Ihr Termin bleibt bestehen" in text(steinfurt.get(answered.headers["Location"]))
    assert "Bitte bestätigen Sie Ihren Termin" not in text(steinfurt.get(f"/manage/{token}"))
    with app.app_context():
        assert run_due(now=start - timedelta(hours=23))["released"] == 0
    assert status(steinfurt, token) == "booked"


def test_unanswered_it_is_released_the_waiting_list_gets_it_and_the_figures_count(app, steinfurt, fixed_now):
    set_settings(app, "steinfurt", **ON)
    start = at(next_weekday(3, after_days=10), 9)
    fixed_now(start - timedelta(days=8))
    quiet = book(steinfurt, start, i=1).json
    answers = book(steinfurt, start + timedelta(minutes=30), i=2).json
    assert "manage_token" in answers, answers
    with app.app_context(), tenant_scope(tenant_id("steinfurt")):
        service_id = db.session.scalar(select(Appointment.service_id))
        db.session.add(WaitlistEntry(service_id=service_id, name="Wanda Warte", email="wanda@example.org",
                                     token="wanda-token", lang="de"))
        commit()
    with app.app_context():
        fixed_now(start - timedelta(days=3) + timedelta(minutes=30))  # both are due (asked 3 days before each)
        assert run_due(now=start - timedelta(days=3) + timedelta(minutes=30))["reconfirmations"] == 2
    assert steinfurt.post(f"/manage/{answers['manage_token']}/reconfirm").status_code == 303
    with app.app_context():
        fixed_now(start - timedelta(hours=24, minutes=1))
        assert run_due(now=start - timedelta(hours=24, minutes=1))["released"] == 0  # the deadline has not passed
        fixed_now(start - timedelta(hours=24))
        assert run_due(now=start - timedelta(hours=24))["released"] == 1
        assert run_due(now=start - timedelta(hours=23))["released"] == 0  # once
    assert status(steinfurt, quiet["manage_token"]) == "cancelled"
    assert status(steinfurt, answers["manage_token"]) == "booked"
    # Asked "Kommen Sie?", nobody gets a separate reminder as well: that mail said it all.
    assert not any("Erinnerung" in s for s in subjects(app))
    told = [m for m in mails(app) if m["To"] == "c1@example.org"][-1]
    assert told["Subject"].startswith("Termin freigegeben")
    told_body = told.get_body(("plain",)).get_content()
    assert "nicht bis Mittwoch" in told_body and "bestätigt" in told_body
    ics = next(told.iter_attachments()).get_content()
    assert "METHOD:CANCEL" in ics
    assert any(m["To"] == "wanda@example.org" and "Ein Termin ist frei geworden" in m["Subject"]
               for m in mails(app)), "\n".join(f"{m['To']} {m['Subject']}" for m in mails(app))
    manage = steinfurt.get(f"/manage/{quiet['manage_token']}")
    assert "nicht bestätigt und ist deshalb freigegeben" in text(manage)
    with app.app_context():
        fold_deltas()
        with all_tenants():
            sums = db.session.execute(select(func.sum(StatisticsDay.reconfirm_sent),
                                             func.sum(StatisticsDay.reconfirm_confirmed),
                                             func.sum(StatisticsDay.reconfirm_released),
                                             func.sum(StatisticsDay.cancelled_by_office))).one()
    assert tuple(sums) == (2, 1, 1, 0)


def test_a_booking_made_inside_the_window_and_a_move_are_not_asked_again(app, steinfurt, fixed_now):
    set_settings(app, "steinfurt", **ON)
    start = at(next_weekday(3, after_days=10), 9)
    fixed_now(start - timedelta(days=2))  # booked two days ahead: just made on purpose
    late = book(steinfurt, start).json
    with app.app_context():
        assert run_due(now=start - timedelta(days=2) + timedelta(minutes=1))["reconfirmations"] == 0
        assert run_due(now=start - timedelta(hours=2))["released"] == 0
    assert status(steinfurt, late["manage_token"]) == "booked"


def test_the_settings_are_validated():
    assert validate_settings({"reconfirm_days_before": 3, "reconfirm_deadline_hours": 24}) == {}
    assert "reconfirm_days_before" in validate_settings({"reconfirm_days_before": 30})
    assert "reconfirm_deadline_hours" in validate_settings({"reconfirm_days_before": 1, "reconfirm_deadline_hours": 20})
    assert validate_settings({"reconfirm_days_before": 0, "reconfirm_deadline_hours": 200}) == {}


def test_an_admin_switches_it_on_in_the_settings_and_edits_its_mail(app, steinfurt):
    logged_in(app, steinfurt, "admin")
    page = steinfurt.get("/admin/settings").get_data(as_text=True)
    assert "Rückfrage „Kommen Sie?“ (Tage vorher, 0 = keine)" in page
    bad = steinfurt.post("/admin/settings", data={"reconfirm_days_before": "1", "reconfirm_deadline_hours": "20"})
    assert bad.status_code == 422 and "at least 12 hours to answer" in bad.get_data(as_text=True)
    ok = steinfurt.post("/admin/settings", data={"reconfirm_days_before": "3", "reconfirm_deadline_hours": "24"})
    assert ok.status_code == 302
    with app.app_context(), all_tenants():
        assert db.session.scalar(select(Tenant.settings).where(Tenant.slug == "steinfurt")) == {
            "reconfirm_days_before": 3}  # 24 hours is the inherited default
    mail_list = steinfurt.get("/admin/mail").get_data(as_text=True)
    assert "Rückfrage „Kommen Sie?“" in mail_list and "Freigabe ohne Rückmeldung" in mail_list
    edit = steinfurt.get("/admin/mail/reconfirm_request/de")
    assert edit.status_code == 200 and "Ja, ich komme" in edit.get_data(as_text=True)


def test_two_workers_send_one_reconfirmation(pg_app, fixed_now):
    steinfurt = HostClient(pg_app, "steinfurt.localhost")
    set_settings(pg_app, "steinfurt", **ON)
    start = at(next_weekday(3, after_days=10), 9)
    fixed_now(start - timedelta(days=8))
    book(steinfurt, start)
    fixed_now(start - timedelta(days=3))
    results = []
    barrier = threading.Barrier(2)

    def work():
        with pg_app.app_context():
            barrier.wait()
            results.append(run_due(now=start - timedelta(days=3))["reconfirmations"])
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert sorted(results) == [0, 1]
    assert sum(s.startswith("Kommen Sie?") for s in subjects(pg_app)) == 1


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_answer_page_passes_axe_fits_a_phone_and_keeps_the_appointment(new_page, server, lang):
    app, port = server
    client = HostClient(app, "steinfurt.localhost")
    a = client.post("/api/v1/appointments", json={
        "service": "personalausweis", "start": at(next_weekday(3, after_days=10), 9).isoformat(),
        "name": "Erika Mustermann", "email": f"browser-{lang}@example.org"}).json
    with app.app_context(), tenant_scope(tenant_id("steinfurt")):
        appt = db.session.scalar(select(Appointment).where(Appointment.manage_token == a["manage_token"]))
        appt.reconfirm_sent_at = appt.created_at
        commit()
    page = new_page(375, 740, bypass_csp=True)  # axe is injected
    page.goto(f"http://steinfurt.localhost:{port}/manage/{a['manage_token']}/reconfirm?lang={lang}")
    assert serious_violations(page) == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    page.get_by_role("button", name="Yes, I am coming" if lang == "en" else "Ja, ich komme").click()
    page.get_by_role("heading", name=("Thank you, your appointment stands" if lang == "en"
                                      else "Danke, Ihr Termin bleibt bestehen")).wait_for()
    assert serious_violations(page) == []
    assert client.get(f"/api/v1/appointments/{a['manage_token']}").json["status"] == "booked"
