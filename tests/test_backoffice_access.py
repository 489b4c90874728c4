"""Who reaches what: the role × route matrix, and tenant isolation by id and by token."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.booking.models import Appointment
from app.extensions import db
from tests.conftest import HostClient, at, next_weekday
from tests.test_backoffice_support import in_tenant, logged_in  # noqa: F401

STAFF_PAGES = ["/admin/day", "/admin/day/print", "/admin/phone-booking", "/admin/emergency-booking",
               "/admin/emergencies", "/admin/block", "/admin/password"]
ADMIN_PAGES = ["/admin/services", "/admin/offices", "/admin/settings", "/admin/mail", "/admin/users", "/admin/audit"]
DISTRICT_PAGES = ["/admin/district", "/admin/district/onboard"]
ORDER = ["anonymous", "staff", "admin", "district-it"]
NEEDS = {**{p: "staff" for p in STAFF_PAGES}, **{p: "admin" for p in ADMIN_PAGES}}



@pytest.mark.parametrize("role", ORDER)
def test_role_route_matrix_on_a_town(app, steinfurt, role):
    if role == "district-it":
        logged_in(app, steinfurt, role, tenant="kreis-steinfurt")
    elif role != "anonymous":
        logged_in(app, steinfurt, role)
    for path, needed in NEEDS.items():
        resp = steinfurt.get(path)
        if role == "anonymous":
            assert resp.status_code == 302 and "/admin/login" in resp.headers["Location"], path
        elif ORDER.index(role) >= ORDER.index(needed):
            assert resp.status_code == 200, (role, path)
        else:
            assert resp.status_code == 403, (role, path)
    for path in DISTRICT_PAGES:  # district IT works on the district's own host only
        assert steinfurt.get(path).status_code == (302 if role == "anonymous" else 403 if role != "district-it"
                                                   else 404), (role, path)


@pytest.mark.parametrize("role", ["admin", "district-it"])
def test_district_pages_need_district_it_on_the_district_host(app, role):
    kreis = HostClient(app, "kreis-steinfurt.localhost")
    logged_in(app, kreis, role)
    for path in DISTRICT_PAGES:
        assert kreis.get(path).status_code == (200 if role == "district-it" else 403), path


def test_writes_need_a_login_too(steinfurt):
    for path in ("/admin/appointments/1/status", "/admin/block", "/admin/phone-booking", "/admin/emergencies/1/reply"):
        resp = steinfurt.post(path, data={})
        assert resp.status_code == 302 and "/admin/login" in resp.headers["Location"], path


def test_another_tenants_appointment_is_not_found_by_id_or_code(app, steinfurt, emsdetten):
    day = next_weekday(1)
    theirs = emsdetten.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(day, 9).isoformat(),
                                                          "name": "Emma Ems", "email": "emma@example.org"}).json
    with in_tenant(app, "emsdetten"):
        their_id = db.session.scalar(select(Appointment.id))
    logged_in(app, steinfurt, "admin")
    assert steinfurt.get(f"/admin/appointments/{their_id}").status_code == 404
    assert steinfurt.post(f"/admin/appointments/{their_id}/status", data={"status": "checked_in"}).status_code == 404
    assert steinfurt.get(f"/admin/find?code={theirs['code']}").status_code == 404
    assert "Emma Ems" not in steinfurt.get(f"/admin/day?date={day}").get_data(as_text=True)
    assert emsdetten.get(f"/api/v1/appointments/{theirs['manage_token']}").json["status"] == "booked"


def test_another_tenants_invitation_token_is_not_found(app, steinfurt, emsdetten):
    from app.accounts.invitations import invite
    from app.transaction import commit

    with in_tenant(app, "emsdetten"):
        _, token = invite("neu@emsdetten.example", "staff")
        commit()
    assert steinfurt.get(f"/admin/invitation/{token}").status_code == 404
    assert steinfurt.post(f"/admin/invitation/{token}", data={"password": "x" * 12, "repeat": "x" * 12}).status_code == 404
    assert emsdetten.get(f"/admin/invitation/{token}").status_code == 200
