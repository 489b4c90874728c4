"""/admin/statistics: a town's admin sees the pilot's figures for a period as charts and
tables and downloads them as CSV; district IT sees all its towns side by side; nobody
sees another tenant's figures."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from app.booking.models import Appointment
from app.catalog.models import Service
from app.extensions import db
from app.jobs.due import run_due
from tests.conftest import HostClient, at
from tests.test_backoffice_support import in_tenant, logged_in, login

API = "/api/v1/appointments"
MONDAY, TUESDAY, WEDNESDAY = date(2027, 2, 1), date(2027, 2, 2), date(2027, 2, 3)
PILOT = {"from": "2027-02-01", "to": "2027-02-28"}


def book(client, start, email: str) -> dict:
    resp = client.post(API, json={"service": "personalausweis", "start": start.isoformat(),
                                  "name": "Erika Mustermann", "email": email})
    assert resp.status_code == 201, resp.json
    return resp.json


def appt_id(app, slug: str, code: str) -> int:
    with in_tenant(app, slug):
        return db.session.scalar(select(Appointment.id).where(Appointment.code == code))


def set_status(client, app, code: str, *statuses: str) -> None:
    aid = appt_id(app, client.host.split(".")[0], code)
    for status in statuses:
        resp = client.post(f"/admin/appointments/{aid}/status", data={"status": status})
        assert resp.status_code == 302 and "/admin/login" not in resp.headers["Location"]


def phone_booking(client, app, start) -> str:
    with in_tenant(app, client.host.split(".")[0]):
        service_id = db.session.scalar(select(Service.id).where(Service.slug == "personalausweis"))
    resp = client.post("/admin/phone-booking", data={"service": service_id, "start": start.isoformat(),
                                                     "name": "Max Muster", "phone": "02551 1"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    aid = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with in_tenant(app, client.host.split(".")[0]):
        return db.session.get(Appointment, aid).code


@pytest.fixture
def pilot(app, steinfurt, emsdetten, fixed_now):
    """The first days of Steinfurt's pilot, with a frozen clock: Monday 7:00 the daily
    recording; 8:00 three bookings online and one by phone; 9:00 a citizen cancels one;
    Tuesday 7:00 the recording again; by noon one no-show and two served. Emsdetten has
    one booking of its own."""
    fixed_now(at(MONDAY, 7))
    with app.app_context():
        run_due(at(MONDAY, 7))
    fixed_now(at(MONDAY, 8))
    a = book(steinfurt, at(TUESDAY, 9), "a@example.org")
    b = book(steinfurt, at(TUESDAY, 9, 20), "b@example.org")
    d = book(steinfurt, at(WEDNESDAY, 9), "d@example.org")
    book(emsdetten, at(TUESDAY, 9), "e@example.org")
    logged_in(app, steinfurt, "staff")
    c = phone_booking(steinfurt, app, at(TUESDAY, 10))
    fixed_now(at(MONDAY, 9))
    assert steinfurt.delete(f"{API}/{d['manage_token']}").status_code == 204
    fixed_now(at(TUESDAY, 7))
    with app.app_context():
        run_due(at(TUESDAY, 7))
    fixed_now(at(TUESDAY, 12))
    assert login(steinfurt, "staff@steinfurt.example").status_code == 302  # a day later: a fresh session
    set_status(steinfurt, app, a["code"], "checked_in", "completed")
    set_status(steinfurt, app, b["code"], "no_show")
    set_status(steinfurt, app, c, "checked_in", "completed")
    steinfurt.post("/admin/logout")
    return app


def csv_rows(resp) -> list[list[str]]:
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in resp.headers["Content-Disposition"]
    raw = resp.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def by_first(rows: list[list[str]]) -> dict[str, list[str]]:
    return {r[0]: r for r in rows[1:]}


def test_the_admin_sees_each_figure_of_the_pilot_as_chart_and_table(pilot, steinfurt):
    logged_in(pilot, steinfurt, "admin")
    page = steinfurt.get("/admin/statistics", query_string=PILOT)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for title in ("Buchungen pro Tag nach Weg", "Buchungen pro Woche nach Weg",
                  "Tage bis zum nächsten freien Termin je Dienstleistung", "Auslastung",
                  "Absagen, Verschiebungen und Nichterscheinen", "Vorlauf, Wartezeit und Bedienzeit",
                  "Warteliste, Notfälle und Vorsprachen ohne Termin", "Nach Büro und Dienstleistung"):
        assert title in html
    assert html.count('<svg role="img"') == 7  # every figure but the breakdown has its chart
    assert html.count("<table>") == 8
    assert "nie je Mitarbeiterin oder Mitarbeiter und nie je Person" in html  # what the staff council asks
    assert "Erika" not in html and "Max Muster" not in html and "example.org" not in html
    assert 'href="/admin/statistics"' in html  # in the navigation


def test_the_figures_are_what_happened(pilot, steinfurt):
    logged_in(pilot, steinfurt, "admin")

    def table(key):
        return csv_rows(steinfurt.get("/admin/statistics.csv", query_string={**PILOT, "figure": key}))

    per_day = table("buchungen-pro-tag")
    assert per_day[0] == ["Tag", "online", "Telefon", "Notfall", "gesamt", "Online-Anteil (%)"]
    assert len(per_day) == 1 + 28
    assert by_first(per_day)["01.02.2027"] == ["01.02.2027", "3", "1", "0", "4", "75,0"]
    assert by_first(per_day)["02.02.2027"] == ["02.02.2027", "0", "0", "0", "0", ""]
    week = by_first(table("buchungen-pro-woche"))
    assert week["01.02.2027"][1:] == ["3", "1", "0", "4", "75,0"]

    rates = by_first(table("quoten"))
    assert rates["Absagen durch Bürgerinnen und Bürger"][1:] == ["1", "4", "25,0"]
    assert rates["Absagen durch das Amt"][1:] == ["0", "4", "0,0"]
    assert rates["Verschiebungen"][1:] == ["0", "4", "0,0"]
    assert rates["Nicht erschienen"][1:] == ["1", "3", "33,3"]  # of the three due by Tuesday noon

    use = by_first(table("auslastung"))
    # Tuesday: 3 × 20 booked of 4 counters × 390 open minutes; one counter held back, 20 of it used by phone.
    assert use["02.02.2027"][1:] == ["60", "1560", "3,8", "390", "20", "5,1"]
    assert use["01.02.2027"][1:] == ["0", "1560", "0,0", "390", "0", "0,0"]
    assert use["10.02.2027"][1:] == ["0", "0", "", "0", "0", ""]  # not yet recorded: no rate

    free = table("tage-bis-frei")
    assert "Personalausweis beantragen" in free[0]
    col = free[0].index("Personalausweis beantragen")
    assert [r[col] for r in free[1:3]] == ["0", "0"] and free[3][col] == ""  # recorded Monday and Tuesday

    times = by_first(table("zeiten"))
    # Lead time of Monday's four bookings: 25 h, 25 h 20, 26 h and 49 h, on average 1,3 days.
    assert times["01.02.2027"][1] == "1,3"
    assert times["01.02.2027"][2:] == ["", "", "0"]  # no queue times recorded yet

    rest = by_first(table("warteliste-notfaelle"))
    assert rest["Einträge auf der Warteliste"][1] == "0" and rest["Notfallanfragen"][1] == "0"

    breakdown = table("nach-buero-und-dienstleistung")
    assert breakdown[1][:7] == ["Bürgerbüro / Einwohnermeldeamt", "Personalausweis beantragen", "4", "3", "3",
                                "1", "1"]


def test_the_anonymous_daily_rows_export_as_a_german_spreadsheet_opens_them(pilot, steinfurt):
    logged_in(pilot, steinfurt, "admin")
    rows = csv_rows(steinfurt.get("/admin/statistics.csv", query_string={**PILOT, "figure": "tageswerte"}))
    header = rows[0]
    assert header[:6] == ["Tag", "Kommune", "Büro", "Dienstleistung", "Weg", "Buchungen"]
    assert all(len(r) == len(header) for r in rows)
    days = {r[0] for r in rows[1:]}
    assert days == {"01.02.2027", "02.02.2027", "03.02.2027"}
    assert {r[1] for r in rows[1:]} == {"Stadt Steinfurt"}
    online_monday = next(r for r in rows[1:] if r[0] == "01.02.2027" and r[4] == "online")
    assert online_monday[header.index("Buchungen")] == "3"
    assert online_monday[header.index("Absagen")] == "1"
    joined = "\n".join(";".join(r) for r in rows)
    assert "@" not in joined and "Erika" not in joined


def test_a_bad_period_is_a_clear_422(pilot, steinfurt):
    logged_in(pilot, steinfurt, "admin")
    assert steinfurt.get("/admin/statistics", query_string={"from": "2027-03-01", "to": "2027-02-01"}).status_code == 422
    assert steinfurt.get("/admin/statistics", query_string={"from": "gestern"}).status_code == 422
    assert steinfurt.get("/admin/statistics", query_string={"from": "2025-01-01", "to": "2027-01-01"}).status_code == 422
    assert steinfurt.get("/admin/statistics.csv", query_string={**PILOT, "figure": "nichts"}).status_code == 404


def test_in_english_the_figures_keep_their_numbers(pilot, steinfurt):
    logged_in(pilot, steinfurt, "admin")
    html = steinfurt.get("/admin/statistics", query_string={**PILOT, "lang": "en"}).get_data(as_text=True)
    assert "Bookings per day by channel" in html and "75.0" in html
    assert "never per member of staff and never per person" in html
    assert '<div lang="en">' in html


def test_a_towns_admin_sees_only_its_town(pilot, steinfurt, emsdetten):
    logged_in(pilot, emsdetten, "admin")
    rows = by_first(csv_rows(emsdetten.get("/admin/statistics.csv", query_string={**PILOT,
                                                                                 "figure": "buchungen-pro-tag"})))
    assert rows["01.02.2027"][1:5] == ["1", "0", "0", "1"]  # Emsdetten's one booking, none of Steinfurt's
    assert emsdetten.get("/admin/statistics", query_string={**PILOT, "town": "steinfurt"}).status_code == 404
    assert emsdetten.get("/admin/statistics.csv", query_string={**PILOT, "town": "steinfurt",
                                                                "figure": "tageswerte"}).status_code == 404
    # The Emsdetten login does not hold on Steinfurt's host, nor on the district's.
    other = HostClient(pilot, "steinfurt.localhost")
    other.client = emsdetten.client
    assert other.get("/admin/statistics").status_code == 302
    district = HostClient(pilot, "kreis-steinfurt.localhost")
    district.client = emsdetten.client
    assert district.get("/admin/statistics").status_code == 302


def test_clerks_do_not_see_the_statistics(pilot, steinfurt):
    logged_in(pilot, steinfurt, "staff", email="clerk2@steinfurt.example")
    assert steinfurt.get("/admin/statistics").status_code == 403
    assert steinfurt.get("/admin/statistics.csv", query_string={"figure": "tageswerte"}).status_code == 403


def test_district_it_sees_all_its_towns_side_by_side(pilot):
    district = HostClient(pilot, "kreis-steinfurt.localhost")
    logged_in(pilot, district, "district-it")
    html = district.get("/admin/statistics", query_string=PILOT).get_data(as_text=True)
    assert "Alle Kommunen nebeneinander" in html and "Stadt Steinfurt" in html and "Stadt Emsdetten" in html
    towns = by_first(csv_rows(district.get("/admin/statistics.csv", query_string={**PILOT, "figure": "gemeinden"})))
    assert towns["Stadt Steinfurt"][1:3] == ["4", "75,0"]
    assert towns["Stadt Emsdetten"][1:3] == ["1", "100,0"]
    rows = csv_rows(district.get("/admin/statistics.csv", query_string={**PILOT, "figure": "tageswerte"}))
    assert {r[1] for r in rows[1:]} == {"Stadt Steinfurt", "Stadt Emsdetten"}
    # One town in detail, and only a town of this district.
    detail = district.get("/admin/statistics", query_string={**PILOT, "town": "steinfurt"})
    assert detail.status_code == 200 and "Statistik – Stadt Steinfurt" in detail.get_data(as_text=True)
    assert district.get("/admin/statistics", query_string={**PILOT, "town": "kreis-steinfurt"}).status_code == 404
    assert district.get("/admin/statistics", query_string={**PILOT, "town": "nirgendwo"}).status_code == 404
    report = district.get("/admin/statistics/report", query_string=PILOT).get_data(as_text=True)
    assert "Pilotbericht – alle Kommunen" in report


def test_the_pilot_report_compares_the_period_with_the_one_before(pilot, steinfurt):
    logged_in(pilot, steinfurt, "admin")
    resp = steinfurt.get("/admin/statistics/report", query_string=PILOT)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "04.01.2027 – 31.01.2027" in html  # the four weeks before
    import re

    row = re.search(r'<th scope="row">Buchungen</th><td class="num">(.*?)</td><td class="num">(.*?)</td>'
                    r'<td class="num">(.*?)</td>', html)
    assert row.groups() == ("4", "0", "+4")
    online = re.search(r'<th scope="row">Online-Anteil \(%\)</th><td class="num">(.*?)</td><td class="num">(.*?)'
                       r'</td>', html)
    assert online.groups() == ("75,0", "–")
