"""The citizen pages, through the Flask test client, on SQLite and PostgreSQL: a citizen
books, gets the confirmation page and mail, moves and cancels; and what happens when a
slot is taken meanwhile, a form is wrong, the calendar is full or the deadline passed."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from tests.conftest import BERLIN, at, count_rows, mails, next_weekday

SERVICE = "/services/personalausweis"


# --- helpers ------------------------------------------------------------------------------
def page(resp) -> str:
    return resp.get_data(as_text=True)


def text(resp) -> str:
    """The visible text of a page, whitespace collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page(resp), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def hrefs(resp, prefix: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page(resp)) if h.startswith(prefix)]


def day_url(day) -> str:
    return f"{SERVICE}?month={day:%Y-%m}&day={day.isoformat()}"


def book_link_on(client, day) -> str:
    """The first free time on `day`, as the service page links it."""
    links = day_times(client.get(day_url(day)), "/book?")
    assert links, f"no free time on {day}"
    return links[0]


def day_times(resp, prefix: str) -> list[str]:
    """Links in the chosen day's list of free times."""
    section = page(resp).split('id="times"', 1)[1]
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', section) if h.startswith(prefix)]


def book(client, link: str, **fields):
    data = {"name": "Erika Mustermann", "email": "erika@example.org"}
    data.update(fields)
    return client.post(link, data=data)


def set_settings(app, slug: str, **settings) -> None:
    from app.extensions import db
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        tenant.settings = {**(tenant.settings or {}), **settings}
        db.session.commit()


def appointment(app, token: str):
    from app.booking.models import Appointment
    from app.extensions import db
    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        appt = db.session.scalar(select(Appointment).where(Appointment.manage_token == token))
        db.session.expunge(appt)
        return appt


