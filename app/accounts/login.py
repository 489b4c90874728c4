"""A back-office login attempt, step by step: throttle, proof of work, password, then
(where needed) the second factor. The views translate the outcome to HTTP."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app import clock
from app.accounts import second_factor, sessions, throttle
from app.accounts.auth import role_in
from app.accounts.models import User
from app.accounts.service import verify_password
from app.audit.models import record
from app.extensions import db
from app.mail.outbox import queue_message
from app.proof_of_work import ProofOfWorkError, verify as verify_proof_of_work
from app.tenancy.resolve import TenantInfo
from app.tenancy.scope import all_tenants
from app.urls import tenant_url

FAILURES_TEXT = """Guten Tag,

für Ihren Zugang zum Back Office von {tenant} gab es in den letzten 24 Stunden {count} fehlgeschlagene
Anmeldeversuche.

Waren Sie das nicht, versucht vielleicht jemand, Ihr Passwort zu erraten. Ihr Zugang ist nicht gesperrt:
jeder weitere Versuch muss warten und eine Rechenaufgabe lösen, und ohne Ihr Passwort kommt niemand hinein.
Wenn Sie unsicher sind, ändern Sie bitte Ihr Passwort ({login}) und sagen Sie Ihrer Administration Bescheid.

Mit freundlichen Grüßen
Ihre Online-Terminvergabe"""


@dataclass
class Attempt:
    """The outcome: `status` is 'ok', 'wrong', 'wait' or 'proof_of_work'."""

    status: str
    user: User | None = None
    role: str | None = None
    wait_seconds: int = 0
    needs_proof_of_work: bool = False


def attempt(email: str, password: str, address: str, tenant: TenantInfo, proof: str | None) -> Attempt:
    """Check one attempt; a failure is counted (the caller commits either way)."""
    verdict = throttle.assess(email, address)
    if verdict.refused:
        return Attempt("wait", wait_seconds=verdict.wait_seconds, needs_proof_of_work=verdict.needs_proof_of_work)
    if verdict.needs_proof_of_work:
        try:
            verify_proof_of_work(proof)
        except ProofOfWorkError:
            return Attempt("proof_of_work", needs_proof_of_work=True)
    with all_tenants():
        user = db.session.scalar(select(User).where(User.email == email)) if email else None
    ok = verify_password(user, password)  # the same work for an unknown user
    role = role_in(user.id, tenant) if ok and user.active else None
    if not role:
        failures = fail(email, address, user, tenant)
        return Attempt("wrong", needs_proof_of_work=failures >= throttle.POW_AFTER)
    return Attempt("ok", user=user, role=role)


def fail(email: str, address: str, user: User | None, tenant: TenantInfo) -> int:
    """Count a failed password or second-factor code; mail the owner when it piles up."""
    failures = throttle.record_failure(email, address)
    if user is not None and user.active and throttle.should_notify(failures):
        body = FAILURES_TEXT.format(tenant=tenant.name, count=failures, login=tenant_url(tenant, "backoffice.password"))
        queue_message(tenant.id, "login_failures", user.email,
                      f"Fehlgeschlagene Anmeldeversuche – Back Office {tenant.name}", body)
    return failures


def succeeded(email: str) -> None:
    throttle.forget(email)


def needs_second_factor(user: User, role: str, tenant: TenantInfo) -> bool:
    """Enrolled users always give a code; required roles enrol first."""
    return second_factor.enrolled(user) or second_factor.required_for(role, tenant.settings)


def second_step(user: User, code: str, address: str, tenant: TenantInfo) -> Attempt:
    """The second factor's code after the right password: 'wait' while this account and
    address are throttled, 'wrong' (counted like a wrong password), or 'ok' (the throttle
    forgets the account; a recovery code used is audited). The caller commits."""
    refused = throttle.assess(user.email, address)
    if refused.refused:
        return Attempt("wait", wait_seconds=refused.wait_seconds)
    with all_tenants():
        kind = second_factor.check(user, code)
    if kind is None:
        fail(user.email, address, user, tenant)
        return Attempt("wrong")
    succeeded(user.email)
    if kind == "recovery":
        record("recovery_code_used", "user", user.id, actor=user.email, user_id=user.id)
    return Attempt("ok", user=user)


def logged_in(user: User, user_agent: str | None) -> str:
    """A login completed (password, second factor or the office's identity provider): its
    server-side session opened, the user's last login noted. Returns the session token."""
    token = sessions.open_session(user.id, user_agent)
    with all_tenants():
        user.last_login_at = clock.now()
    return token
