"""Staff sign-in with the town's identity provider (OpenID Connect authorization code
flow with PKCE and a nonce; Authlib as the client, joserfc for the ID token).

The provider says who someone is and, through one claim (groups, app roles), what they
may do: the role mapped from it is written to the user's membership on every sign-in,
so a clerk removed from the group at the town loses the back office at the next sign-in.
A tenant may switch local passwords off; then only its provider signs its staff in.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from app import clock
from app.accounts.identity import ExternalIdentity, IdentityProvider
from app.accounts.models import ROLES, Membership, User
from app.extensions import db
from app.tenancy.scope import all_tenants

SESSION_ID_TOKEN = "oidc_id_token"  # kept in the session for the logout at the provider
RANK = {role: i for i, role in enumerate(ROLES)}  # staff < admin < district-it
HTTP_TIMEOUT = 10


class SignInError(Exception):
    """The sign-in did not work out; the message is for the page (German)."""


@dataclass(frozen=True)
class Started:
    url: str
    state: dict  # kept in the session until the provider sends the user back


def provider_of(tenant_id: int) -> IdentityProvider | None:
    with all_tenants():
        return db.session.scalar(select(IdentityProvider).where(IdentityProvider.tenant_id == tenant_id))


def local_passwords_allowed(tenant_id: int) -> bool:
    provider = provider_of(tenant_id)
    return provider is None or provider.local_passwords


class _Metadata:
    """Each provider's discovery document and keys, kept for five minutes per process."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, dict, KeySet]] = {}
        self._lock = threading.Lock()

    def get(self, issuer: str, *, refresh: bool = False) -> tuple[dict, KeySet]:
        hit = self._cache.get(issuer)
        if hit and not refresh and time.monotonic() - hit[0] < 300:
            return hit[1], hit[2]
        try:
            meta = requests.get(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT)
            meta.raise_for_status()
            doc = meta.json()
            keys = requests.get(doc["jwks_uri"], timeout=HTTP_TIMEOUT)
            keys.raise_for_status()
            keyset = KeySet.import_key_set(keys.json())
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise SignInError("Der Anmeldedienst der Verwaltung ist gerade nicht erreichbar. "
                              "Bitte versuchen Sie es gleich noch einmal.") from exc
        with self._lock:
            self._cache[issuer] = (time.monotonic(), doc, keyset)
        return doc, keyset

    def clear(self) -> None:
        self._cache.clear()


metadata = _Metadata()


def _client(provider: IdentityProvider, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(provider.client_id, provider.client_secret, scope=provider.scopes,
                         redirect_uri=redirect_uri, code_challenge_method="S256")


def start(provider: IdentityProvider, redirect_uri: str, next_path: str) -> Started:
    """Where to send the browser, and what to keep for the way back."""
    doc, _ = metadata.get(provider.issuer)
    verifier = generate_token(48)
    nonce = generate_token(24)
    client = _client(provider, redirect_uri)
    url, state = client.create_authorization_url(doc["authorization_endpoint"], nonce=nonce, code_verifier=verifier)
    return Started(url, {"state": state, "nonce": nonce, "verifier": verifier, "next": next_path,
                         "issuer": provider.issuer})


def finish(provider: IdentityProvider, redirect_uri: str, kept: dict | None, args: dict) -> tuple[dict, str]:
    """Exchange the code, verify the ID token; the verified claims and the raw ID token."""
    if not kept or kept.get("issuer") != provider.issuer or args.get("state") != kept.get("state"):
        raise SignInError("Die Anmeldung ist abgelaufen oder wurde in einem anderen Fenster begonnen. "
                          "Bitte melden Sie sich erneut an.")
    if args.get("error"):
        raise SignInError("Der Anmeldedienst hat die Anmeldung abgelehnt.")
    doc, keyset = metadata.get(provider.issuer)
    client = _client(provider, redirect_uri)
    try:
        token = client.fetch_token(doc["token_endpoint"], code=args.get("code", ""), code_verifier=kept["verifier"],
                                   timeout=HTTP_TIMEOUT)
    except Exception as exc:  # authlib raises OAuthError, requests its own: both mean no sign-in
        raise SignInError("Der Anmeldedienst hat die Anmeldung nicht bestätigt.") from exc
    raw = token.get("id_token")
    if not raw:
        raise SignInError("Der Anmeldedienst hat keinen Ausweis (ID-Token) geschickt.")
    claims = verify_id_token(raw, keyset, issuer=doc.get("issuer", provider.issuer), client_id=provider.client_id,
                             nonce=kept["nonce"])
    if provider.role_claim not in claims or "email" not in claims:
        claims = {**_userinfo(client, doc, token), **claims}
    return claims, raw


def verify_id_token(raw: str, keyset: KeySet, *, issuer: str, client_id: str, nonce: str) -> dict:
    try:
        decoded = jwt.decode(raw, keyset)
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer}, aud={"essential": True, "value": client_id},
                              nonce={"essential": True, "value": nonce}, exp={"essential": True},
                              sub={"essential": True}, leeway=60).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise SignInError("Der Ausweis (ID-Token) des Anmeldedienstes ist ungültig.") from exc
    return dict(decoded.claims)


