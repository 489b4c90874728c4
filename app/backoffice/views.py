"""Every back-office page module, imported so their URL rules land on `bp`."""
from app.backoffice import (  # noqa: F401
    admin_mail,
    admin_offices,
    admin_services,
    admin_settings,
    admin_users,
    admin_webhooks,
    audit_log,
    auth,
    blocking,
    booking,
    day,
    district,
    emergencies,
    queue_desk,
    statistics,
    headers,
)
