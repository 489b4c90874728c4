"""Federal service keys: a district's catalogue seeded from a LeiKa list, inherited by its
towns, in the API and the export, validated by `tenants sync`."""
from __future__ import annotations

import json
import shutil

import yaml
from sqlalchemy import select

from app import ROOT
from app.catalog.models import Service
from app.extensions import db
from app.onboarding.export import export_tenant
from app.tenancy.models import Tenant
from app.tenancy.scope import all_tenants
from tests.test_backoffice_support import in_tenant

CSV = """leika_key;name;documents;duration_minutes;slug
99102013001000;Personalausweis beantragen;bisheriger Personalausweis | biometrisches Passfoto;20;personalausweis
99088015001000;Meldebescheinigung ausstellen;Personalausweis oder Reisepass;10;
"""


def keys(app, tenant: str) -> dict[str, str]:
    with in_tenant(app, tenant):
        return {s.slug: s.leika_key for s in db.session.scalars(select(Service))}


def test_a_district_catalogue_is_seeded_from_a_leika_list_and_the_towns_inherit_it(app, tmp_path, steinfurt):
    source = tmp_path / "leika.csv"
    source.write_text(CSV, encoding="utf-8")
    done = app.test_cli_runner().invoke(args=["tenants", "import-catalogue", "kreis-steinfurt", str(source)])
    assert done.exit_code == 0, done.output
    assert "meldebescheinigung-ausstellen (99088015001000) added" in done.output
    district = keys(app, "kreis-steinfurt")
    assert district["personalausweis"] == "99102013001000"
    assert district["meldebescheinigung-ausstellen"] == "99088015001000"
    assert keys(app, "steinfurt")["personalausweis"] == "99102013001000"  # inherited at once
    assert keys(app, "emsdetten")["meldebescheinigung-ausstellen"] == "99088015001000"
    services = {s["slug"]: s for s in steinfurt.get("/api/v1/services").get_json()}
    assert services["personalausweis"]["leika_key"] == "99102013001000"
    assert services["reisepass"]["leika_key"] is None
    with app.app_context(), all_tenants():
        district_row = db.session.scalar(select(Tenant).where(Tenant.slug == "kreis-steinfurt"))
        with in_tenant(app, "kreis-steinfurt"):
            exported = {s["slug"]: s for s in export_tenant(district_row)["services"]}
    assert exported["personalausweis"]["leika_key"] == "99102013001000"
    # Importing again changes nothing.
    again = app.test_cli_runner().invoke(args=["tenants", "import-catalogue", "kreis-steinfurt", str(source)])
    assert again.exit_code == 0 and "0 change(s)." in again.output


def test_a_bad_list_changes_nothing_and_says_which_row(app, tmp_path):
    source = tmp_path / "leika.json"
    source.write_text(json.dumps([{"leika_key": "99102013001000", "name": "Gut"},
                                  {"leika_key": "9910201300", "name": "Zu kurz"},
                                  {"leika_key": "9910201300100X", "name": ""}]), encoding="utf-8")
    before = keys(app, "kreis-steinfurt")
    done = app.test_cli_runner().invoke(args=["tenants", "import-catalogue", "kreis-steinfurt", str(source)])
    assert done.exit_code == 1
    assert "row 2: leika_key '9910201300' is not 14 digits" in done.output
    assert "row 3" in done.output and "Nothing was changed." in done.output
    assert keys(app, "kreis-steinfurt") == before
    town = app.test_cli_runner().invoke(args=["tenants", "import-catalogue", "steinfurt", str(source)])
    assert town.exit_code == 1 and "no district" in town.output


def test_tenants_sync_validates_the_key(app, tmp_path):
    folder = tmp_path / "tenants"
    shutil.copytree(ROOT / "tenants", folder)
    path = folder / "kreis-steinfurt" / "tenant.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["services"][0]["leika_key"] = "12345"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    bad = app.test_cli_runner().invoke(args=["tenants", "sync", str(folder)])
    assert bad.exit_code == 1 and "14 digits" in bad.output
    doc["services"][0]["leika_key"] = "99102013001000"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    good = app.test_cli_runner().invoke(args=["tenants", "sync", str(folder)])
    assert good.exit_code == 0, good.output
    slug = doc["services"][0]["slug"]
    assert keys(app, "kreis-steinfurt")[slug] == "99102013001000"
    assert keys(app, "steinfurt")[slug] == "99102013001000"
