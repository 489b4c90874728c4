"""Onboarding one town: what district IT's form on /admin/district/onboard and
`flask tenants create` both call. The town comes from the district's template
(sync.create_town); its first admin, when one is named, gets the invitation mail."""
from __future__ import annotations

from app.accounts.invitations import send_invitation
from app.extensions import db
from app.onboarding.sync import create_town
from app.tenancy.models import Tenant


def onboard_town(slug: str, name: str, district_slug: str, domain: str | None = None, *, address: str = "",
                 phone: str = "", email: str = "", hours: str = "", office_hours: list[dict] | None = None,
                 admin_email: str | None = None, invited_by=None) -> Tenant:
    """A new draft town under `district_slug`; with `admin_email`, that person is invited as
    its admin, the mail signed by the district and `invited_by` (a User) in the town's audit
    log. SyncError or AccountError name what is wrong; the caller commits."""
    town = create_town(slug, name, district_slug, domain, address=address, phone=phone, email=email, hours=hours,
                       office_hours=office_hours)
    if admin_email is not None:
        send_invitation(town, admin_email, "admin", sender=town.parent.name, invited_by=invited_by)
    return town


def template_office_hours(district_id: int) -> list[dict]:
    """The opening hours a new town of this district starts with, as its template gives them
    ([] when the template names none: create_town's default applies)."""
    office = (db.session.get(Tenant, district_id).template or {}).get("office") or {}
    return office.get("hours") or []
