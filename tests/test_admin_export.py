"""District IT exports a tenant as a tenants/ folder that round-trips through sync."""
from __future__ import annotations

import pytest
import yaml

from app.onboarding.sync import sync_folder
from app.transaction import commit
from tests.conftest import HostClient
from tests.test_backoffice_support import logged_in  # noqa: F401



@pytest.fixture
def kreis(app):
    client = HostClient(app, "kreis-steinfurt.localhost")
    logged_in(app, client, "district-it")
    return client


def export_to(kreis, slug: str, root):
    resp = kreis.get(f"/admin/district/{slug}/export")
    assert resp.status_code == 200 and resp.mimetype == "application/x-yaml"
    folder = root / slug
    folder.mkdir(parents=True)
    (folder / "tenant.yaml").write_text(resp.get_data(as_text=True), encoding="utf-8")
    return yaml.safe_load(resp.get_data(as_text=True))


@pytest.mark.parametrize("slug", ["steinfurt", "emsdetten", "kreis-steinfurt"])
def test_an_export_syncs_back_without_a_change(app, kreis, tmp_path, slug):
    doc = export_to(kreis, slug, tmp_path / "export")
    assert doc["slug"] == slug
    with app.app_context():
        changes = sync_folder(tmp_path / "export")
        commit()
    assert changes == []


def test_an_export_carries_the_towns_own_values_only(app, kreis, tmp_path):
    doc = export_to(kreis, "emsdetten", tmp_path / "export")
    reisepass = next(s for s in doc["services"] if s["slug"] == "reisepass")
    assert reisepass["duration_minutes"] == 30 and "name" not in reisepass  # own values; the rest inherited
    assert doc["settings"] == {"slot_minutes": 15, "max_active_per_email": 3}
    assert doc["mail"]["confirmation"]["de"]["subject"].startswith("Ihr Termin im Bürgerbüro Emsdetten")


def test_an_onboarded_town_rebuilt_in_an_empty_database_exports_the_same(app, kreis, tmp_path):
    resp = kreis.post("/admin/district/onboard", data={
        "name": "Gemeinde Altenberge", "slug": "altenberge", "admin_email": "admin@altenberge.example",
        "address": "Kirchstraße 25, 48341 Altenberge", "phone": "02505 82-0", "email": "info@altenberge.example"})
    assert resp.status_code == 302
    from sqlalchemy import select

    from app.extensions import db
    from app.tenancy.models import Tenant
    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        town = db.session.scalar(select(Tenant).where(Tenant.slug == "altenberge"))
        town.legal = {"represented_by": "die Bürgermeisterin", "a11y_reviewed_on": "2026-12-01"}
        commit()
    first = export_to(kreis, "altenberge", tmp_path / "export")
    # The go-live fields travel with the file: the draft status, the address, the legal pages' own fields.
    assert first["status"] == "draft" and first["contact"]["address"] == "Kirchstraße 25, 48341 Altenberge"
    assert first["legal"] == {"represented_by": "die Bürgermeisterin", "a11y_reviewed_on": "2026-12-01"}
    # A fresh database with only the demo tenants, then the exported folder synced in.
    from tests.conftest import make_app

    fresh = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "fresh")
    try:
        with fresh.app_context():
            assert "altenberge: tenant created" in sync_folder(tmp_path / "export")
            commit()
        client = HostClient(fresh, "kreis-steinfurt.localhost")
        logged_in(fresh, client, "district-it")
        second = export_to(client, "altenberge", tmp_path / "again")
        assert second == first
        town = HostClient(fresh, "altenberge.localhost")
        assert town.get("/api/v1/tenant").json["status"] == "draft"  # still a draft after the round trip
        assert town.get("/api/v1/services/personalausweis/next").status_code == 503
        assert "die Bürgermeisterin" in town.get("/impressum").get_data(as_text=True)
        assert fresh.test_cli_runner().invoke(args=["tenants", "publish", "altenberge"]).exit_code == 0
        assert town.get("/api/v1/services/personalausweis/next").status_code == 200
    finally:
        from app.extensions import db

        with fresh.app_context():
            db.session.remove()
            db.engine.dispose()


def test_export_of_an_unknown_or_foreign_tenant_is_404(app, kreis):
    assert kreis.get("/admin/district/nowhere/export").status_code == 404


def test_an_offices_queue_settings_export_and_sync_back(app, kreis, tmp_path):
    from sqlalchemy import select

    from app.catalog.models import Service
    from app.extensions import db
    from app.offices.models import Office
    from app.queue import operations as queue_ops
    from app.tenancy.scope import tenant_scope
    from tests.test_backoffice_support import in_tenant

    with in_tenant(app, "steinfurt"):
        office = db.session.scalar(select(Office).where(Office.slug == "buergerbuero"))
        ids = {s.slug: s.id for s in db.session.scalars(select(Service).where(Service.office_id == office.id))}
        queue_ops.configure(office, enabled=True, quotas={ids["anmeldung"]: 7, ids["umzug"]: None}, ticket_prefix="W")
        commit()
    doc = export_to(kreis, "steinfurt", tmp_path / "export")
    queue = next(o for o in doc["offices"] if o["slug"] == "buergerbuero")["queue"]
    assert queue["enabled"] is True and queue["prefix"] == "W"
    assert queue["walk_in"]["anmeldung"] == 7 and "umzug" not in queue["walk_in"]
    # Someone changes the set-up in the back office; syncing the exported file brings it back.
    with in_tenant(app, "steinfurt"):
        office = db.session.scalar(select(Office).where(Office.slug == "buergerbuero"))
        queue_ops.configure(office, enabled=False, quotas={ids["anmeldung"]: 1, ids["umzug"]: 3}, ticket_prefix="Q")
        commit()
    with app.app_context():
        changes = sync_folder(tmp_path / "export")
        commit()
    assert "steinfurt/offices/buergerbuero: queue on, walk-in quotas set" in changes or any(
        "buergerbuero: queue on" in c for c in changes)
    with in_tenant(app, "steinfurt"):
        office = db.session.scalar(select(Office).where(Office.slug == "buergerbuero"))
        with tenant_scope(office.tenant_id):
            setup = queue_ops.queue_of(office)
            assert setup is not None and setup.ticket_prefix == "W"
            quotas = queue_ops.quotas_of(office)
        assert quotas[ids["anmeldung"]] == 7 and ids["umzug"] not in quotas
    again = export_to(kreis, "steinfurt", tmp_path / "again")
    assert again == doc
