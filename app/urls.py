"""Absolute links on a tenant's host, built from a route's name (as pretix's
`eventreverse`): for mails, jobs, API answers and the CLI, inside a request or not.

Inside a request for the same tenant the link keeps the host the citizen used (a custom
domain, or with the port in development); otherwise it is `<slug>.<BASE_DOMAIN>`."""
from __future__ import annotations

from typing import Any

from flask import current_app, g, has_request_context, request


def tenant_host(tenant: Any) -> str:
    """`scheme://host` of a tenant (a TenantInfo, a Tenant or a slug)."""
    slug = tenant if isinstance(tenant, str) else tenant.slug
    cfg = current_app.config
    current = g.get("tenant") if has_request_context() else None
    if current is not None and current.slug == slug:
        host = request.host.lower().rstrip(".")
    else:
        host = f"{slug}.{cfg['BASE_DOMAIN']}"
        if cfg.get("PUBLIC_PORT"):
            host = f"{host}:{cfg['PUBLIC_PORT']}"
    return f"{cfg['PUBLIC_URL_SCHEME']}://{host}"


def tenant_url(tenant: Any, endpoint: str, **values: Any) -> str:
    """The absolute URL of route `endpoint` on `tenant`'s host; values the route does not
    take become the query string."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return tenant_host(tenant) + path
