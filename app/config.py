"""Configuration from the environment (CONTRACT §2)."""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    env = os.environ
    overrides = overrides or {}
    testing = bool(overrides.get("TESTING"))
    # Production: said explicitly, or served by gunicorn (the production server).
    declared = env.get("AMTSTERMIN_ENV", "").strip().lower()
    production = declared == "production" or (not declared and "gunicorn" in sys.modules and not testing)
    base_domain = env.get("BASE_DOMAIN", "localhost").strip().lower().rstrip(".")
    secret = env.get("SECRET_KEY")
    if not secret:
        if declared == "production":
            raise RuntimeError("SECRET_KEY must be set in production (AMTSTERMIN_ENV=production)")
        if production:
            print("warning: SECRET_KEY is not set; using this instance's development key", file=sys.stderr)
        secret = _dev_secret(instance_path)
    scheme = env.get("PUBLIC_URL_SCHEME") or ("https" if production else "http")
    cfg = {
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")
        or f"sqlite:///{Path(instance_path) / 'amtstermin.db'}",
        "REDIS_URL": env.get("REDIS_URL") or None,
        "MAIL_URL": env.get("MAIL_URL", "console"),
        "MAIL_FROM": env.get("MAIL_FROM") or f"termine@{base_domain}",
        "BASE_DOMAIN": base_domain,
        "SECRET_KEY": secret,
        "PUBLIC_URL_SCHEME": scheme,
        # Port in links built outside a request (reminders from a worker), development only.
        "PUBLIC_PORT": env.get("PUBLIC_PORT") or (None if production else env.get("PORT", "5000")),
        "SWEEPER_THREAD": not testing,
        # Reverse proxies in front (nginx: 1): the client's address and scheme are then read
        # from X-Forwarded-For / -Proto as set by them, for rate limits and links.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES") or 0),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "FASTPATH": _bool(env.get("FASTPATH"), True),  # app/fastpath.py
        "PRODUCTION": production,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # PostgreSQL: the role without BYPASSRLS the app acts as (SET ROLE on connect), so
        # row-level security holds even when the login owns the tables (app/tenancy/rls.py).
        "DATABASE_ROLE": env.get("DATABASE_ROLE") or None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": scheme == "https",
        "API_MAX_BODY": 64 * 1024,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
        "WTF_CSRF_TIME_LIMIT": None,
        "HOST_CACHE_SECONDS": 2.0,
        "MAIL_DIR": str(Path(instance_path) / "mail"),
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # Comma-separated CIDRs whose scrapes need no token (e.g. the monitoring host).
        "METRICS_NETWORKS": [n.strip() for n in env.get("METRICS_NETWORKS", "").split(",") if n.strip()],
    }
    cfg.update(overrides)
    _postgres_timeouts(cfg, int(env.get("DB_LOCK_TIMEOUT_MS") or 2000))
    if testing:
        cfg.setdefault("SESSION_COOKIE_SECURE", False)
    return cfg


def _postgres_timeouts(cfg: dict, lock_timeout_ms: int) -> None:
    """PostgreSQL: a statement waiting for a lock (a migration, VACUUM FULL) gives up
    after `lock_timeout_ms` and the request answers 503; connecting gives up after 5 s."""
    if not str(cfg["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        return
    options = dict(cfg["SQLALCHEMY_ENGINE_OPTIONS"])
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("connect_timeout", 5)
    connect_args.setdefault("options", f"-c lock_timeout={lock_timeout_ms}")
    options["connect_args"] = connect_args
    options.setdefault("pool_pre_ping", True)
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _dev_secret(instance_path: str) -> str:
    """A random key per development instance, kept so sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        return key
