"""Backups that restore: the database is everything (nothing lives on local disk in
production), so a backup is one `pg_dump` and a restore one `pg_restore`, followed by
the migrations' check. SQLite (the embedded default) is copied with its backup API.

The password never goes on a command line (other users see those): it is handed to the
PostgreSQL tools in PGPASSWORD.
"""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from functools import lru_cache
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from app import ROOT


class BackupError(RuntimeError):
    """Said to the operator as it is; nothing was written to the target."""


def _libpq(url: str | URL) -> tuple[str, dict]:
    """A libpq URL without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    bare = parsed.set(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False), env


def _major(version_text: str) -> int:
    """15 of "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"."""
    m = re.search(r"\(PostgreSQL\)\s+(\d+)", version_text)
    if not m:
        raise BackupError(f"cannot read a version from {version_text!r}")
    return int(m.group(1))


def server_major(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    finally:
        engine.dispose()


def client_major(tool: str = "pg_dump") -> int:
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout
    except FileNotFoundError as exc:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)") from exc
    return _major(out)


def check_client(url: str, tool: str = "pg_dump") -> None:
    """pg_dump refuses servers newer than itself; say so before anything is written."""
    client, server = client_major(tool), server_major(url)
    if client < server:
        raise BackupError(f"{tool} {client} is older than the PostgreSQL server ({server}); "
                          f"install the client tools of version {server} or newer")


def backup(url: str, output: Path) -> Path:
    """Write a full backup of the database at `url` to `output`."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if make_url(url).get_backend_name() == "sqlite":
        _copy_sqlite(make_url(url).database, str(output))
        return output
    check_client(url, "pg_dump")
    dsn, env = _libpq(url)
    done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(output),
                           "--dbname", dsn], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        output.unlink(missing_ok=True)
        raise BackupError("pg_dump failed: " + done.stderr.strip()[-500:])
    return output


def _copy_sqlite(source_path: str, target_path: str) -> None:
    """A consistent copy of a SQLite database, taken with SQLite's online backup API."""
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def restore(dump: Path, url: str) -> None:
    """Restore `dump` into the empty database at `url`, in one transaction: all or nothing."""
    if make_url(url).get_backend_name() == "sqlite":
        target = Path(make_url(url).database)
        if target.exists() and target.stat().st_size:
            raise BackupError(f"{target} exists; restore into a new file")
        _copy_sqlite(str(dump), str(target))
        return
    check_client(url, "pg_restore")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")).scalar()
    finally:
        engine.dispose()
    if tables:
        raise BackupError("the target database is not empty; restore into a freshly created one")
    dsn, env = _libpq(url)
    done = subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                           "--dbname", dsn, str(dump)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError("pg_restore failed: " + done.stderr.strip()[-500:])


def check(url: str, metadata) -> list[str]:
    """What is wrong with the schema at `url`: not at the newest migration, or not what
    the models expect. Empty when the restored database is ready to serve."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    problems = []
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, reflected, compare_to: not (name or "").startswith("ex_"),
            })
            current = set(ctx.get_current_heads())
            if current != heads:
                problems.append(f"migration {', '.join(sorted(current)) or 'none'} is not the newest "
                                f"({', '.join(sorted(heads))}); run flask db upgrade")
            else:
                problems.extend(f"schema differs from the models: {d}" for d in compare_metadata(ctx, metadata))
    finally:
        engine.dispose()
    return problems


def schema_state(connection) -> str:
    """'ok' when the database is at this code's newest migration or past it (a newer
    release migrated first, as an upgrade does), 'behind' when it still needs
    `flask db upgrade`, 'empty' when it was never migrated."""
    known, heads = _revisions()
    current = set(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return "empty"
    if current - known:
        return "ok"  # a revision this code does not know: a newer release's, additive by our rule
    return "ok" if current == heads else "behind"


@lru_cache(maxsize=1)
def _revisions() -> tuple[frozenset, frozenset]:
    """Every revision this code ships, and its heads (read once per process)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    script = ScriptDirectory.from_config(cfg)
    return frozenset(rev.revision for rev in script.walk_revisions()), frozenset(script.get_heads())