def _userinfo(client: OAuth2Session, doc: dict, token: dict) -> dict:
    if not doc.get("userinfo_endpoint"):
        return {}
    try:
        resp = client.get(doc["userinfo_endpoint"], timeout=HTTP_TIMEOUT)
        resp.raise_for_status()
        return resp.json()
    except (requests.RequestException, ValueError):
        return {}


def mapped_role(provider: IdentityProvider, claims: dict, tenant_kind: str) -> str | None:
    """The highest role any value of the role claim maps to; district-it only on a district."""
    values = claims.get(provider.role_claim)
    if isinstance(values, str):
        values = [values]
    roles = [provider.role_map.get(str(v)) for v in values or []]
    roles = [r for r in roles if r in RANK and (r != "district-it" or tenant_kind == "district")]
    return max(roles, key=RANK.__getitem__) if roles else None


def sign_in(provider: IdentityProvider, tenant, claims: dict) -> tuple[User, str]:
    """The back-office user for these verified claims, with the role the provider gives
    them on `tenant` (created on first sign-in). Raises SignInError without a role.
    Flushes; the caller commits."""
    role = mapped_role(provider, claims, tenant.kind)
    if role is None:
        raise SignInError("Ihr Dienstkonto hat keine Berechtigung für das Back Office dieser Verwaltung. "
                          "Bitte wenden Sie sich an die IT.")
    email = str(claims.get("email") or "").strip().lower()
    now = clock.now()
    with all_tenants():
        link = db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.issuer == provider.issuer,
                                                                ExternalIdentity.subject == str(claims["sub"])))
        user = db.session.get(User, link.user_id) if link else None
        if user is None:
            if not email or "@" not in email:
                raise SignInError("Ihr Dienstkonto nennt keine E-Mail-Adresse.")
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None:
                # No local password: "!" is no argon2 hash, so no password ever matches it.
                user = User(email=email, name=str(claims.get("name") or "")[:200], password_hash="!oidc")
                db.session.add(user)
                db.session.flush()
            link = ExternalIdentity(user_id=user.id, issuer=provider.issuer, subject=str(claims["sub"]))
            db.session.add(link)
        if not user.active:
            raise SignInError("Dieser Zugang ist gesperrt.")
        link.last_login_at = now
        user.last_login_at = now
        membership = db.session.scalar(select(Membership).where(Membership.tenant_id == tenant.id,
                                                                Membership.user_id == user.id))
        if membership is None:
            db.session.add(Membership(tenant_id=tenant.id, user_id=user.id, role=role))
        elif membership.role != role:
            membership.role = role
        db.session.flush()
    return user, role


def end_session_url(provider: IdentityProvider, id_token: str, post_logout_redirect_uri: str) -> str | None:
    """RP-initiated logout at the provider, when it offers it (OpenID Connect RP-Initiated Logout)."""
    try:
        doc, _ = metadata.get(provider.issuer)
    except SignInError:
        return None
    endpoint = doc.get("end_session_endpoint")
    if not endpoint:
        return None
    req = requests.Request("GET", endpoint, params={"id_token_hint": id_token, "client_id": provider.client_id,
                                                     "post_logout_redirect_uri": post_logout_redirect_uri})
    return req.prepare().url


def provider_logout_url(tenant, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """Where the browser goes after our logout so the provider's session ends too; None
    after a password login or with a provider that offers no RP-initiated logout."""
    provider = provider_of(tenant.id) if id_token else None
    if provider is None:
        return None
    return end_session_url(provider, id_token, post_logout_redirect_uri)


def configure(tenant_id: int, *, issuer: str, client_id: str, client_secret: str | None,
              role_claim: str = "groups", role_map: dict[str, str] | None = None,
              local_passwords: bool = True, label: str | None = None) -> IdentityProvider:
    """Set a tenant's provider (or change it). Flushes; the caller commits."""
    issuer = issuer.strip().rstrip("/")
    if not issuer.startswith(("https://", "http://")):
        raise SignInError("Der Issuer muss eine http(s)-Adresse sein.")
    bad = {k: v for k, v in (role_map or {}).items() if v not in RANK}
    if bad:
        raise SignInError(f"Unbekannte Rollen: {', '.join(sorted(set(bad.values())))}")
    provider = provider_of(tenant_id)
    if provider is None:
        if not client_secret:
            raise SignInError("Ein Client-Secret ist nötig.")
        provider = IdentityProvider(tenant_id=tenant_id)
        db.session.add(provider)
    provider.issuer = issuer
    provider.client_id = client_id
    if client_secret:
        provider.client_secret = client_secret
    provider.role_claim = role_claim
    provider.role_map = dict(role_map or {})
    provider.local_passwords = local_passwords
    if label:
        provider.label = label
    db.session.flush()
    metadata.clear()
    return provider


def remove(tenant_id: int) -> bool:
    provider = provider_of(tenant_id)
    if provider is None:
        return False
    db.session.delete(provider)
    db.session.flush()
    return True

