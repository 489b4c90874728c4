"""Tenants as code: sync, validation, inheritance through files, and the CLI."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from app import ROOT
from app.accounts.models import Membership, User
from app.catalog.models import Service
from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants, tenant_scope
from app.onboarding.sync import SyncError, sync_folder
from app.transaction import commit


@pytest.fixture
def folder(tmp_path) -> Path:
    target = tmp_path / "tenants"
    shutil.copytree(ROOT / "tenants", target)
    return target


def edit(folder: Path, slug: str, change) -> None:
    path = folder / slug / "tenant.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def snapshot(app) -> dict:
    with app.app_context(), all_tenants():
        return {t.__tablename__: db.session.scalar(select(func.count()).select_from(t))
                for t in (Tenant, Service)} | {
            "durations": sorted((s.tenant_id, s.slug, s.duration_minutes) for s in db.session.scalars(select(Service)))}


def service(app, tenant_slug: str, slug: str) -> Service:
    with all_tenants():
        tid = db.session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
    with tenant_scope(tid):
        return db.session.scalar(select(Service).where(Service.slug == slug))


def test_a_second_sync_changes_nothing(app, folder):
    with app.app_context():
        assert sync_folder(folder) == []
        commit()


def test_a_district_change_reaches_towns_that_did_not_override_it(app, folder):
    def district(data):
        for s in data["services"]:
            if s["slug"] == "reisepass":
                s["duration_minutes"] = 25
                s["documents"] = ["Neu: nur der Personalausweis"]
    edit(folder, "kreis-steinfurt", district)
    with app.app_context():
        changes = sync_folder(folder)
        commit()
        assert any("steinfurt: service reisepass.duration_minutes follows the district" in c for c in changes)
        stein = service(app, "steinfurt", "reisepass")
        assert stein.duration_minutes == 25 and stein.documents == ["Neu: nur der Personalausweis"]
        ems = service(app, "emsdetten", "reisepass")
        assert ems.duration_minutes == 30 and "bisheriger Reisepass (auch wenn abgelaufen)" in ems.documents


def test_a_town_override_removed_from_its_file_follows_the_district_again(app, folder):
    edit(folder, "emsdetten", lambda d: d.update(services=[s for s in d["services"] if s["slug"] != "reisepass"]))
    with app.app_context():
        sync_folder(folder)
        commit()
        ems = service(app, "emsdetten", "reisepass")
        assert ems.duration_minutes == 20 and ems.overridden == []


BAD = {
    "yaml": lambda p: p.write_text("slug: [unclosed"),
    "missing_name": lambda p: _patch(p, lambda d: d.pop("name")),
    "bad_slug": lambda p: _patch(p, lambda d: d["offices"][0].update(slug="Bürger Büro")),
    "unknown_setting": lambda p: _patch(p, lambda d: d["settings"].update(coffee=True)),
    "setting_range": lambda p: _patch(p, lambda d: d["settings"].update(horizon_days=0)),
    "fair_draw_setting": lambda p: _patch(p, lambda d: d["settings"].update(fair_draw_services=["Reise Pass"])),
    "hours_order": lambda p: _patch(p, lambda d: d["offices"][0]["hours"].append(
        {"days": ["mon"], "from": "12:00", "to": "08:00"})),
    "bad_day": lambda p: _patch(p, lambda d: d["offices"][0]["hours"].append(
        {"days": ["montag"], "from": "08:00", "to": "09:00"})),
    "unknown_field": lambda p: _patch(p, lambda d: d.update(colour="red")),
    "unknown_parent": lambda p: _patch(p, lambda d: d.update(parent="kreis-nirgendwo")),
    "own_service_incomplete": lambda p: _patch(p, lambda d: d["services"].append({"slug": "hundesteuer"})),
    "template_injection": lambda p: _patch(p, lambda d: d.update(mail={"confirmation": {"de": {
        "subject": "Hallo", "body": "{{ ''.__class__.__mro__ }}"}}})),
    "slug_mismatch": lambda p: _patch(p, lambda d: d.update(slug="burgsteinfurt")),
    "timezone": lambda p: _patch(p, lambda d: d.update(timezone="Mars/Olympus")),
}


def _patch(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_bad_file_is_named_and_nothing_changes(app, folder, kind):
    # A good change elsewhere must not be applied either.
    edit(folder, "kreis-steinfurt", lambda d: d["services"][0].update(duration_minutes=45))
    BAD[kind](folder / "steinfurt" / "tenant.yaml")
    before = snapshot(app)
    with app.app_context():
        with pytest.raises(SyncError) as err:
            sync_folder(folder)
        db.session.rollback()
    assert all("steinfurt/tenant.yaml" in line for line in err.value.errors), err.value.errors
    assert snapshot(app) == before


def test_cli_sync_list_create_and_users(app, folder):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "sync", str(folder)])
    assert result.exit_code == 0 and "nothing changed" in result.output
    BAD["yaml"](folder / "emsdetten" / "tenant.yaml")
    result = runner.invoke(args=["tenants", "sync", str(folder)])
    assert result.exit_code == 1 and "emsdetten/tenant.yaml" in result.output and "Nothing was changed" in result.output

    result = runner.invoke(args=["tenants", "create", "altenberge", "--name", "Gemeinde Altenberge",
                                 "--parent", "kreis-steinfurt", "--domain", "Termine.Altenberge.DE"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["tenants", "create", "altenberge", "--name", "X", "--parent", "kreis-steinfurt"])
    assert again.exit_code == 1 and "exists already" in again.output
    orphan = runner.invoke(args=["tenants", "create", "ochtrup", "--name", "Ochtrup", "--parent", "steinfurt"])
    assert orphan.exit_code == 1 and "no district" in orphan.output

    listing = runner.invoke(args=["tenants", "list"]).output
    assert "altenberge" in listing and "termine.altenberge.de" in listing and "kreis-steinfurt" in listing

    ok = runner.invoke(args=["users", "create", "Clerk@Steinfurt.example", "--tenant", "steinfurt", "--role", "staff"],
                       input="correct horse battery\n")
    assert ok.exit_code == 0, ok.output
    short = runner.invoke(args=["users", "create", "x@steinfurt.example", "--tenant", "steinfurt", "--role", "admin"],
                          input="short\n")
    assert short.exit_code == 1 and "at least" in short.output
    with app.app_context(), all_tenants():
        user = db.session.scalar(select(User).where(User.email == "clerk@steinfurt.example"))
        assert user.password_hash.startswith("$argon2")
        assert db.session.scalar(select(Membership.role).where(Membership.user_id == user.id)) == "staff"


def test_a_new_town_with_its_own_contact_is_published_at_once_with_the_inherited_catalogue(app):
    from tests.conftest import HostClient

    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "create", "altenberge", "--name", "Gemeinde Altenberge",
                                 "--parent", "kreis-steinfurt", "--address", "Kirchstraße 25, 48341 Altenberge",
                                 "--phone", "02505 82-0", "--email", "buergerbuero@altenberge.example", "--publish"])
    assert result.exit_code == 0, result.output
    client = HostClient(app, "altenberge.localhost")
    assert client.get("/api/v1/tenant").json["status"] == "pilot"
    slugs = {s["slug"] for s in client.get("/api/v1/services").json}
    assert {"personalausweis", "reisepass", "anmeldung"} <= slugs
    assert client.get("/api/v1/services/personalausweis/next").status_code == 200
