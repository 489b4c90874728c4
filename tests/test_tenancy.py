"""Tenancy: host resolution, the scoped path, database-enforced tenant consistency."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.offices.models import Counter, Office
from app.tenancy.models import Tenant, TenantHost
from app.tenancy.resolve import MalformedHost, normalize_host
from app.tenancy.scope import CrossTenantWriteError, NoTenantError, all_tenants, tenant_scope
from app.transaction import commit


@pytest.mark.parametrize("host", ["steinfurt.localhost", "STEINFURT.LocalHost", "steinfurt.localhost:5000",
                                  "steinfurt.localhost.", "Steinfurt.localhost.:8080"])
def test_host_variants_reach_the_same_tenant(steinfurt, host):
    response = steinfurt.get("/api/v1/tenant", headers={"Host": host})
    assert response.status_code == 200
    assert response.json["slug"] == "steinfurt"


@pytest.mark.parametrize("host", ["nowhere.localhost", "steinfurt.example.org", "127.0.0.1:5000",
                                  "a.steinfurt.localhost", "[::1]:5000"])
def test_unknown_host_is_404_on_every_path_never_a_default_tenant(steinfurt, host):
    for path in ("/", "/api/v1/services", "/api/v1/tenant", "/admin/", "/manage/x"):
        response = steinfurt.get(path, headers={"Host": host})
        assert response.status_code == 404, (host, path)
    api = steinfurt.get("/api/v1/services", headers={"Host": host})
    assert api.mimetype == "application/problem+json"


@pytest.mark.parametrize("host", ["bad host", "stein_furt.localhost", "-x.localhost", "x..localhost", "ä.localhost"])
def test_malformed_host_is_400(steinfurt, host):
    assert steinfurt.get("/api/v1/services", headers={"Host": host}).status_code == 400


def test_normalize_host():
    assert normalize_host("Steinfurt.LOCALHOST.:5000") == "steinfurt.localhost"
    with pytest.raises(MalformedHost):
        normalize_host("")


def test_healthz_answers_on_any_host(steinfurt):
    for host in ("steinfurt.localhost", "10.0.0.7", "unknown.example"):
        response = steinfurt.get("/healthz", headers={"Host": host})
        assert response.status_code == 200
        assert response.json == {"database": "ok", "jobs": "inline"}


def test_bare_base_domain_lists_tenants_and_nothing_else(steinfurt):
    page = steinfurt.get("/", headers={"Host": "localhost:5000"})
    assert page.status_code == 200
    assert "Stadt Steinfurt" in page.get_data(as_text=True)
    assert steinfurt.get("/api/v1/services", headers={"Host": "localhost"}).status_code == 404


def test_custom_domain_is_served_and_new_hosts_need_no_restart(app, steinfurt):
    assert steinfurt.get("/api/v1/tenant", headers={"Host": "termine.emsdetten.de"}).status_code == 404
    with app.app_context(), all_tenants():
        ems = db.session.scalar(select(Tenant).where(Tenant.slug == "emsdetten"))
        db.session.add(TenantHost(tenant_id=ems.id, host="termine.emsdetten.de"))
        commit()
    response = steinfurt.get("/api/v1/tenant", headers={"Host": "Termine.Emsdetten.de."})
    assert response.json["slug"] == "emsdetten"


def test_tenant_owned_query_without_tenant_raises(app):
    with app.app_context():
        with pytest.raises(NoTenantError):
            db.session.scalars(select(Office)).all()


def test_scoped_query_sees_only_its_tenant(app):
    with app.app_context():
        with all_tenants():
            ids = {t.slug: t.id for t in db.session.scalars(select(Tenant))}
        with tenant_scope(ids["steinfurt"]):
            offices = db.session.scalars(select(Office)).all()
            counters = db.session.scalars(select(Counter)).all()
        assert {o.tenant_id for o in offices} == {ids["steinfurt"]}
        assert len(counters) == 4
        # A lookup by primary key of another tenant's row finds nothing.
        with tenant_scope(ids["emsdetten"]):
            assert db.session.get(Office, offices[0].id, populate_existing=True) is None


def test_writing_another_tenants_row_is_refused(app):
    with app.app_context():
        with all_tenants():
            ids = {t.slug: t.id for t in db.session.scalars(select(Tenant))}
        with tenant_scope(ids["emsdetten"]):
            db.session.add(Office(tenant_id=ids["steinfurt"], slug="x", name="X", address="Y", notices=[]))
            with pytest.raises(CrossTenantWriteError):
                db.session.flush()
        db.session.rollback()


def test_database_refuses_cross_tenant_foreign_key(app):
    """A counter of Emsdetten may not point at Steinfurt's office, whatever the app does."""
    with app.app_context(), all_tenants():
        ids = {t.slug: t.id for t in db.session.scalars(select(Tenant))}
        steinfurt_office = db.session.scalar(select(Office).where(Office.tenant_id == ids["steinfurt"]))
        db.session.add(Counter(tenant_id=ids["emsdetten"], office_id=steinfurt_office.id, slug="sneaky",
                               name="Sneaky", position=9))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_counts_subqueries_and_exists_are_filtered_too(app):
    from sqlalchemy import func

    from app.booking.models import Appointment
    from tests.conftest import HostClient, at, next_weekday

    HostClient(app, "steinfurt.localhost").post("/api/v1/appointments", json={
        "service": "personalausweis", "start": at(next_weekday(0), 9).isoformat(), "name": "Erika",
        "email": "e@example.org"})
    with app.app_context():
        with all_tenants():
            ids = {t.slug: t.id for t in db.session.scalars(select(Tenant))}
        queries = {
            "count": lambda: db.session.scalar(select(func.count()).select_from(Appointment)),
            "subquery": lambda: len(db.session.execute(
                select(select(Appointment.counter_id).subquery().c.counter_id)).all()),
            "exists": lambda: len(db.session.execute(select(Office.id).where(
                select(Appointment.id).where(Appointment.office_id == Office.id).exists())).all()),
        }
        for name, run in queries.items():
            with tenant_scope(ids["steinfurt"]):
                assert run() == 1, name
            with tenant_scope(ids["emsdetten"]):
                assert run() == 0, name
        with pytest.raises(NoTenantError):
            queries["count"]()


