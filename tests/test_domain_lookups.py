"""The lookups the web packages ask for instead of building queries (issue 10): each
answers what its page showed before, through the tenant scope."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.accounts.service import memberships_here, second_factor_enrolled
from app.audit.models import AuditEntry, entries, record
from app.catalog.models import (Service, all_services, offline_service, offline_services, online_service,
                               online_services, staff_service, staff_services)
from app.extensions import db
from app.offices import operations as offices
from app.offices.models import Closure, Office
from app.tenancy.scope import scoped_by_id
from app.transaction import commit
from tests.test_backoffice_support import in_tenant, make_user


def test_offices_hours_and_closures_in_the_admins_order(app):
    with in_tenant(app, "steinfurt"):
        office = offices.all_offices()[0]
        order = [(o.position, o.id) for o in offices.all_offices()]
        assert order == sorted(order)
        assert set(offices.offices_by_id()) == {o.id for o in offices.all_offices()}
        hours = offices.hours_of(office)
        assert hours and [(h.weekday, h.opens) for h in hours] == sorted((h.weekday, h.opens) for h in hours)
        now = clock.now()
        for days in (3, 10, 1):
            db.session.add(Closure(tenant_id=office.tenant_id, office_id=office.id, starts_at=now + timedelta(days=days),
                                   ends_at=now + timedelta(days=days, hours=2), reason="Betriebsausflug"))
        db.session.flush()
        mine = offices.counters_of(office.id)[0]
        assert offices.counter_in(office.id, mine.id).id == mine.id
        assert offices.counter_in(office.id, None) is None and offices.counter_in(office.id, -1) is None
        shown = offices.latest_closures(office, limit=2)
        assert [c.starts_at for c in shown] == sorted((c.starts_at for c in shown), reverse=True) and len(shown) == 2
        db.session.rollback()


def test_services_for_clerks_admins_and_by_phone(app):
    with in_tenant(app, "steinfurt"):
        every = all_services()
        assert {s.id for s in every} == set(db.session.scalars(select(Service.id)))
        offline = offline_services()
        assert all(not s.bookable_online for s in offline)
        if offline:
            assert offline_service(offline[0].slug).id == offline[0].id
        online = next(s for s in every if s.bookable_online and s.active and s.office_id)
        assert offline_service(online.slug) is None
        assert staff_service(online.id).id == online.id and staff_service(None) is None
        listed = online_services()
        assert online.id in {x.id for x in listed} and all(x.bookable_online and x.active for x in listed)
        assert online_service(online.slug).id == online.id and online_service("") is None
        clerks = {x.id for x in staff_services()}
        assert {x.id for x in listed} | {x.id for x in offline} <= clerks


def test_memberships_audit_entries_and_a_row_by_id_stay_in_their_tenant(app):
    make_user(app, "admin@steinfurt.example", "steinfurt", "admin")
    make_user(app, "it@kreis-steinfurt.example", "kreis-steinfurt", "district-it")
    with in_tenant(app, "steinfurt"):
        here = memberships_here()
        assert [m.role for m in here] == ["admin"]
        assert second_factor_enrolled(here) == {here[0].id: False}
        record("a", "x", 1, actor="t")
        record("b", "x", 2, actor="t")
        commit()
        assert [e.action for e in entries()][:2] == ["b", "a"]
        assert [e.action for e in entries(action="a")] == ["a"]
        assert [e.action for e in entries(offset=1, limit=1)] == ["a"]
        office_id = offices.all_offices()[0].id
    with in_tenant(app, "emsdetten"):
        assert scoped_by_id(Office, office_id) is None
        assert "b" not in [e.action for e in entries()]
    with in_tenant(app, "steinfurt"):
        assert scoped_by_id(Office, office_id).id == office_id
        assert scoped_by_id(Office, office_id, Office.slug == "gibt-es-nicht") is None
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "b")) is not None


def test_the_second_step_counts_a_wrong_code_and_a_login_opens_its_session(app):
    """`accounts.login.second_step` and `logged_in`: what the code page and every way of
    logging in (password, second factor, identity provider) call."""
    from app.accounts import login
    from app.accounts.models import User, UserSession
    from app.accounts.throttle import POW_AFTER
    from app.tenancy.resolve import tenant_info
    from app.tenancy.scope import all_tenants
    from tests.test_backoffice_support import totp_code

    uid = make_user(app, "it@kreis-steinfurt.example", "kreis-steinfurt", "district-it")
    with in_tenant(app, "kreis-steinfurt") as tid:
        with all_tenants():
            user = db.session.get(User, uid)
        tenant = tenant_info(tid)
        assert login.second_step(user, "000000", "10.0.0.1", tenant).status == "wrong"
        assert login.second_step(user, totp_code(), "10.0.0.1", tenant).status == "ok"
        for _ in range(POW_AFTER + 3):
            login.second_step(user, "000000", "10.0.0.2", tenant)
        waiting = login.second_step(user, totp_code(), "10.0.0.2", tenant)
        assert waiting.status == "wait" and waiting.wait_seconds > 0
        token = login.logged_in(user, "Firefox")
        commit()
        with all_tenants():
            assert db.session.get(User, uid).last_login_at is not None
            assert db.session.scalar(select(UserSession).where(UserSession.user_id == uid)) is not None
        assert token


def test_a_towns_mail_texts_come_from_itself_then_its_district(app):
    """`mail.render.text_chain`: the rendering and the admin's mail page both ask it."""
    from app.mail.render import text_chain
    from app.tenancy.resolve import tenant_info

    with in_tenant(app, "steinfurt") as town_id:
        town = tenant_info(town_id)
        assert text_chain(town) == [town.id, town.parent_id] and town.parent_id
        assert text_chain(tenant_info(town.parent_id)) == [town.parent_id]
