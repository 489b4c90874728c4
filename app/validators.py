"""Input checks every surface shares (citizen form, API schema, back office, accounts):
one e-mail pattern, one phone pattern, and the error that carries problems per field."""
from __future__ import annotations


class Invalid(ValueError):
    """Problems per field, in words for the form."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
