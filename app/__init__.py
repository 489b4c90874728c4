"""Amtstermin: online appointments for a district and its towns, one tenant each."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    instance = os.environ.get("AMTSTERMIN_INSTANCE") or str(ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=instance,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "app" / "static"),
    )
    Path(instance).mkdir(parents=True, exist_ok=True)

    from app.config import load_config

    app.config.update(load_config(instance, overrides))
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    from app import logs
    from app.ops import metrics

    logs.init_app(app)
    metrics.init_app(app)

    from app.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)

    from app import models  # noqa: F401  (registers every model with the metadata)
    from app.webhooks import outbox  # noqa: F401  (writes webhook deliveries for appointment events)
    from app.accounts import auth  # noqa: F401  (the user loader)
    from app.tenancy import resolve

    resolve.init_app(app)
    from app.publishing import gate

    gate.init_app(app)  # after the tenant is resolved: what a draft's citizens see

    from app.jobs import due

    due.init_app(app)

    from app.ratelimit import configure as configure_limits
    from app.ratelimit import limiter

    configure_limits(app)
    from app.i18n import init_app as init_i18n

    limiter.init_app(app)
    init_i18n(app)

    from app import errors
    from app.api import bp as api_bp
    from app.backoffice import bp as backoffice_bp
    from app.citizen import bp as citizen_bp
    from app.health import bp as health_bp

    from app.ops.views import bp as ops_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    app.register_blueprint(backoffice_bp)
    app.register_blueprint(citizen_bp)
    from app.booking.confirm_page import bp as confirm_bp

    app.register_blueprint(confirm_bp)  # confirm-by-e-mail links
    errors.init_app(app)
    from app import security_headers

    security_headers.init_app(app)
    from app import faults

    faults.init_app(app)  # a read whose connection broke runs once more on a fresh one

    from app.cli import register_cli

    register_cli(app)
    return app
