"""Kiosk links: a tablet at the entrance opens a signed link an admin created for one
office. No citizen logs in; the link is the device's key. Raising the office's
`kiosk_version` makes every earlier link of the office invalid (a lost tablet)."""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from app.extensions import db
from app.offices.models import Office
from app.queue.models import OfficeQueue

SALT = "amtstermin-kiosk"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def kiosk_token(setup: OfficeQueue) -> str:
    return _serializer().dumps({"t": setup.tenant_id, "o": setup.office_id, "v": setup.kiosk_version})


def office_of_token(token: str, tenant_id: int) -> Office | None:
    """The office a kiosk token is for, if it is genuine, of this tenant and not revoked."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("t") != tenant_id:
        return None
    office = db.session.get(Office, data.get("o")) if isinstance(data.get("o"), int) else None
    if office is None or office.tenant_id != tenant_id:
        return None
    setup = db.session.query(OfficeQueue).filter(OfficeQueue.office_id == office.id).one_or_none()
    if setup is None or not setup.enabled or setup.kiosk_version != data.get("v"):
        return None
    return office


def revoke(setup: OfficeQueue) -> None:
    setup.kiosk_version += 1
    db.session.flush()
