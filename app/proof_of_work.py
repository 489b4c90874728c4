"""Proof of work instead of a captcha: ALTCHA challenges (the `altcha` package, v1
format: algorithm, challenge, salt, signature, maxnumber), solved in the browser by the
widget we serve from app/static/altcha/.

A challenge is signed with a key derived from SECRET_KEY, carries its expiry inside
its salt, and is accepted once: the first valid solution marks it spent in the database
(`spent_challenges`), which every web process shares. The mark is part of the caller's
transaction: if the caller rolls back (nothing was done), the challenge may be used again.

Used by the back-office login after repeated failures; the booking API (CONTRACT §5.3)
can use the same two functions.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import parse_qs

from altcha import create_challenge_v1, solve_challenge_v1, verify_solution_v1
from flask import current_app
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import clock
from app.accounts.models import SpentChallenge
from app.extensions import db

ALGORITHM = "SHA-256"
# About half a second of a phone's work on average; a guesser pays it for every try.
MAX_NUMBER = 100_000
VALID_FOR = timedelta(minutes=10)


class ProofOfWorkError(ValueError):
    """Why a solution was refused: 'missing', 'invalid', 'expired' or 'reused'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, b"amtstermin proof of work", hashlib.sha256).digest()


def new_challenge(max_number: int = MAX_NUMBER, valid_for: timedelta = VALID_FOR) -> dict:
    """A fresh challenge as the widget fetches it (JSON)."""
    challenge = create_challenge_v1(algorithm=ALGORITHM, max_number=max_number, hmac_key=_key(),
                                    expires=clock.now() + valid_for)
    return {"algorithm": challenge.algorithm, "challenge": challenge.challenge, "maxnumber": challenge.max_number,
            "maxNumber": challenge.max_number, "salt": challenge.salt, "signature": challenge.signature}


def _decode(payload: str) -> dict | None:
    try:
        data = json.loads(base64.b64decode(payload, validate=True).decode())
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def verify(payload: str | None) -> None:
    """Accept a solved challenge once; raises ProofOfWorkError otherwise."""
    if not payload:
        raise ProofOfWorkError("missing")
    if len(payload) > 2000:
        raise ProofOfWorkError("invalid")
    data = _decode(payload)
    if data is None or not isinstance(data.get("salt"), str) or not isinstance(data.get("challenge"), str):
        raise ProofOfWorkError("invalid")
    ok, _error = verify_solution_v1(data, _key(), check_expires=False)
    if not ok:
        raise ProofOfWorkError("invalid")
    # The expiry is part of the signed salt; read against app.clock (the library would ask
    # the system clock, which a frozen test clock or a job's notion of now does not move).
    expires = _expires(data["salt"])
    if expires is None or expires <= clock.now().timestamp():
        raise ProofOfWorkError("expired")
    _spend(data["challenge"])


def _expires(salt: str) -> float | None:
    values = parse_qs(salt.partition("?")[2]).get("expires") or [""]
    try:
        return float(values[0])
    except ValueError:
        return None


def _spend(challenge: str) -> None:
    now = clock.now()
    session = db.session
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(delete(SpentChallenge).where(SpentChallenge.expires_at < now))
    fresh = session.scalar(insert(SpentChallenge).values(challenge=challenge[:128], expires_at=now + VALID_FOR)
                           .on_conflict_do_nothing(index_elements=["challenge"])
                           .returning(SpentChallenge.challenge))
    if fresh is None:
        raise ProofOfWorkError("reused")


def solve(challenge: dict) -> str:
    """The widget's work, in Python: for tests and scripts (a real client solves in the browser)."""

    solution = solve_challenge_v1(challenge["challenge"], challenge["salt"], challenge["algorithm"],
                                  challenge["maxnumber"], 0)
    payload = {"algorithm": challenge["algorithm"], "challenge": challenge["challenge"], "number": solution.number,
               "salt": challenge["salt"], "signature": challenge["signature"]}
    return base64.b64encode(json.dumps(payload).encode()).decode()
