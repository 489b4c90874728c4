"""Processes as district IT runs them: readiness, the unit files, and a rolling upgrade —
the previous release's code still serves on the schema the new release migrated to."""
from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app import ROOT, create_app
from tests.conftest import _migrate, make_app, needs_pg

def test_ready_when_the_database_is_at_this_codes_migration(app):
    resp = app.test_client().get("/readyz", headers={"Host": "10.0.0.7"})  # by address, as a load balancer calls it
    assert resp.status_code == 200
    assert resp.get_json()["database"] == "ok" and resp.get_json()["schema"] == "ok"


def test_not_ready_before_the_migration_and_ready_after_a_newer_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "MAIL_DIR": str(tmp_path / "m")})
    client = fresh.test_client()
    empty = client.get("/readyz", headers={"Host": "lb"})
    assert empty.status_code == 503 and empty.get_json()["schema"] == "empty"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(64) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('0008')"))
    behind = client.get("/readyz", headers={"Host": "lb"})
    assert behind.status_code == 503 and behind.get_json()["schema"] == "behind"
    with engine.begin() as conn:  # a newer release migrated first (the upgrade order): still ready
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_a_later_release'"))
    assert client.get("/readyz", headers={"Host": "lb"}).status_code == 200
    engine.dispose()


def test_the_unit_files_start_what_the_repository_has():
    units = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {"amtstermin-web.service", "amtstermin-worker@.service"}
    for unit in units:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.read(unit)
        start = parser["Service"]["ExecStart"].split()
        assert start[0].startswith("/opt/amtstermin/.venv/bin/")
        if "-c" in start:
            assert (ROOT / start[start.index("-c") + 1]).is_file()
        assert start[-1] in ("wsgi:app", "worker")


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _head_and_parent() -> tuple[str, str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    script = ScriptDirectory.from_config(cfg)
    [head] = script.get_heads()
    return head, script.get_revision(head).down_revision


def _heads_at(commit: str) -> set[str]:
    """The migration heads of the tree at `commit` (read with git, not imported)."""
    lines = subprocess.run(["git", "grep", "-h", "-E", r"^(down_)?revision = ", commit, "--", "migrations/versions"],
                           cwd=ROOT, capture_output=True, text=True).stdout.splitlines()
    revisions = {line.split("=", 1)[1].strip().strip("'\"") for line in lines if line.startswith("revision")}
    downs = {line.split("=", 1)[1].strip().strip("'\"") for line in lines if line.startswith("down_revision")}
    return revisions - downs


def _previous_release(parent_revision: str) -> str:
    """The newest commit whose migrations end one step before ours: the release being upgraded."""
    for commit in _git("rev-list", "--first-parent", "--max-count=200", "HEAD").split():
        if _heads_at(commit) == {parent_revision}:
            return commit
    pytest.fail(f"no commit with {parent_revision} as its newest migration in the last 200")


OLD_RELEASE_SMOKE = r"""
import json, sys
import app as package
from app import create_app
app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "REDIS_URL": None, "HOST_CACHE_SECONDS": 0})
c = app.test_client()
h = {"Host": "steinfurt.localhost"}
out = {"code_from": package.__file__}
out["services"] = c.get("/api/v1/services", headers=h).status_code
import datetime
week = datetime.date.today() + datetime.timedelta(days=7)
slots = c.get(f"/api/v1/services/personalausweis/slots?from={week}&to={week + datetime.timedelta(days=7)}", headers=h)
out["slots"] = slots.status_code
made = c.post("/api/v1/appointments", headers=h, json={"service": "personalausweis",
              "start": slots.get_json()["slots"][0]["start"],
              "name": "Erika Mustermann", "email": "erika@example.org"})
out["book"] = made.status_code
token = made.get_json().get("manage_token", "")
out["get"] = c.get(f"/api/v1/appointments/{token}", headers=h).status_code
out["cancel"] = c.delete(f"/api/v1/appointments/{token}", headers=h).status_code
print("RESULT " + json.dumps(out))
"""


@needs_pg
def test_the_previous_release_runs_on_the_schema_of_the_newest_migration(pg_url, tmp_path):
    """Zero-downtime upgrade: migrate first, then restart web and workers one by one.
    Meanwhile the old code serves on the new schema; here it books, reads and cancels."""
    if _git("rev-parse", "--is-inside-work-tree") != "true":
        pytest.fail("the repository's history is needed to check out the previous release")
    head, parent = _head_and_parent()
    previous = _previous_release(parent)
    old = tmp_path / "previous-release"
    old.mkdir()
    archive = subprocess.run(["git", "archive", previous], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    assert head not in " ".join(p.read_text() for p in (old / "migrations" / "versions").glob("*.py"))

    make_app(pg_url, tmp_path)  # the new code: schema at the newest migration, demo tenants synced
    _migrate(pg_url, tmp_path)  # (already at head: a no-op, as `flask db upgrade` twice is)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "AMTSTERMIN_"))}
    env.update(DATABASE_URL=pg_url, AMTSTERMIN_INSTANCE=str(tmp_path / "old-instance"), MAIL_URL="console",
               PYTHONPATH=str(old))
    done = subprocess.run([sys.executable, "-c", OLD_RELEASE_SMOKE], cwd=old, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]  # logs share stdout
    result = json.loads(line.removeprefix("RESULT "))
    assert result.pop("code_from").startswith(str(old))
    assert result == {"services": 200, "slots": 200, "book": 201, "get": 200, "cancel": 204}
