"""Visits on the citizen pages (no JavaScript: links and GET/POST forms only): a family adds
a second concern and the number of persons, gets the proposal for the whole visit, books
it, and the confirmation, manage, move and cancel pages show every service with its count."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import text as sql

from app.extensions import db
from tests.conftest import BERLIN, mails, next_weekday
from tests.test_citizen_pages import appointment, book, hrefs, page, text

FAMILY = "/visit?services=personalausweis:2,reisepass"


def compose_family(client) -> str:
    """From the ID card's page: two persons, add the passport. Returns the visit page's address."""
    service_page = client.get("/services/personalausweis")
    body = page(service_page)
    assert "Weiteres Anliegen hinzufügen" in body
    assert re.search(r'<label for="count-personalausweis">Anzahl Personen für „Personalausweis beantragen“</label>',
                     body)
    assert re.search(r'<option value="reisepass">Reisepass beantragen</option>', body)
    r = client.get("/visit?item=personalausweis&count-personalausweis=2&add=reisepass&action=add")
    assert r.status_code == 303
    return r.headers["Location"]


def test_a_family_books_id_cards_for_two_and_a_passport_as_one_appointment(app, steinfurt):
    """Done when: "Personalausweis ×2 + Reisepass" booked as one appointment through the pages."""
    location = compose_family(steinfurt)
    assert parse_qs(urlsplit(location).query)["services"] == ["personalausweis:2,reisepass"]
    visit = steinfurt.get(location)
    assert visit.status_code == 200
    body = text(visit)
    assert "Personalausweis beantragen – 2 Personen" in body and "Reisepass beantragen – 1 Person" in body
    assert "etwa 50 Minuten" in body and "37,00 €" in body and "70,00 €" in body
    assert body.count("ein aktuelles biometrisches Passbild") == 1
    assert "Nächster freier Termin für Ihren Besuch" in body
    [take] = [h for h in hrefs(visit, "/book?") if h == hrefs(visit, "/book?")[0]][:1]
    assert "services=personalausweis:2,reisepass" in take.replace("%3A", ":").replace("%2C", ",")

    form = steinfurt.get(take)
    assert form.status_code == 200
    assert "Personalausweis beantragen – 2 Personen" in text(form) and "etwa 50 Minuten" in text(form)
    assert 'name="persons"' not in page(form)  # the counts come from the visit
    resp = book(steinfurt, take)
    assert resp.status_code == 303, text(resp)
    token = re.match(r"^/manage/([^/?]+)\?booked=1$", resp.headers["Location"]).group(1)

    appt = appointment(app, token)
    assert appt.ends_at - appt.starts_at == timedelta(minutes=50)
    with app.app_context():
        rows = db.session.execute(sql(
            "SELECT s.slug, x.count FROM appointment_services x JOIN services s ON s.id = x.service_id "
            "ORDER BY x.position")).all()
        assert [tuple(r) for r in rows] == [("personalausweis", 2), ("reisepass", 1)]
        assert db.session.execute(sql("SELECT count(*) FROM appointments")).scalar_one() == 1

    conf = text(steinfurt.get(resp.headers["Location"]))
    assert "Ihr Termin ist gebucht" in conf
    assert "Personalausweis beantragen – 2 Personen" in conf and "Reisepass beantragen – 1 Person" in conf
    assert "etwa 50 Minuten" in conf and conf.count("ein aktuelles biometrisches Passbild") == 1
    assert "Personalausweis beantragen: 37,00 €" in conf and "Reisepass beantragen: 70,00 €" in conf
    local = appt.starts_at.astimezone(BERLIN)
    assert local.strftime("%H:%M") in conf

    [mail] = mails(app)
    mail_text = mail.get_body(("plain",)).get_content()
    assert "Personalausweis beantragen – 2 Personen" in mail_text and "Reisepass beantragen – 1 Person" in mail_text
    assert mail_text.count("ein aktuelles biometrisches Passbild") == 1

    cancel_page = text(steinfurt.get(f"/manage/{token}/cancel"))
    assert "Personalausweis beantragen – 2 Personen" in cancel_page


def test_moving_a_visit_offers_only_starts_where_the_whole_visit_fits(app, steinfurt):
    monday = next_weekday(0)
    day_page = steinfurt.get(f"{compose_family(steinfurt)}&month={monday:%Y-%m}&day={monday.isoformat()}")
    take = [h for h in hrefs(day_page, "/book?") if monday.isoformat() in h][0]
    token = re.match(r"^/manage/([^/?]+)", book(steinfurt, take).headers["Location"]).group(1)
    before = appointment(app, token)
    move_page = steinfurt.get(f"/manage/{token}/move")
    assert "Personalausweis beantragen (2 Personen), Reisepass beantragen" in text(move_page)
    links = hrefs(move_page, f"/manage/{token}/move?start=")
    assert links
    chosen = steinfurt.get(links[-1])
    start = re.search(r'name="start" value="([^"]+)"', page(chosen)).group(1)
    r = steinfurt.post(f"/manage/{token}/move", data={"start": start})
    assert r.status_code == 303
    after = appointment(app, token)
    assert after.starts_at != before.starts_at
    assert after.ends_at - after.starts_at == timedelta(minutes=50)


def test_removing_and_an_impossible_visit_say_what_to_change(app, steinfurt):
    r = steinfurt.get("/visit?item=personalausweis&count-personalausweis=1&item=reisepass&count-reisepass=1"
                      "&remove=reisepass")
    assert r.status_code == 303 and r.headers["Location"].endswith("services=personalausweis")
    r = steinfurt.get("/visit?services=personalausweis:5,reisepass")
    assert r.status_code == 422
    assert "„Personalausweis beantragen“ ist für 1 bis 3 Personen möglich." in text(r)
    assert steinfurt.get("/visit?services=personalausweis,personalausweis").status_code == 422
    assert steinfurt.get("/visit?services=%3Cscript%3E").status_code == 404
    assert steinfurt.get("/book?services=personalausweis:9&start=2030-01-01T09:00").status_code == 404


def test_the_visit_pages_in_english(app, steinfurt):
    r = steinfurt.get(FAMILY + "&lang=en")
    body = text(r)
    assert "Several concerns in one appointment" in body
    assert "Apply for an ID card – 2 persons" in body and "about 50 minutes" in body
    assert "Add another concern" in body
