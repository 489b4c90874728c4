"""Words the back office uses for tenants: German status names, a slug from a name."""
from __future__ import annotations

import re
import unicodedata

STATUS_LABELS = {"draft": "Entwurf", "pilot": "Pilot", "live": "Live", "disabled": "Abgeschaltet"}
# Words before a town's proper name that do not belong in its subdomain.
_KINDS = ("gemeinde", "stadt", "kreis", "hansestadt", "kreisstadt", "samtgemeinde", "markt")


def suggest_slug(name: str) -> str:
    """'Gemeinde Altenberge' → 'altenberge', 'Stadt Hörstel' → 'hoerstel', 'Bad Bentheim' → 'bad-bentheim'."""
    text = (name or "").strip().lower()
    for word in _KINDS:
        if text.startswith(word + " "):
            text = text[len(word) + 1:]
            break
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:63].strip("-")
