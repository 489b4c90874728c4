"""The district overview's key figures per town: upcoming appointments, bookings of the last
seven days, open emergency requests (read live, across the towns named)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.booking.models import ACTIVE_STATUSES, Appointment, EmergencyRequest
from app.extensions import db
from app.tenancy.scope import all_tenants


def key_figures(tenant_ids: list[int]) -> dict[int, dict[str, int]]:
    """{tenant id: {"upcoming", "week", "open_requests"}}, zero where nothing counts."""
    now = clock.now()
    figures = {tid: {"upcoming": 0, "week": 0, "open_requests": 0} for tid in tenant_ids}
    counts = {
        "upcoming": select(Appointment.tenant_id, func.count()).where(
            Appointment.tenant_id.in_(tenant_ids), Appointment.status.in_(ACTIVE_STATUSES),
            Appointment.starts_at > now).group_by(Appointment.tenant_id),
        "week": select(Appointment.tenant_id, func.count()).where(
            Appointment.tenant_id.in_(tenant_ids), Appointment.created_at > now - timedelta(days=7))
        .group_by(Appointment.tenant_id),
        "open_requests": select(EmergencyRequest.tenant_id, func.count()).where(
            EmergencyRequest.tenant_id.in_(tenant_ids), EmergencyRequest.status == "open")
        .group_by(EmergencyRequest.tenant_id),
    }
    with all_tenants():
        for key, query in counts.items():
            for tid, n in db.session.execute(query):
                figures[tid][key] = n
    return figures
