"""The caps on active bookings (issue 16 point 4): the per-e-mail cap sees through case and
`+tag`, the optional per-phone cap through spaces, dashes and +49 vs 0, on the API and the
booking form; the API names the cap that answered."""
from __future__ import annotations

from tests.conftest import at, count_rows, next_weekday
from tests.test_api_booking import book as api_book
from tests.test_citizen_pages import book, day_times, day_url, set_settings, text


def test_the_api_names_the_email_cap_and_tags_do_not_get_round_it(app, steinfurt):
    day = next_weekday(0)
    assert api_book(steinfurt, at(day, 9), email="erika@example.org").status_code == 201
    assert api_book(steinfurt, at(day, 10), email="Erika+1@Example.org").status_code == 201
    r = api_book(steinfurt, at(day, 11), email="ERIKA+zwei@example.org", phone="0171 5551234")
    assert r.status_code == 409 and r.json["type"].endswith("active-booking-limit")
    assert r.json["cap"] == "email" and r.json["limit"] == 2 and "email cap" in r.json["detail"]
    assert count_rows(app, "appointments") == 2


def test_the_phone_cap_is_off_by_default(app, steinfurt):
    day = next_weekday(0)
    for hour, mailbox in ((9, "a"), (10, "b"), (11, "c")):
        assert api_book(steinfurt, at(day, hour), email=f"{mailbox}@example.org", phone="0171 5551234").status_code == 201


def test_the_api_names_the_phone_cap_and_separators_or_country_code_do_not_get_round_it(app, steinfurt):
    set_settings(app, "steinfurt", max_active_per_phone=2)
    day = next_weekday(0)
    assert api_book(steinfurt, at(day, 9), email="a@example.org", phone="0171 555-12 34").status_code == 201
    assert api_book(steinfurt, at(day, 10), email="b@example.org", phone="+49 171 5551234").status_code == 201
    r = api_book(steinfurt, at(day, 11), email="c@example.org", phone="0049 (171) 555/1234")
    assert r.status_code == 409 and r.json["type"].endswith("active-booking-limit")
    assert r.json["cap"] == "phone" and r.json["limit"] == 2 and "phone cap" in r.json["detail"]
    # Another line, and a booking without a phone number, are not held by it.
    assert api_book(steinfurt, at(day, 11), email="c@example.org", phone="0171 5551235").status_code == 201
    assert api_book(steinfurt, at(day, 12), email="d@example.org").status_code == 201


def test_the_booking_form_explains_each_cap_at_its_field(app, steinfurt):
    set_settings(app, "steinfurt", max_active_per_email=1, max_active_per_phone=1)
    day = next_weekday(1)
    links = day_times(steinfurt.get(day_url(day)), "/book?")
    assert book(steinfurt, links[0], email="Erika@example.org", phone="02551 1234").status_code == 303
    resp = book(steinfurt, links[1], email="erika+neu@EXAMPLE.org")
    assert resp.status_code == 422
    assert "Mit dieser E-Mail-Adresse sind schon so viele Termine gebucht, wie möglich sind (1)" in text(resp)
    resp = book(steinfurt, links[1], email="max@example.org", phone="+49 2551 1234")
    assert resp.status_code == 422
    assert "Mit dieser Telefonnummer sind schon so viele Termine gebucht, wie möglich sind (1)" in text(resp)
    assert 'id="phone-error"' in resp.get_data(as_text=True)
    assert count_rows(app, "appointments") == 1
    assert book(steinfurt, links[1], email="max@example.org", phone="02551 9876").status_code == 303


def test_phone_key_normalises_what_people_type():
    from app.validators import phone_key

    assert phone_key("+49 171 555-1234") == phone_key("0171/555 12 34") == phone_key("0049 171 5551234") == "01715551234"
    assert phone_key("(02551) 69-0") == "02551690"
    assert phone_key("+31 20 123 4567") == "0031201234567"
    assert phone_key("") == ""
