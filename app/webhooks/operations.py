"""What an admin does with the tenant's webhook endpoints. Plain functions; the caller commits."""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from app.booking.events import EVENTS
from app.extensions import db
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.signing import new_secret


class WebhookSetupError(ValueError):
    """Said to the admin as it is."""


def check_url(url: str, *, allow_http: bool) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname or len(url) > 500 or parts.username or parts.password:
        raise WebhookSetupError("Bitte eine vollständige Adresse mit https:// angeben (ohne Zugangsdaten darin)."
                                if not allow_http else
                                "Bitte eine vollständige Adresse mit http:// oder https:// angeben.")
    return url


def add_endpoint(tenant_id: int, url: str, events: list[str] | None = None, *, allow_http: bool = False,
                 secret: str | None = None) -> WebhookEndpoint:
    """A new endpoint with its own secret; `events` empty or None means every event."""
    wanted = [e for e in (events or []) if e]
    unknown = sorted(set(wanted) - set(EVENTS))
    if unknown:
        raise WebhookSetupError(f"Unbekannte Ereignisse: {', '.join(unknown)}")
    endpoint = WebhookEndpoint(tenant_id=tenant_id, url=check_url(url, allow_http=allow_http),
                               secret=secret or new_secret(), events=[e for e in EVENTS if e in wanted])
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def switch(endpoint: WebhookEndpoint, active: bool) -> None:
    endpoint.active = active
    db.session.flush()


def remove(endpoint: WebhookEndpoint) -> None:
    db.session.delete(endpoint)  # its deliveries go with it (ON DELETE CASCADE)
    db.session.flush()


def endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def recent_deliveries(limit: int = 50) -> list[WebhookDelivery]:
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)))
