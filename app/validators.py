"""Input checks every surface shares (citizen forms, API schema, back office, accounts):
one e-mail pattern, one phone pattern and its normalised key, one date parser, and the error that carries
problems per field."""
from __future__ import annotations

import re
from datetime import date

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