def test_joined_tenant_owned_entities_are_filtered_too(app):
    from app.booking.models import Appointment
    from tests.conftest import HostClient, at, next_weekday

    client = HostClient(app, "steinfurt.localhost")
    client.post("/api/v1/appointments", json={"service": "personalausweis", "start": at(next_weekday(0), 9).isoformat(),
                                              "name": "Erika", "email": "e@example.org"})
    with app.app_context():
        with all_tenants():
            ems = db.session.scalar(select(Tenant.id).where(Tenant.slug == "emsdetten"))
        with tenant_scope(ems):
            rows = db.session.execute(select(Office.name, Appointment.code).join(
                Appointment, Appointment.office_id == Office.id)).all()
            assert rows == []


def test_a_disabled_tenant_says_so_and_keeps_its_data(app, steinfurt, emsdetten):
    with app.app_context(), all_tenants():
        db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt")).status = "disabled"
        commit()
    page = steinfurt.get("/")
    assert page.status_code == 503 and "keine Online-Termine" in page.get_data(as_text=True)
    assert "02551 1-0" in page.get_data(as_text=True)
    api = steinfurt.get("/api/v1/services")
    assert api.status_code == 503 and api.json["type"].endswith("tenant-disabled")
    assert steinfurt.get("/admin/").status_code in (200, 302)  # district IT can switch it on again
    assert emsdetten.get("/api/v1/services").status_code == 200
    with app.app_context(), all_tenants():
        db.session.scalar(select(Tenant).where(Tenant.slug == "steinfurt")).status = "live"
        commit()
    # Switched on again, everything is still there.
    assert len(steinfurt.get("/api/v1/services").json) == 7


def test_bulk_updates_and_deletes_stay_inside_the_tenant(app):
    from sqlalchemy import delete, update

    with app.app_context():
        with all_tenants():
            ids = {t.slug: t.id for t in db.session.scalars(select(Tenant))}
        with tenant_scope(ids["emsdetten"]):
            db.session.execute(update(Counter).values(name="Umbenannt"))
            db.session.execute(delete(Counter).where(Counter.slug == "schalter-1"))
            commit()
        with tenant_scope(ids["steinfurt"]):
            names = db.session.scalars(select(Counter.name).order_by(Counter.position)).all()
        assert names == ["Schalter 1", "Schalter 2", "Schalter 3", "Schalter 4"]
        with pytest.raises(NoTenantError):
            db.session.execute(update(Counter).values(name="x"))
        db.session.rollback()


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    response = app.test_client().get("/healthz", headers={"Host": "10.0.0.1"})
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_the_bare_domain_lists_districts_first_and_no_switched_off_tenant(app):
    """`resolve.listed_tenants`, what the bare BASE_DOMAIN's page shows."""
    from app.tenancy.resolve import listed_tenants

    with app.app_context():
        with all_tenants():
            db.session.scalar(select(Tenant).where(Tenant.slug == "emsdetten")).status = "disabled"
            commit()
        listed = listed_tenants()
    slugs = [slug for _, slug, _ in listed]
    assert "emsdetten" not in slugs and "steinfurt" in slugs
    kinds = [kind for _, _, kind in listed]
    assert kinds == sorted(kinds) and kinds[0] == "district"
    towns = [name for name, _, kind in listed if kind == "municipality"]
    assert towns == sorted(towns)


def test_district_it_reaches_its_district_and_its_towns_only(app):
    """`resolve.of_district`: the district's own tenants by slug, nobody else's."""
    from app.tenancy.resolve import of_district

    with app.app_context():
        with all_tenants():
            kreis = db.session.scalar(select(Tenant).where(Tenant.slug == "kreis-steinfurt"))
        assert of_district(kreis.id, "steinfurt").parent_id == kreis.id
        assert of_district(kreis.id, "kreis-steinfurt").id == kreis.id
        assert of_district(kreis.id, "gibt-es-nicht") is None
        steinfurt = of_district(kreis.id, "steinfurt")
        assert of_district(steinfurt.id, "emsdetten") is None
