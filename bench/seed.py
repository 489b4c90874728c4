"""The benchmark's own database: reset, migrate, import the demo tenants, seed the rush.

Bulk data goes in with plain SQL (COPY, INSERT … SELECT generate_series), never row by
row through the ORM; the overlap guard (the exclusion constraint) stays on throughout.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import psycopg
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import ROOT, create_app
from app.catalog.models import Service
from app.extensions import db
from app.onboarding.sync import create_town, sync_folder
from app.scheduling.slots import Policy, Schedule
from app.tenancy.models import Tenant
from app.tenancy.resolve import tenant_info
from app.tenancy.scope import all_tenants, tenant_scope
from app.transaction import commit

SEED_SERVICE = "fuehrungszeugnis"  # 10 minutes: one appointment per counter and 10-minute slot
SLOT = timedelta(minutes=10)


def plain_url(url: str) -> str:
    """libpq form of a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def reset_database(server_url: str, name: str) -> str:
    """Drop and create database `name`; returns its SQLAlchemy URL."""
    if not name.startswith("amtstermin_bench"):
        raise SystemExit(f"refusing to drop database {name!r}: its name must start with 'amtstermin_bench'")
    with psycopg.connect(plain_url(server_url.rstrip("/")) + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rstrip("/") + "/" + name


def make_app(url: str, instance: str):
    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "MAIL_URL": "console", "MAIL_DIR": f"{instance}/mail",
        "REDIS_URL": None, "SWEEPER_THREAD": False, "RATELIMIT_ENABLED": False,
    })


def migrate_and_sync(app) -> None:
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        sync_folder(ROOT / "tenants")
        commit()


class Town:
    """Ids of the benchmarked tenant's office, counters and services."""

    def __init__(self, app, slug: str):
        with app.app_context(), db.engine.connect() as conn:
            self.tenant_id = conn.execute(text("SELECT id FROM tenants WHERE slug = :s"), {"s": slug}).scalar_one()
            svc = {r.slug: r for r in conn.execute(text(
                "SELECT slug, id, office_id, duration_minutes FROM services WHERE tenant_id = :t"),
                {"t": self.tenant_id})}
        self.slug = slug
        self.services = svc

    def counters(self, app, office_id: int) -> list[int]:
        with app.app_context(), db.engine.connect() as conn:
            return list(conn.execute(text(
                "SELECT id FROM counters WHERE tenant_id = :t AND office_id = :o AND active ORDER BY position, id"),
                {"t": self.tenant_id, "o": office_id}).scalars())

    def entrance(self, app, office_id: int) -> int | None:
        with app.app_context(), db.engine.connect() as conn:
            return conn.execute(text(
                "SELECT id FROM entrances WHERE tenant_id = :t AND office_id = :o ORDER BY position, id LIMIT 1"),
                {"t": self.tenant_id, "o": office_id}).scalar()


def set_setting(app, slug: str, key: str, value) -> None:
    with app.app_context(), all_tenants():
        t = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        t.settings = {**(t.settings or {}), key: value}
        commit()


def local_today(tz_name: str = "Europe/Berlin") -> date:
    return datetime.now(ZoneInfo(tz_name)).date()


@dataclass
class Rush:
    db_url: str
    app: object
    town: Town
    today: date
    full_until: date
    n_full: int
    n_past: int


def seed_rush(server_url: str, db_name: str, instance: str, slug: str, past: int) -> Rush:
    """A fresh database (dropped first) with the demo tenants and `slug`'s rush: every
    counter booked solid for the first four calendar weeks of an eight-week horizon, plus
    `past` past appointments; analysed."""
    db_url = reset_database(server_url, db_name)
    app = make_app(db_url, instance)
    migrate_and_sync(app)
    set_setting(app, slug, "horizon_days", 56)
    town = Town(app, slug)
    today = local_today()
    full_until = today + timedelta(days=6 - today.weekday() + 21)  # Sunday of the fourth calendar week
    n_full = seed_full(app, town, today, full_until)
    n_past = seed_past(app, town, past)
    analyze(app)
    return Rush(db_url, app, town, today, full_until, n_full, n_past)


