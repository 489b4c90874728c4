"""The application factory: configuration, extensions, tenant resolution, background
work, rate limits, languages, blueprints, error answers and the command line."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import ROOT, errors, fastpath, faults, logs, security_headers
from app.tenancy import rls
from app import models  # noqa: F401  (registers every model with the metadata)
from app.accounts import auth  # noqa: F401  (the user loader)
from app.api import bp as api_bp
from app.backoffice import bp as backoffice_bp
from app.citizen import bp as citizen_bp
from app.citizen.confirm import bp as confirm_bp
from app.cli import register_cli
from app.config import load_config
from app.extensions import csrf, db, login_manager, migrate
from app.health import bp as health_bp
from app.i18n import init_app as init_i18n
from app.jobs import due
from app.ops import metrics
from app.ops.views import bp as ops_bp
from app.publishing import gate
from app.ratelimit import configure as configure_limits
from app.ratelimit import limiter
from app.tenancy import resolve
from app.webhooks import outbox  # noqa: F401  (writes webhook deliveries for appointment events)


def create_app(overrides: dict | None = None) -> Flask:
    instance = os.environ.get("AMTSTERMIN_INSTANCE") or str(ROOT / "instance")
    app = Flask(
        "app",
        instance_path=instance,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "app" / "static"),
    )
    Path(instance).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(instance, overrides))
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    logs.init_app(app)
    metrics.init_app(app)
    db.init_app(app)
    rls.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    resolve.init_app(app)
    gate.init_app(app)  # after the tenant is resolved: what a draft's citizens see
    due.init_app(app)
    configure_limits(app)
    limiter.init_app(app)
    init_i18n(app)

    app.register_blueprint(health_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    app.register_blueprint(backoffice_bp)
    app.register_blueprint(citizen_bp)
    app.register_blueprint(confirm_bp)  # confirm-by-e-mail links
    errors.init_app(app)
    security_headers.init_app(app)
    faults.init_app(app)  # a read whose connection broke runs once more on a fresh one
    fastpath.install(app)  # last: in front of all of the above, answering cached reads it can
    register_cli(app)
    return app