@pytest.fixture(scope="session", autouse=True)
def english_catalogue():
    """`make test` compiles the catalogue; a plain pytest run compiles it here."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from app import ROOT

    po = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        with po.open("rb") as f:
            catalog = read_po(f, locale="en")
        with mo.open("wb") as f:
            write_mo(f, catalog)


# --- home ---------------------------------------------------------------------------------
def test_home_shows_services_offices_hours_entrance_and_emergency_contact(steinfurt):
    resp = steinfurt.get("/")
    assert resp.status_code == 200
    body = text(resp)
    assert "Stadt Steinfurt" in body
    assert "/services/personalausweis" in hrefs(resp, "/services/")
    assert "Personalausweis beantragen" in body
    assert "Emsdettener Straße 40, 48565 Steinfurt" in body
    assert "Zugang B (Kantineneingang)" in body
    assert "Hausordnung" in body
    assert "Montag 08:00–12:30 Uhr, 14:00–16:00 Uhr" in body
    assert "Donnerstag 08:00–12:30 Uhr, 14:00–18:00 Uhr" in body
    assert "02551 1-0" in body and "Ein Notfall ist zum Beispiel" in body
    assert 'class="skip-link" href="#main"' in page(resp)
    assert 'id="main"' in page(resp)


def test_each_town_shows_its_own_services(emsdetten):
    resp = emsdetten.get("/")
    assert "Stadt Emsdetten" in text(resp)
    assert "Am Markt 1, 48282 Emsdetten" in text(resp)
    # Emsdetten takes the certificate of good conduct by phone only: listed as such, its
    # page says how to get an appointment, and it cannot be booked online.
    assert "/services/fuehrungszeugnis" in hrefs(resp, "/services/")
    assert "Nur telefonisch oder vor Ort" in text(resp) and "nur telefonisch/vor Ort" in text(resp)
    page_ = emsdetten.get("/services/fuehrungszeugnis")
    assert page_.status_code == 200
    body = text(page_)
    assert "Diesen Termin vereinbaren Sie telefonisch oder vor Ort" in body
    assert "02572 922-0" in body and "buergerbuero@emsdetten.example" in body
    assert "Bürgerbüro Emsdetten" in body and "Öffnungszeiten" in body and "Montag" in body
    assert "/book?" not in page(page_)
    assert emsdetten.get("/book?service=fuehrungszeugnis").status_code == 404
    english = text(emsdetten.get("/services/fuehrungszeugnis?lang=en"))
    assert "Make this appointment by phone or in person" in english and "Mon–Fri 8:00–12:00" in english


def test_the_bare_base_domain_lists_every_tenant(app, host_client):
    resp = host_client(app, "localhost").get("/")
    assert resp.status_code == 200
    links = hrefs(resp, "http://")
    assert "http://steinfurt.localhost/" in links
    assert "http://emsdetten.localhost/" in links
    assert "http://kreis-steinfurt.localhost/" in links


# --- book, confirm, move, cancel ----------------------------------------------------------
def test_book_confirm_mail_manage_move_and_cancel(app, steinfurt):
    home = steinfurt.get("/")
    service = steinfurt.get(hrefs(home, "/services/personalausweis")[0])
    assert "Nächster freier Termin" in text(service)
    assert "Diesen Termin nehmen" in text(service)

    day = next_weekday(1)  # a Tuesday a week or more ahead: well before the deadline
    link = book_link_on(steinfurt, day)
    form = steinfurt.get(link)
    assert form.status_code == 200
    for label in ("Name", "E-Mail", "Telefon (optional)", "Anzahl Personen"):
        assert re.search(rf'<label for="[\w-]+">{re.escape(label)}</label>', page(form)), label
    assert "Datenschutz" in text(form) and "DSGVO" in text(form)
    assert day.strftime("%d.%m.%Y") in text(form)

    resp = book(steinfurt, link, phone="02551 12345", persons="2")
    assert resp.status_code == 303
    confirmation_url = resp.headers["Location"]
    token = re.match(r"^/manage/([^/?]+)\?booked=1$", confirmation_url).group(1)

    conf = steinfurt.get(confirmation_url)
    body = text(conf)
    appt = appointment(app, token)
    local = appt.starts_at.astimezone(BERLIN)
    assert "Ihr Termin ist gebucht" in body
    assert appt.code in body
    assert local.strftime("%d.%m.%Y") in body and local.strftime("%H:%M") in body
    assert "Bürgerbüro / Einwohnermeldeamt" in body and "Emsdettener Straße 40" in body
    # Printed, the page names the authority and its phone (the header and footer are not printed).
    assert re.search(r'<p class="print-only print-authority">Stadt Steinfurt · Telefon 02551 1-0', page(conf))
    assert "Zugang B (Kantineneingang)" in body and "Kantine" in body
    assert "biometrisches Passbild" in body  # documents
    assert "Hausordnung" in body  # notices
    assert "37,00 €" in body  # fee
    assert appt.persons == 2 and appt.phone == "02551 12345" and appt.source == "online" and appt.lang == "de"

    sent = mails(app)
    assert len(sent) == 1
    assert sent[0]["To"] == "erika@example.org"
    mail_text = sent[0].get_body(("plain",)).get_content()
    assert f"http://steinfurt.localhost/manage/{token}" in mail_text  # the manage link works:
    assert steinfurt.get(f"/manage/{token}").status_code == 200

    ics = steinfurt.get(f"/manage/{token}/termin.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert "BEGIN:VEVENT" in page(ics) and "TZID=Europe/Berlin" in page(ics)
    assert f"URL:http://steinfurt.localhost/manage/{token}" in page(ics).replace("\r\n ", "")

    # Move: the page offers other times; take one that differs from the current one.
    manage = steinfurt.get(f"/manage/{token}")
    assert hrefs(manage, f"/manage/{token}/move") and hrefs(manage, f"/manage/{token}/cancel")
    move_page = steinfurt.get(f"/manage/{token}/move?month={day:%Y-%m}&day={day.isoformat()}")
    choices = [h for h in day_times(move_page, f"/manage/{token}/move?start=") if local.strftime("T%H:%M") not in h]
    confirm_move = steinfurt.get(choices[0])
    assert "Auf diesen Termin verschieben" in text(confirm_move)
    new_start = re.search(r'name="start" value="([^"]+)"', page(confirm_move)).group(1)
    resp = steinfurt.post(f"/manage/{token}/move", data={"start": new_start})
    assert resp.status_code == 303 and resp.headers["Location"] == f"/manage/{token}?moved=1"
    moved = appointment(app, token)
    assert moved.starts_at.astimezone(BERLIN).isoformat() == new_start
    assert moved.code == appt.code
    assert "Ihr Termin ist verschoben" in text(steinfurt.get(resp.headers["Location"]))
    assert mails(app)[-1]["Subject"].strip().startswith("Termin verschoben")

    # Cancel: a confirm step, then the slot is free again.
    ask = steinfurt.get(f"/manage/{token}/cancel")
    assert "Ja, Termin absagen" in text(ask) and "Nein, Termin behalten" in text(ask)
    assert appointment(app, token).status == "booked"  # a GET changes nothing
    resp = steinfurt.post(f"/manage/{token}/cancel")
    assert resp.status_code == 303
    assert appointment(app, token).status == "cancelled"
    gone = steinfurt.get(resp.headers["Location"])
    assert "Ihr Termin ist abgesagt" in text(gone) and 'class="success"' in page(gone)
    assert "appointment-cancelled" in page(gone)  # the details greyed out …
    assert "Kantine" not in text(gone) and "Passbild" not in text(gone) and "Hausordnung" not in text(gone)
    assert mails(app)[-1]["Subject"].strip().startswith("Termin abgesagt")


def test_a_slot_taken_meanwhile_gets_a_friendly_new_proposal_and_keeps_the_input(app, steinfurt):
    day = next_weekday(2)
    link = book_link_on(steinfurt, day)
    start = unquote(link.split("start=")[1])
    # Others take every free counter at that start through the API.
    for i in range(10):
        r = steinfurt.post("/api/v1/appointments", json={"service": "personalausweis", "start": start,
                                                        "name": f"Other {i}", "email": f"other{i}@example.org"})
        if r.status_code == 409:
            break
        assert r.status_code == 201
    before = count_rows(app, "appointments")
    resp = book(steinfurt, link, name="Max Muster", email="max@example.org", phone="0170 1234567")
    assert resp.status_code == 200  # a normal page, never an error page
    body = text(resp)
    assert "Dieser Termin wurde gerade vergeben" in body
    assert "Unser nächster Vorschlag" in body
    assert 'value="Max Muster"' in page(resp) and 'value="max@example.org"' in page(resp)
    assert 'value="0170 1234567"' in page(resp)
    assert count_rows(app, "appointments") == before
    # One more click books the new proposal.
    action = html.unescape(re.search(r'<form method="post" action="(/book\?[^"]+)"', page(resp)).group(1))
    assert action != link
    resp = steinfurt.post(action, data={"name": "Max Muster", "email": "max@example.org"})
    assert resp.status_code == 303 and "/manage/" in resp.headers["Location"]


def test_form_errors_are_shown_inline_and_keep_what_was_typed(app, steinfurt):
    link = book_link_on(steinfurt, next_weekday(3))
    resp = book(steinfurt, link, name="", email="erika(at)example", phone="abc")
    assert resp.status_code == 422
    body = page(resp)
    assert 'role="alert"' in body
    assert 'value="erika(at)example"' in body and 'value="abc"' in body
    assert re.search(r'<input id="email"[^>]*aria-invalid="true"[^>]*aria-describedby="email-hint email-error"', body)
    assert 'id="name-error"' in body and 'id="phone-error"' in body
    assert "Bitte geben Sie Ihren Namen an." in text(resp)
    assert count_rows(app, "appointments") == 0
    assert mails(app) == []


def test_the_active_booking_limit_is_explained_at_the_email_field(app, steinfurt):
    set_settings(app, "steinfurt", max_active_per_email=1)
    day = next_weekday(1)
    links = day_times(steinfurt.get(day_url(day)), "/book?")
    assert book(steinfurt, links[0]).status_code == 303
    resp = book(steinfurt, links[-1])
    assert resp.status_code == 422
    assert "schon so viele Termine gebucht, wie möglich sind (1)" in text(resp) and "02551 1-0" in text(resp)


def test_unknown_or_foreign_manage_links_are_a_404_page(app, steinfurt, emsdetten):
    resp = steinfurt.get("/manage/not-a-token")
    assert resp.status_code == 404
    assert "Diese Seite gibt es nicht" in text(resp)
    assert "Zur Startseite" in text(resp)
    token = book(steinfurt, book_link_on(steinfurt, next_weekday(1))).headers["Location"].split("/")[2].split("?")[0]
    assert emsdetten.get(f"/manage/{token}").status_code == 404
    assert emsdetten.post(f"/manage/{token}/cancel").status_code == 404
    assert appointment(app, token).status == "booked"


def test_past_the_moving_deadline_the_page_still_cancels_and_gives_the_phone(app, steinfurt, fixed_now):
    token = book(steinfurt, book_link_on(steinfurt, next_weekday(1))).headers["Location"].split("/")[2].split("?")[0]
    appt = appointment(app, token)
    fixed_now(appt.starts_at - timedelta(hours=3))
    manage = steinfurt.get(f"/manage/{token}")
    assert "Online nicht mehr" not in text(manage)  # a calm sentence, no warning box
    assert "bis zum Beginn" in text(manage) and "02551 1-0" in text(manage)
    assert not hrefs(manage, f"/manage/{token}/move") and hrefs(manage, f"/manage/{token}/cancel")
    moved = steinfurt.post(f"/manage/{token}/move", data={"start": "x"})
    assert moved.status_code == 422 and "24 Stunden" in text(moved)
    assert steinfurt.post(f"/manage/{token}/cancel").status_code == 303
    assert appointment(app, token).status == "cancelled"


def test_once_started_the_page_cannot_cancel_and_gives_the_phone(app, steinfurt, fixed_now):
    token = book(steinfurt, book_link_on(steinfurt, next_weekday(1))).headers["Location"].split("/")[2].split("?")[0]
    appt = appointment(app, token)
    fixed_now(appt.starts_at + timedelta(minutes=1))
    manage = steinfurt.get(f"/manage/{token}")
    assert not hrefs(manage, f"/manage/{token}/cancel")
    resp = steinfurt.post(f"/manage/{token}/cancel")
    assert resp.status_code == 422 and "begonnen" in text(resp) and "02551 1-0" in text(resp)
    assert appointment(app, token).status == "booked"


# --- calendar full ------------------------------------------------------------------------
def test_a_full_calendar_says_when_booking_opens_and_offers_the_emergency_route(app, steinfurt, fixed_now):
    saturday = next_weekday(5)
    fixed_now(at(saturday, 10))
    set_settings(app, "steinfurt", horizon_days=1)  # Saturday and Sunday: nothing is open
    resp = steinfurt.get(SERVICE)
    assert resp.status_code == 200
    body = text(resp)
    assert "Zurzeit ist kein Termin frei" in body
    monday = saturday + timedelta(days=2)
    sunday = saturday + timedelta(days=1)
    assert (f"Alle Termine bis zum {sunday:%d.%m.%Y} sind vergeben" in body)
    assert f"Termine am {monday:%d.%m.%Y} können Sie ab dem {sunday:%d.%m.%Y} buchen" in body
    assert "02551 1-0" in body and "Ein Notfall ist zum Beispiel" in body
    assert "Notfall-Anfrage senden" in body and "Auf die Warteliste setzen" in body

    resp = steinfurt.post("/emergency", data={"service": "personalausweis", "name": "Eva Eilig",
                                              "phone": "0170 555", "reason": "Reise am Montag, Ausweis gestohlen"})
    assert resp.status_code == 303 and resp.headers["Location"].startswith("/emergency/sent")
    assert "Wir haben Ihre Notfall-Anfrage erhalten" in text(steinfurt.get(resp.headers["Location"]))
    from app.booking.models import EmergencyRequest
    from app.extensions import db
    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        req = db.session.scalar(select(EmergencyRequest))
        assert (req.name, req.phone, req.status, req.service.slug) == ("Eva Eilig", "0170 555", "open",
                                                                         "personalausweis")
        assert req.tenant_id == db.session.scalar(select(EmergencyRequest.tenant_id))


def test_an_emergency_request_needs_a_way_to_reach_the_citizen(app, steinfurt):
    resp = steinfurt.post("/emergency", data={"name": "Eva", "reason": "dringend"})
    assert resp.status_code == 422
    assert "Telefonnummer oder E-Mail-Adresse" in text(resp)
    assert 'value="Eva"' in page(resp) and ">dringend</textarea>" in page(resp)
    assert count_rows(app, "emergency_requests") == 0


def test_a_cancelled_slot_is_offered_to_the_first_citizen_on_the_waiting_list(app, steinfurt):
    for who in ("first", "second"):
        resp = steinfurt.post("/waitlist", data={"service": "personalausweis", "name": who.title(),
                                                 "email": f"{who}@example.org"})
        assert resp.status_code == 303
        assert "Sie stehen auf der Warteliste" in text(steinfurt.get(resp.headers["Location"]))
    token = book(steinfurt, book_link_on(steinfurt, next_weekday(1))).headers["Location"].split("/")[2].split("?")[0]
    assert steinfurt.post(f"/manage/{token}/cancel").status_code == 303
    offers = [m for m in mails(app) if m["To"] == "first@example.org" and "frei geworden" in m["Subject"]]
    assert len(offers) == 1
    assert offers[0]["Subject"].strip().startswith("Ein Termin ist frei geworden")
    body = offers[0].get_body(("plain",)).get_content()
    assert "http://steinfurt.localhost/book?service=personalausweis&start=" in body
    assert "Erika" not in body and "Buchungscode" not in body  # nothing of the cancelled booking's citizen
    assert not [m for m in mails(app) if m["To"] == "second@example.org" and "frei geworden" in m["Subject"]]


def test_a_waiting_citizen_can_withdraw(app, steinfurt):
    resp = steinfurt.post("/waitlist", data={"service": "personalausweis", "name": "W", "email": "w@example.org"})
    url = resp.headers["Location"]
    assert steinfurt.post(url).status_code == 303
    assert "nicht mehr auf der Warteliste" in text(steinfurt.get(url))
    bad = steinfurt.post("/waitlist", data={"service": "personalausweis", "name": "", "email": "x"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in page(bad)


# --- language, headers, CSRF --------------------------------------------------------------
def test_english_is_one_click_away_and_remembered(app, steinfurt):
    home = steinfurt.get("/")
    assert 'href="/?lang=en"' in page(home) and 'lang="de"' in page(home)
    resp = steinfurt.get("/?lang=en")
    assert '<html lang="en">' in page(resp)
    assert "Book an appointment online" in text(resp)
    assert "Apply for an ID card" in text(resp)
    assert "lang=en" in resp.headers.get("Set-Cookie", "")
    # The cookie keeps English on the next pages, and the booking is in English.
    link = book_link_on(steinfurt, next_weekday(1))
    form = steinfurt.get(link)
    assert "Phone (optional)" in text(form) and "Name" in text(form) and "E-mail" in text(form)
    resp = book(steinfurt, link)
    conf = steinfurt.get(resp.headers["Location"])
    assert "Your appointment is booked" in text(conf)
    token = resp.headers["Location"].split("/")[2].split("?")[0]
    assert appointment(app, token).lang == "en"
    assert mails(app)[-1]["Subject"].strip().startswith("Appointment confirmed")
    assert "This page does not exist" in text(steinfurt.get("/manage/nope"))


def test_a_first_visit_follows_the_browsers_language_and_says_so_to_caches(host_client, app):
    fresh = host_client(app, "steinfurt.localhost")  # no lang cookie yet
    german = fresh.get("/services/personalausweis")
    english = host_client(app, "steinfurt.localhost").get("/services/personalausweis",
                                                          headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="de">' in page(german) and '<html lang="en">' in page(english)
    for resp in (german, english, fresh.get("/")):
        assert {"Accept-Language", "Cookie"} <= set(resp.vary), resp.headers.get("Vary")


def test_citizen_pages_may_be_framed_by_the_tenant_hosts_only(app, steinfurt):
    from app.extensions import db
    from app.tenancy.models import Tenant, TenantHost
    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt"))
        db.session.add(TenantHost(tenant_id=tenant.id, host="termine.steinfurt.de",
                                  note="https://www.steinfurt.de javascript:alert(1)"))
        db.session.commit()
    csp = steinfurt.get("/").headers["Content-Security-Policy"]
    ancestors = csp.split("frame-ancestors")[1].split(";")[0].split()
    assert ancestors == ["'self'", "steinfurt.localhost", "termine.steinfurt.de", "https://www.steinfurt.de"]


def test_every_form_carries_a_csrf_token_and_a_post_without_one_changes_nothing(database_url, tmp_path, host_client):
    from tests.conftest import make_app

    app = make_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    client = host_client(app, "steinfurt.localhost")
    link = book_link_on(client, next_weekday(1))
    form = client.get(link)
    assert 'name="csrf_token"' in page(form)
    resp = book(client, link)
    assert resp.status_code == 400
    assert "Das hat nicht geklappt" in text(resp)
    assert count_rows(app, "appointments") == 0
    framed = client.post(link, data={"name": "A", "email": "a@example.org"}, headers={"Sec-Fetch-Dest": "iframe"})
    assert framed.status_code == 400
    assert re.search(r'<a class="button button-primary" href="/book\?service=personalausweis&amp;start=[^"]+" '
                     r'target="_top">Im ganzen Fenster weiter buchen</a>', page(framed))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(form)).group(1)
    assert book(client, link, csrf_token=token).status_code == 303


def test_page_bookings_share_the_per_client_write_budget_and_reads_are_free(database_url, tmp_path, host_client):
    from tests.conftest import make_app

    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    client = host_client(app, "steinfurt.localhost")
    for _ in range(12):
        assert client.get(SERVICE).status_code == 200
    answers = [client.post("/emergency", data={"name": "", "reason": ""}).status_code for _ in range(11)]
    assert answers[:10] == [422] * 10 and answers[10] == 429
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("path", [
    f"{SERVICE}?month=abc", f"{SERVICE}?month=2099-01", f"{SERVICE}?day=1999-01-01", f"{SERVICE}?day=2026-02-30",
    f"{SERVICE}?month=2026-13&day=x", "/book?service=personalausweis&start=gestern",
    "/book?service=personalausweis&start=2020-01-01T09:00:00+01:00", "/book?service=personalausweis",
    "/emergency?service=unbekannt",
])
def test_odd_links_still_give_a_helpful_page(steinfurt, path):
    resp = steinfurt.get(path)
    assert resp.status_code == 200
    assert "Stadt Steinfurt" in text(resp)


def test_unknown_services_and_malformed_posts_are_4xx_pages(steinfurt):
    assert steinfurt.get("/services/unbekannt").status_code == 404
    assert steinfurt.get("/book?service=unbekannt&start=2026-12-01T09:00:00%2B01:00").status_code == 404
    assert steinfurt.post("/book?service=personalausweis", data={"name": "A", "email": "a@example.org"}).status_code == 400
    assert steinfurt.post("/waitlist", data={"service": "unbekannt", "name": "A", "email": "a@b.de"}).status_code == 404
    assert steinfurt.get("/waitlist/entry?token=nope").status_code == 404


def test_the_english_catalogue_translates_every_text():
    from babel.messages.pofile import read_po

    from app import ROOT

    with (ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    missing = [m.id for m in catalog if m.id and not m.string]
    assert not missing
    assert len(list(catalog)) > 100


def test_in_confirm_mode_the_page_asks_to_confirm_by_mail(app, steinfurt):
    set_settings(app, "steinfurt", booking_mode="confirm")
    resp = book(steinfurt, book_link_on(steinfurt, next_weekday(1)))
    assert resp.status_code == 303
    body = text(steinfurt.get(resp.headers["Location"]))
    assert "Bitte bestätigen Sie Ihren Termin" in body and "Ihr Termin ist gebucht" not in body
    assert "erika@example.org" in body
