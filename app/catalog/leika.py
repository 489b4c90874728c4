"""Federal service keys (LeiKa: 14 digits per service) and the import of a district's
catalogue from a list of them — CSV (`;`, a header row: leika_key;name;documents…) or
JSON (a list of objects with the same keys). Documents in a CSV cell are separated by
`|`. Entries are matched by key first, then by slug; the towns follow at once."""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from pathlib import Path

from sqlalchemy import select

from app.catalog.inheritance import refresh_children
from app.catalog.models import Service
from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scope import tenant_scope

KEY = re.compile(r"^\d{14}$")
DEFAULT_MINUTES = 15


class CatalogueError(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def valid_key(value: str) -> bool:
    return bool(KEY.match(value or ""))


def slugify(name: str) -> str:
    text = name.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:63] or "dienstleistung"


def read_catalogue(path: Path) -> list[dict]:
    raw = Path(path).read_text(encoding="utf-8-sig")
    if Path(path).suffix.lower() == ".json":
        rows = json.loads(raw)
        if not isinstance(rows, list):
            raise CatalogueError(["the JSON file must hold a list of services"])
        return rows
    dialect = csv.Sniffer().sniff(raw.splitlines()[0], delimiters=";,\t") if raw.strip() else csv.excel
    rows = list(csv.DictReader(io.StringIO(raw), dialect=dialect))
    for row in rows:
        docs = row.get("documents") or ""
        row["documents"] = [d.strip() for d in docs.split("|") if d.strip()]
        if row.get("duration_minutes"):
            row["duration_minutes"] = row["duration_minutes"].strip()
    return rows


def _clean(rows: list[dict]) -> list[dict]:
    errors, out, seen = [], [], set()
    for i, row in enumerate(rows, start=1):
        key = str(row.get("leika_key") or "").strip()
        name = str(row.get("name") or "").strip()
        if not valid_key(key):
            errors.append(f"row {i}: leika_key {key!r} is not 14 digits")
        if not name or len(name) > 200:
            errors.append(f"row {i}: a name (at most 200 characters) is needed")
        if key in seen:
            errors.append(f"row {i}: leika_key {key} twice")
        seen.add(key)
        docs = row.get("documents") or []
        if not isinstance(docs, list) or not all(isinstance(d, str) and 0 < len(d) <= 500 for d in docs):
            errors.append(f"row {i}: documents must be a list of texts")
        try:
            minutes = int(row.get("duration_minutes") or DEFAULT_MINUTES)
        except (TypeError, ValueError):
            minutes = -1
        if not 5 <= minutes <= 480:
            errors.append(f"row {i}: duration_minutes must be 5 to 480")
        out.append({"leika_key": key, "name": name, "documents": docs, "duration_minutes": minutes,
                    "slug": str(row.get("slug") or "").strip() or slugify(name),
                    "description": str(row.get("description") or "").strip()})
    if errors:
        raise CatalogueError(errors)
    return out


def import_catalogue(district: Tenant, rows: list[dict]) -> list[str]:
    """Create or update the district's catalogue entries from `rows`; all or nothing.
    Flushes; the caller commits."""
    if district.kind != "district":
        raise CatalogueError([f"{district.slug} is no district; only a district holds the catalogue"])
    entries = _clean(rows)
    changes = []
    with tenant_scope(district.id):
        services = list(db.session.scalars(select(Service)))
        by_key = {s.leika_key: s for s in services if s.leika_key}
        by_slug = {s.slug: s for s in services}
        last = max((s.position for s in services), default=0)
        for entry in entries:
            svc = by_key.get(entry["leika_key"]) or by_slug.get(entry["slug"])
            if svc is None:
                last += 1
                svc = Service(tenant_id=district.id, slug=entry["slug"], shared=True, inherited=False,
                              overridden=[], position=last, name=entry["name"], leika_key=entry["leika_key"],
                              documents=entry["documents"], duration_minutes=entry["duration_minutes"],
                              description=entry["description"])
                db.session.add(svc)
                by_slug[svc.slug] = svc
                changes.append(f"{district.slug}: service {svc.slug} ({entry['leika_key']}) added to the catalogue")
                continue
            changed = False
            for field in ("name", "leika_key", "documents", "duration_minutes", "description"):
                if field == "description" and not entry[field]:
                    continue
                if getattr(svc, field) != entry[field]:
                    setattr(svc, field, entry[field])
                    changed = True
            if not svc.shared:
                svc.shared = changed = True
            if changed:
                changes.append(f"{district.slug}: service {svc.slug} ({entry['leika_key']}) updated")
        db.session.flush()
    return changes + refresh_children(district)
