"""Lost link (issue 14 point 6): a citizen who lost the mail enters e-mail and booking code
and gets the manage link again by mail; the answer never tells whether the address has a
booking; the form is rate-limited; the mail is an editable built-in event in both languages."""
from __future__ import annotations

from tests.conftest import mails, next_weekday
from tests.test_citizen_pages import appointment, book, book_link_on, hrefs, text


def _booked(app, client, email="erika@example.org"):
    resp = book(client, book_link_on(client, next_weekday(2)), email=email)
    token = resp.headers["Location"].split("/")[2].split("?")[0]
    return token, appointment(app, token)


def test_the_link_comes_again_by_mail_and_the_answer_says_nothing(app, steinfurt):
    assert "/link" in hrefs(steinfurt.get("/"), "/link")
    assert "/link" in hrefs(steinfurt.get("/manage/nope"), "/link")
    token, appt = _booked(app, steinfurt)
    before = len(mails(app))
    right = steinfurt.post("/link", data={"email": "Erika@Example.org", "code": appt.code.lower()})
    wrong_code = steinfurt.post("/link", data={"email": "erika@example.org", "code": "XXXX-0000"})
    stranger = steinfurt.post("/link", data={"email": "nobody@example.org", "code": appt.code})
    answers = [r.headers["Location"] for r in (right, wrong_code, stranger)]
    assert {r.status_code for r in (right, wrong_code, stranger)} == {303} and len(set(answers)) == 1
    page = text(steinfurt.get(answers[0]))
    assert "Wenn zu dieser E-Mail-Adresse ein kommender Termin" in page
    sent = mails(app)[before:]
    assert len(sent) == 1 and sent[0]["To"] == "erika@example.org"
    assert sent[0]["Subject"].strip().startswith("Ihr Termin-Link")
    body = sent[0].get_body(("plain",)).get_content()
    assert f"/manage/{token}" in body and appt.code in body


def test_an_english_booking_gets_the_link_in_english(app, steinfurt):
    steinfurt.get("/?lang=en")
    _, appt = _booked(app, steinfurt, "en@example.org")
    assert "Send the appointment link again" in text(steinfurt.get("/link"))
    steinfurt.post("/link", data={"email": "en@example.org", "code": appt.code})
    mail = mails(app)[-1]
    assert mail["Subject"].strip().startswith("Your appointment link")
    assert "you asked for the link to your appointment again" in mail.get_body(("plain",)).get_content()


def test_a_cancelled_appointment_gets_no_link(app, steinfurt):
    token, appt = _booked(app, steinfurt, "gone@example.org")
    steinfurt.post(f"/manage/{token}/cancel")
    before = len(mails(app))
    assert steinfurt.post("/link", data={"email": "gone@example.org", "code": appt.code}).status_code == 303
    assert len(mails(app)) == before


def test_the_form_is_rate_limited(database_url, tmp_path, host_client):
    from tests.conftest import make_app

    app = make_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    client = host_client(app, "steinfurt.localhost")
    answers = [client.post("/link", data={"email": "x@example.org", "code": "AAAA"}).status_code for _ in range(6)]
    assert answers[:5] == [303] * 5 and answers[5] == 429
    assert client.get("/link").status_code == 200
