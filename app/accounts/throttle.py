"""Login throttling that slows guessing down without locking anyone out.

Every failed back-office login is a row in `login_failures` (hashes of the e-mail
address tried and of the client address, never either in clear), so every web process
sees the same counts, with or without Redis.

- Per account, a growing wait: from the 3rd failure in a day, the next attempt *from an
  address that failed on this account* waits 1, 2, 4 … at most 30 seconds. An address that
  has not failed on the account (the clerk at her desk while someone guesses from
  elsewhere) does not wait — the wait slows the guesser, not the owner.
- Per account, proof of work: from the 5th failure, every attempt needs a solved ALTCHA
  challenge (about half a second of the browser's work), wherever it comes from.
- Per client address (a town hall's clerks share one public address): proof of work from
  30 failures in 15 minutes, a refusal only from 300 — far beyond what a town hall types.
- The account's owner is told by mail at the 5th, 20th and 100th failure.

A successful login forgets the account's failures.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select

from app import clock
from app.accounts.models import LoginFailure
from app.extensions import db

ACCOUNT_WINDOW = timedelta(hours=24)
DELAY_AFTER = 3  # failures before the wait starts
MAX_DELAY_SECONDS = 30
POW_AFTER = 5  # account failures after which every attempt needs proof of work
NOTIFY_AT = (5, 20, 100)  # failures at which the owner gets a mail
ADDRESS_WINDOW = timedelta(minutes=15)
ADDRESS_POW_AFTER = 30
ADDRESS_MAX_FAILURES = 300


def _hash(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value.strip().lower()}".encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """What a login attempt must do before its password is even checked."""

    wait_seconds: int = 0  # > 0: refused, try again after this many seconds
    needs_proof_of_work: bool = False

    @property
    def refused(self) -> bool:
        return self.wait_seconds > 0


def delay_for(failures: int) -> int:
    """Seconds an address that failed must wait after the account's `failures`-th failure."""
    if failures < DELAY_AFTER:
        return 0
    return min(2 ** (failures - DELAY_AFTER), MAX_DELAY_SECONDS)


def assess(email: str, address: str) -> Verdict:
    now = clock.now()
    email_h, address_h = _hash("account", email), _hash("address", address)
    account = db.session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.email_hash == email_h, LoginFailure.at > now - ACCOUNT_WINDOW)) or 0
    by_address = db.session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.address_hash == address_h, LoginFailure.at > now - ADDRESS_WINDOW)) or 0
    if by_address >= ADDRESS_MAX_FAILURES:
        oldest = db.session.scalar(select(func.min(LoginFailure.at)).where(
            LoginFailure.address_hash == address_h, LoginFailure.at > now - ADDRESS_WINDOW))
        wait = math.ceil((oldest + ADDRESS_WINDOW - now).total_seconds()) if oldest else 60
        return Verdict(wait_seconds=max(wait, 1), needs_proof_of_work=True)
    wait = 0
    delay = delay_for(account)
    if delay:
        last_here = db.session.scalar(select(func.max(LoginFailure.at)).where(
            LoginFailure.email_hash == email_h, LoginFailure.address_hash == address_h,
            LoginFailure.at > now - ACCOUNT_WINDOW))
        if last_here is not None:
            wait = max(0, math.ceil((last_here + timedelta(seconds=delay) - now).total_seconds()))
    return Verdict(wait_seconds=wait,
                   needs_proof_of_work=account >= POW_AFTER or by_address >= ADDRESS_POW_AFTER)


def record_failure(email: str, address: str) -> int:
    """Count a failed attempt; returns the account's failures in the window, this one included."""
    now = clock.now()
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < now - ACCOUNT_WINDOW))
    email_h = _hash("account", email)
    db.session.add(LoginFailure(email_hash=email_h, address_hash=_hash("address", address), at=now))
    db.session.flush()
    return db.session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.email_hash == email_h, LoginFailure.at > now - ACCOUNT_WINDOW)) or 0


def should_notify(failures: int) -> bool:
    return failures in NOTIFY_AT


def forget(email: str) -> None:
    """A successful login: the account starts afresh (the address keeps its count)."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.email_hash == _hash("account", email)))
