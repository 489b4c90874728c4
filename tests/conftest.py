"""Fixtures: every test that takes `app` runs on SQLite and, with TEST_DATABASE_URL, on
PostgreSQL. The schema is built by the migrations, never by create_all."""
from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import JSON, create_engine, event, null, select, text

from app import ROOT, clock, create_app
from app.extensions import db

BERLIN = ZoneInfo("Europe/Berlin")
PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")

# argon2id, but cheap: the suite hashes hundreds of passwords; the production parameters are
# tested once (tests/test_backoffice_auth.py), and a hash carries its own, so either verifies.
TEST_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}

needs_pg = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set: PostgreSQL test skipped")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set: Redis test skipped")


def _pg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "MAIL_DIR": str(instance / "mail")})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("sqlite")
    url = f"sqlite:///{folder / 'test.db'}"
    _migrate(url, folder)
    return url


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory) -> str:
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL test skipped")
    url = _pg_url(PG_URL)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    _migrate(url, tmp_path_factory.mktemp("pg"))
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    """The database of the test; each test runs once per database."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


def _empty(app) -> None:
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL ROLE NONE"))  # TRUNCATE is the owner's, not the app role's
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    if name == "tenants":  # towns before their district
                        conn.execute(text("DELETE FROM tenants WHERE parent_id IS NOT NULL"))
                    conn.execute(text(f"DELETE FROM {name}"))


# The demo as the first sync of this run wrote it, per database: the rows of every table and
# the sequences. Each later test gets it back by plain INSERTs (a few statements instead of the
# sync's ~700); tests/test_fixtures.py checks it equals a fresh sync, row by row.
_DEMO: dict[str, dict] = {}


def _as_owner(conn) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL ROLE NONE"))  # the owner sees and writes every tenant's rows


def demo_snapshot(conn) -> dict:
    rows = {}
    for table in db.metadata.sorted_tables:
        found = [dict(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()]
        if found:
            rows[table.name] = found
    sequences = {}
    if conn.dialect.name == "postgresql":
        sequences = dict(conn.execute(text(
            "SELECT sequencename, last_value FROM pg_sequences"
            " WHERE schemaname = current_schema() AND last_value IS NOT NULL")).all())
    return {"rows": rows, "sequences": sequences}


def _restore(conn, demo: dict) -> None:
    # The sync stamped rows with clock.now() (created_at, updated_at): they are moved to end
    # at this moment of the app's clock (a test may have moved it), as if synced just now.
    shift = clock.now() - demo["synced"][1]
    for table in db.metadata.sorted_tables:
        found = demo["rows"].get(table.name)
        if found:
            json_columns = [c.name for c in table.columns if isinstance(c.type, JSON)]
            rows = []
            for row in found:
                row = {k: v + shift if isinstance(v, datetime) and demo["synced"][0] <= v <= demo["synced"][1] else v
                       for k, v in row.items()}
                # SQL NULL stays NULL (a plain None would be written as JSON 'null').
                rows.append({**row, **{c: null() for c in json_columns if row[c] is None}})
            conn.execute(table.insert(), rows)
    for name, value in demo["sequences"].items():
        conn.execute(text("SELECT setval(:name, :value)"), {"name": name, "value": value})


def _load_demo(app, url: str) -> None:
    if url in _DEMO:
        with app.app_context(), db.engine.begin() as conn:
            _as_owner(conn)
            _restore(conn, _DEMO[url])
        return
    from app.onboarding.sync import sync_folder
    from app.transaction import commit

    with app.app_context():
        started = clock.now()
        sync_folder(ROOT / "tenants")
        commit()
        with db.engine.begin() as conn:
            _as_owner(conn)
            _DEMO[url] = {**demo_snapshot(conn), "synced": (started, clock.now())}


def make_app(url: str, tmp_path: Path, *, demo: bool = True, **config):
    settings = {
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "MAIL_URL": "console", "MAIL_DIR": str(tmp_path / "mail"),
        "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False, "REDIS_URL": None, "HOST_CACHE_SECONDS": 0,
        "PUBLIC_PORT": None, "PASSWORD_HASH_PARAMETERS": TEST_HASH,
    }
    settings.update(config)
    app = create_app(settings)
    _empty(app)
    from app.scheduling import cache as slot_cache
    from app.tenancy.resolve import host_cache

    host_cache.clear()
    slot_cache.clear()  # ids and versions start again in the emptied database
    from app import shared_cache

    shared_cache.reset()
    if app.config.get("REDIS_URL"):  # the shared answers and versions of an earlier test
        from redis.exceptions import ConnectionError as RedisDown

        with app.app_context():
            r = shared_cache.client()
            try:
                for key in r.scan_iter(shared_cache.PREFIX + "*"):
                    r.delete(key)
            except RedisDown:  # a test of Redis being away
                shared_cache.reset()
    if demo:
        _load_demo(app, url)
    return app


def close(app) -> None:
    from app.jobs.queue import wait_for_background

    wait_for_background()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    yield app
    close(app)


@pytest.fixture
def pg_app(pg_url, tmp_path):
    app = make_app(pg_url, tmp_path)
    yield app
    close(app)


class HostClient:
    """A test client that sends every request to one tenant host."""

    def __init__(self, app, host: str):
        self.app = app
        self.host = host
        self.client = app.test_client()

    def _h(self, kw):
        headers = dict(kw.pop("headers", {}) or {})
        headers.setdefault("Host", self.host)
        kw["headers"] = headers
        return kw

    def _done(self, response):
        # Mail and webhooks go out in a background thread after the commit (no Redis in
        # tests): a test sees what a request sent once the request is answered.
        from app.jobs.queue import wait_for_background

        wait_for_background()
        return response

    def get(self, path, **kw):
        return self._done(self.client.get(path, **self._h(kw)))

    def post(self, path, **kw):
        return self._done(self.client.post(path, **self._h(kw)))

    def patch(self, path, **kw):
        return self._done(self.client.patch(path, **self._h(kw)))

    def delete(self, path, **kw):
        return self._done(self.client.delete(path, **self._h(kw)))


@pytest.fixture
def steinfurt(app) -> HostClient:
    return HostClient(app, "steinfurt.localhost")


@pytest.fixture
def emsdetten(app) -> HostClient:
    return HostClient(app, "emsdetten.localhost")


@pytest.fixture
def host_client():
    return HostClient


@pytest.fixture
def fixed_now(monkeypatch):
    """Freeze app.clock.now at a given moment: fixed_now(datetime)."""

    def freeze(moment: datetime):
        from app import clock

        monkeypatch.setattr(clock, "now", lambda: moment)
        return moment

    return freeze


def next_weekday(weekday: int, *, after_days: int = 7, start: date | None = None) -> date:
    """A working day (Mon=0) at least `after_days` ahead that is no NRW holiday or demo closure."""
    from app.scheduling.calendar import is_holiday

    day = (start or datetime.now(BERLIN).date()) + timedelta(days=after_days)
    while day.weekday() != weekday or is_holiday("NW", day) or (day.month, day.day) in ((12, 24), (12, 31)):
        day += timedelta(days=1)
    return day


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=BERLIN)


def iso(dt: datetime) -> str:
    return dt.isoformat()


def mails(app) -> list:
    """The .eml files the console transport wrote, parsed, oldest first (once the
    in-process mail jobs queued so far are done)."""
    import email
    from email import policy

    from app.jobs.queue import wait_for_background

    wait_for_background()

    folder = Path(app.config["MAIL_DIR"])
    if not folder.exists():
        return []
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]


def count_rows(app, table: str) -> int:
    """Rows of every tenant (row-level security shows none without a scope)."""
    from app.tenancy.scope import all_tenants

    with app.app_context(), all_tenants():
        return db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


_ = (timezone,)


@contextmanager
def counted(app):
    """The SQL statements the app sends while the block runs, whitespace folded to one space."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _uses_browser(item) -> bool:
    return "chromium" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(session, config, items):
    """The browser modules last, in their order: one Chromium serves them all
    (tests/browser.py), and no other test runs while Playwright's event loop is up."""
    browser_modules = {getattr(item, "module", None) for item in items if _uses_browser(item)}
    items.sort(key=lambda item: getattr(item, "module", None) in browser_modules)  # stable: the order stays within each part


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Chromium is closed once no further test wants it."""
    try:
        return (yield)
    finally:
        if nextitem is None or not _uses_browser(nextitem):
            close_browser()


# The browser fixtures, for every test module (tests/browser.py imports make_app from here,
# so this import comes last).
from tests.browser import chromium, close_browser, new_page, server, site  # noqa: E402,F401
