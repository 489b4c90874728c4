"""Fair access for online bookings (issue 16): with the tenant setting `altcha` on, an
online booking needs a solved proof-of-work challenge (CONTRACT §5.3). Scripts pay for
every attempt; a person's phone solves it in the background in a moment.

A citizen without JavaScript cannot solve it: their booking is held until they confirm it
from the mail, as in confirm-by-e-mail mode, so nobody is shut out."""
from __future__ import annotations

from app.proof_of_work import ProofOfWorkError, verify

MESSAGES = {
    "missing": "a solved proof-of-work challenge is needed: GET /api/v1/altcha, solve it, send it as 'altcha'",
    "invalid": "the proof-of-work solution is not valid",
    "expired": "the proof-of-work challenge has expired; fetch a new one",
    "reused": "this proof-of-work challenge was already used; fetch a new one",
}


def proof_required(tenant) -> bool:
    return bool(tenant.settings.get("altcha"))


def admit_online(tenant, payload: str | None, *, may_hold: bool) -> bool:
    """May this online booking stand at once? True without the setting or with a valid,
    unused solution (spent in the caller's transaction); False when none was given and the
    booking may instead be held until confirmed by mail. Raises ProofOfWorkError for a
    refused solution, or for a missing one where holding is no option (the API)."""
    if not proof_required(tenant):
        return True
    if not payload and may_hold:
        return False
    verify(payload)
    return True


__all__ = ["MESSAGES", "ProofOfWorkError", "admit_online", "proof_required"]
