"""The fixtures' shortcut: after the first test of a run, make_app gives a test the demo by
INSERTing the rows the first sync wrote (tests/conftest.py _DEMO) instead of syncing the
tenant files again. It must be the very database a sync would leave: every column of every
row, compared as text (so SQL NULL and JSON null differ), every sequence — and the rows'
clock stamps (created_at, updated_at) of the moment of the test, as a sync would write them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text, cast, select, text

from app import ROOT, clock
from app.extensions import db
from app.onboarding.sync import sync_folder
from app.transaction import commit
from tests.conftest import _DEMO, _as_owner, _empty, close, make_app


def _everything(app, since: datetime, until: datetime) -> dict:
    """Every row as text; a clock stamp in [since, until] as "now"."""
    found = {}
    with app.app_context(), db.engine.begin() as conn:
        _as_owner(conn)
        for table in db.metadata.sorted_tables:
            columns = [c if isinstance(c.type, DateTime) or isinstance(getattr(c.type, "impl", None), DateTime)
                       else cast(c, Text) for c in table.columns]
            rows = conn.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            found[table.name] = [tuple("now" if isinstance(v, datetime) and since <= v <= until else v for v in row)
                                 for row in rows]
        if conn.dialect.name == "postgresql":
            found["sequences"] = conn.execute(text(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()"
                " ORDER BY sequencename")).all()
    return found


def test_the_demo_a_test_gets_is_the_one_a_fresh_sync_writes(database_url, tmp_path):
    if database_url not in _DEMO:  # the first make_app of the run syncs; the second restores
        close(make_app(database_url, tmp_path))
    first_sync = _DEMO[database_url]["synced"]
    started = clock.now() - (first_sync[1] - first_sync[0])  # the stamps keep their spacing
    app = make_app(database_url, tmp_path)
    restored = _everything(app, started, clock.now())
    assert len(restored["tenants"]) == 3 and len(restored["services"]) > 10
    assert "now" in restored["tenants"][0]  # the stamps are the test's, not the first sync's
    _empty(app)
    with app.app_context():
        started = clock.now()
        sync_folder(ROOT / "tenants")
        commit()
    assert _everything(app, started, clock.now()) == restored
    close(app)
