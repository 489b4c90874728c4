"""Input checks every surface shares (citizen forms, API schema, back office, accounts):
one e-mail pattern, one phone pattern and its normalised key, one date parser and one for a start, and the error that carries
problems per field."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone, tzinfo

# No spaces, no quotes or list separators (a pasted "Name <a@b.de>; c@d.de" is refused),
# a dot in the domain and a top-level part of two letters or more.
EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]{2,}$")
MAX_EMAIL = 254
# Digits with the usual separators: "+49 2551 69-0", "(02551) 1234", "0171/555 12 34".
PHONE = re.compile(r"^[0-9+()/ .\-–]{5,40}$")


class Invalid(ValueError):
    """Problems per field, in words for the form."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def is_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL and bool(EMAIL.match(value))


def is_phone(value: str) -> bool:
    return bool(PHONE.match(value))


def phone_key(value: str) -> str:
    """The line a number reaches, for the per-phone cap: separators do not count, and the
    country code +49 / 0049 is the same line as the leading 0 ("+49 171 555-1234" is
    "01715551234"). Other country codes keep their 00 prefix. Empty for no number."""
    raw = (value or "").strip()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+"):
        digits = "00" + digits
    if digits.startswith("0049"):
        digits = "0" + digits[4:]
    return digits


def parse_date(value: str | None) -> date | None:
    """A calendar day written YYYY-MM-DD; None for anything else (empty included)."""
    if not value or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_start(value: str | None, local_zone: tzinfo | None = None) -> datetime | None:
    """A start as a link or a slot list carries it, ISO 8601, in UTC; None for anything else.
    A '+' that a form or a hand turned into a space is put back. Without an offset the time
    is read in `local_zone` (the citizen's links), or refused when none is given (the back
    office posts the slot lists' own values)."""
    if not value or len(value) > 40:
        return None
    try:
        start = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        return None
    if start.tzinfo is None:
        if local_zone is None:
            return None
        start = start.replace(tzinfo=local_zone)
    return start.astimezone(timezone.utc)