def seed_full(app, town: Town, first_day: date, last_day: date) -> int:
    """Book every counter of the office solid, in 10-minute appointments, on every open
    minute of the days first_day..last_day (holidays and closures respected). They count as
    reminded already, so the jobs worker's sweeper has no reminders to work through."""
    seed = town.services[SEED_SERVICE]
    office_id = seed.office_id
    counters = town.counters(app, office_id)
    entrance = town.entrance(app, office_id)
    rows = []
    with app.app_context(), tenant_scope(town.tenant_id):
        policy = Policy.of(tenant_info(town.tenant_id))
        svc = db.session.get(Service, seed.id)
        schedule = Schedule(svc, policy, first_day, last_day)
        if sorted(schedule.counter_ids) != sorted(counters):
            raise SystemExit(f"seed service {SEED_SERVICE} is not served by all counters {counters}")
        now = datetime.now(timezone.utc)
        day = first_day
        n = 0
        while day <= last_day:
            for cid, spans in schedule.open_spans(day).items():
                for s, e in spans:
                    t = s
                    while t + SLOT.total_seconds() <= e:
                        n += 1
                        start = datetime.fromtimestamp(t, timezone.utc)
                        rows.append((town.tenant_id, f"F-{n:07d}", f"bench-future-{n:09d}", seed.id, office_id, cid,
                                     entrance, start, start + SLOT, "booked", "phone", "Seed Citizen",
                                     f"seed{n}@example.org", "", "", 1, "de", False, "", 0, now, now, now))
                        t += SLOT.total_seconds()
            day += timedelta(days=1)
        db.session.rollback()
    cols = ("tenant_id, code, manage_token, service_id, office_id, counter_id, entrance_id, starts_at, ends_at, "
            "status, source, name, email, phone, note, persons, lang, overbooked, overbook_reason, sequence, "
            "created_at, updated_at, reminder_sent_at")
    with psycopg.connect(plain_url(app.config["SQLALCHEMY_DATABASE_URI"])) as conn:
        with conn.cursor().copy(f"COPY appointments ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return len(rows)


def seed_past(app, town: Town, upto: int, already: int = 0) -> int:
    """Completed, anonymised appointments back to back on every counter, 24 hours a day,
    ending the day before yesterday, so that `upto` past ones are stored in all.
    Returns how many were inserted."""
    seed = town.services[SEED_SERVICE]
    counters = town.counters(app, seed.office_id)
    entrance = town.entrance(app, seed.office_id)
    per_counter_lo = already // len(counters)
    per_counter_hi = upto // len(counters)
    if per_counter_hi <= per_counter_lo:
        return 0
    base = datetime.combine(local_today() - timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
    sql = """
        INSERT INTO appointments (tenant_id, code, manage_token, service_id, office_id, counter_id, entrance_id,
            starts_at, ends_at, status, source, name, email, phone, note, persons, lang, overbooked,
            overbook_reason, sequence, anonymized_at, created_at, updated_at)
        SELECT %(t)s, 'P' || c.pos || '-' || g, 'bench-past-' || c.pos || '-' || g, %(svc)s, %(office)s, c.id,
            %(ent)s, %(base)s - g * interval '10 minutes', %(base)s - (g - 1) * interval '10 minutes',
            'completed', 'online', '', '', '', '', 1, 'de', false, '', 0, %(base)s,
            %(base)s - g * interval '10 minutes' - interval '14 days', %(base)s
        FROM unnest(%(counters)s::int[]) WITH ORDINALITY AS c(id, pos),
             generate_series(%(lo)s::int, %(hi)s::int) AS g
    """
    with psycopg.connect(plain_url(app.config["SQLALCHEMY_DATABASE_URI"])) as conn:
        cur = conn.execute(sql, {"t": town.tenant_id, "svc": seed.id, "office": seed.office_id, "ent": entrance,
                                 "base": base, "counters": counters, "lo": per_counter_lo + 1,
                                 "hi": per_counter_hi})
        inserted = cur.rowcount
    # VACUUM too: otherwise autovacuum takes this table on in the middle of the measurements.
    analyze(app, vacuum=True)
    return inserted


def db_activity(app) -> dict:
    """Counters of the server's background writing: checkpoints so far (timed and
    requested), the WAL position, and autovacuum workers on this database right now."""
    with psycopg.connect(plain_url(app.config["SQLALCHEMY_DATABASE_URI"]), autocommit=True) as conn:
        timed, req = conn.execute("SELECT checkpoints_timed, checkpoints_req FROM pg_stat_bgwriter").fetchone()
        lsn = conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0]
        vac = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND backend_type = 'autovacuum worker'").fetchone()[0]
    return {"checkpoints": int(timed) + int(req), "wal_bytes": int(lsn), "autovacuum": int(vac)}


def settle(app, timeout: float = 120.0) -> dict:
    """After a bulk change, before measuring: write its dirty pages out now (CHECKPOINT)
    instead of during the samples, and wait (bounded) until no autovacuum worker runs on
    this database. Returns what it took: {checkpoint_s, waited_s, autovacuum_seen}."""
    url = plain_url(app.config["SQLALCHEMY_DATABASE_URI"])
    t0 = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        checkpoint_s = time.monotonic() - t0
        seen = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND backend_type = 'autovacuum worker'").fetchone()[0]
            if not running:
                break
            seen = max(seen, running)
            time.sleep(0.5)
    return {"checkpoint_s": checkpoint_s, "waited_s": time.monotonic() - t0 - checkpoint_s, "autovacuum_seen": seen}


def analyze(app, vacuum: bool = False) -> None:
    with psycopg.connect(plain_url(app.config["SQLALCHEMY_DATABASE_URI"]), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")


def add_towns(app, count: int, parent: str = "kreis-steinfurt", prefix: str = "benchtown") -> float:
    """Onboard `count` towns from the district template in one transaction; returns seconds."""
    t0 = time.monotonic()
    with app.app_context():
        for i in range(count):
            create_town(f"{prefix}-{i + 1:03d}", f"Benchstadt {i + 1}", parent)
        commit()
    return time.monotonic() - t0


def count_rows(app, sql: str, **params) -> int:
    with psycopg.connect(plain_url(app.config["SQLALCHEMY_DATABASE_URI"])) as conn:
        return conn.execute(sql, params or None).fetchone()[0]


# Every pair of active, not explicitly overbooked appointments of one counter that
# overlap, each pair once: b starts within [a.start, a.end) (ties broken by id), which
# holds for one order of every overlapping pair and keeps it an index range scan.
DOUBLE_BOOKINGS_SQL = """
SELECT count(*) FROM appointments a
JOIN appointments b
  ON b.tenant_id = a.tenant_id AND b.counter_id = a.counter_id AND b.id <> a.id
 AND b.starts_at >= a.starts_at AND b.starts_at < a.ends_at
 AND (b.starts_at > a.starts_at OR b.id > a.id)
WHERE a.status <> 'cancelled' AND NOT a.overbooked
  AND b.status <> 'cancelled' AND NOT b.overbooked
"""


def double_bookings(app) -> int:
    return count_rows(app, DOUBLE_BOOKINGS_SQL)


def booked_at(app, email_like: str) -> dict[str, float]:
    """The bookings whose address matches: e-mail address → when the appointment was
    created (epoch seconds, the app's clock at the insert)."""
    with psycopg.connect(plain_url(app.config["SQLALCHEMY_DATABASE_URI"])) as conn:
        return {email.lower(): float(at) for email, at in conn.execute(
            "SELECT email, extract(epoch FROM created_at) FROM appointments WHERE email LIKE %(e)s",
            {"e": email_like})}


def pending_mail(app, email_like: str) -> list[int]:
    """Outbox rows still to be sent for the bookings whose address matches, oldest first."""
    with psycopg.connect(plain_url(app.config["SQLALCHEMY_DATABASE_URI"])) as conn:
        return [r[0] for r in conn.execute(
            "SELECT o.id FROM outbox_mails o JOIN appointments a ON a.id = o.appointment_id "
            "WHERE a.email LIKE %(e)s AND o.status = 'pending' ORDER BY o.id", {"e": email_like})]


def delete_bench_bookings(app, email_like: str = "bench-%@example.org") -> int:
    """Remove what the booking scenario created (and its outbox mail), so the next
    scenario sees the seeded calendar again."""
    with psycopg.connect(plain_url(app.config["SQLALCHEMY_DATABASE_URI"])) as conn:
        ids = "SELECT id FROM appointments WHERE email LIKE %(e)s"
        conn.execute(f"DELETE FROM outbox_mails WHERE appointment_id IN ({ids})", {"e": email_like})
        n = conn.execute("DELETE FROM appointments WHERE email LIKE %(e)s", {"e": email_like}).rowcount
    analyze(app, vacuum=True)
    return n


def remove_towns(app, prefix: str = "benchtown") -> int:
    """Delete the towns add_towns created (everything of theirs goes with them)."""
    with psycopg.connect(plain_url(app.config["SQLALCHEMY_DATABASE_URI"])) as conn:
        n = conn.execute("DELETE FROM tenants WHERE slug LIKE %(p)s", {"p": f"{prefix}-%"}).rowcount
    analyze(app)
    return n


def remove_past(app, town: Town, keep: int) -> int:
    """Delete the past appointments seed_past added beyond the first `keep`."""
    counters = town.counters(app, town.services[SEED_SERVICE].office_id)
    base = datetime.combine(local_today() - timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
    cutoff = base - (keep // len(counters)) * SLOT
    with psycopg.connect(plain_url(app.config["SQLALCHEMY_DATABASE_URI"])) as conn:
        n = conn.execute("DELETE FROM appointments WHERE tenant_id = %(t)s AND manage_token LIKE 'bench-past-%%' "
                         "AND starts_at < %(c)s", {"t": town.tenant_id, "c": cutoff}).rowcount
    analyze(app, vacuum=True)
    return n

