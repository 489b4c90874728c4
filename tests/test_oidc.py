"""Staff sign-in with the town's identity provider: a real OpenID Connect provider
process (oidc-provider-mock), Authlib as our client, the same back-office session."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from app.accounts import oidc
from app.accounts.identity import ExternalIdentity
from app.accounts.models import Membership, User
from app.extensions import db
from app.tenancy.scope import all_tenants
from app.transaction import commit
from tests.conftest import HostClient
from tests.test_backoffice_support import in_tenant, login, make_user
from tests.workers import free_port

ROLES = {"amtstermin-sachbearbeitung": "staff", "amtstermin-admin": "admin"}


@pytest.fixture(scope="module")
def provider():
    """The town's identity provider, as a process of its own."""
    port = free_port()
    env = {**os.environ, "AUTHLIB_INSECURE_TRANSPORT": "1"}  # our test hosts speak http
    proc = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--host", "127.0.0.1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(issuer + "/.well-known/openid-configuration", timeout=5).ok:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail("oidc-provider-mock did not start: " + proc.stderr.read().decode()[-2000:])
        time.sleep(0.2)
    yield issuer
    proc.terminate()
    proc.wait(timeout=20)


def person(issuer: str, sub: str, **claims) -> str:
    """A user at the provider, with their claims (e-mail, groups)."""
    assert requests.put(f"{issuer}/users/{sub}", json=claims, timeout=5).status_code == 204
    return sub


def connect(app, issuer: str, tenant: str = "steinfurt", **kw):
    with in_tenant(app, tenant) as tid, all_tenants():
        oidc.configure(tid, issuer=issuer, client_id="amtstermin", client_secret="s3cret", role_claim="groups",
                       role_map=ROLES, **kw)
        commit()


def sign_in_at_provider(client: HostClient, sub: str):
    """Click "sign in with …", sign in at the provider as `sub`, come back."""
    start = client.get("/admin/oidc/login")
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith("http://127.0.0.1:")
    assert requests.get(authorize, timeout=5).status_code == 200  # the provider's sign-in form
    answer = requests.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.netloc == "steinfurt.localhost" and back.path == "/admin/oidc/callback"
    return client.get(f"{back.path}?{back.query}")


def test_a_clerk_signs_in_through_the_towns_provider(app, provider, steinfurt):
    connect(app, provider)
    sub = person(provider, "k.lehmann", email="K.Lehmann@steinfurt.example", name="Kim Lehmann",
                 groups=["alle", "amtstermin-sachbearbeitung"])
    login_page = steinfurt.get("/admin/login").get_data(as_text=True)
    assert "Anmelden mit: Dienstkonto der Verwaltung" in login_page and 'name="password"' in login_page
    done = sign_in_at_provider(steinfurt, sub)
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/")
    day = steinfurt.get("/admin/day")
    assert day.status_code == 200
    assert "Abmelden" in day.get_data(as_text=True) or "logout" in day.get_data(as_text=True)
    assert steinfurt.get("/admin/users").status_code == 403  # a clerk, not an admin
    with in_tenant(app, "steinfurt"), all_tenants():
        user = db.session.scalar(select(User).where(User.email == "k.lehmann@steinfurt.example"))
        assert db.session.scalar(select(Membership.role).where(Membership.user_id == user.id)) == "staff"
        assert db.session.scalar(select(ExternalIdentity.subject).where(ExternalIdentity.user_id == user.id)) == sub
    # The session holds on Steinfurt's host only.
    assert HostClient(app, "emsdetten.localhost").get("/admin/day").status_code in (302, 401, 403)


def test_the_role_follows_the_group_at_every_sign_in(app, provider, steinfurt):
    connect(app, provider)
    sub = person(provider, "a.yilmaz", email="a.yilmaz@steinfurt.example", groups=["amtstermin-admin"])
    assert sign_in_at_provider(steinfurt, sub).status_code == 302
    assert steinfurt.get("/admin/users").status_code == 200  # admin
    steinfurt.post("/admin/logout")
    person(provider, sub, email="a.yilmaz@steinfurt.example", groups=["amtstermin-sachbearbeitung"])
    assert sign_in_at_provider(steinfurt, sub).status_code == 302
    assert steinfurt.get("/admin/users").status_code == 403  # now only a clerk
    steinfurt.post("/admin/logout")
    person(provider, sub, email="a.yilmaz@steinfurt.example", groups=["kantine"])
    refused = sign_in_at_provider(steinfurt, sub)
    assert refused.status_code == 403 and "keine Berechtigung" in refused.get_data(as_text=True)
    assert steinfurt.get("/admin/day").status_code != 200


def test_with_local_passwords_off_only_the_provider_signs_in(app, provider, steinfurt):
    make_user(app, "pw@steinfurt.example", "steinfurt", "staff")
    connect(app, provider, local_passwords=False)
    page = steinfurt.get("/admin/login").get_data(as_text=True)
    assert 'name="password"' not in page and "Anmelden mit:" in page
    refused = login(steinfurt, "pw@steinfurt.example")
    assert refused.status_code == 403 and "Dienstkonto" in refused.get_data(as_text=True)
    assert steinfurt.get("/admin/day").status_code != 200
    # Another town keeps its passwords.
    emsdetten = HostClient(app, "emsdetten.localhost")
    make_user(app, "pw@emsdetten.example", "emsdetten", "staff")
    assert login(emsdetten, "pw@emsdetten.example").status_code == 302


def test_logout_ends_our_session_and_the_providers(app, provider, steinfurt):
    connect(app, provider)
    sub = person(provider, "j.wolf", email="j.wolf@steinfurt.example", groups=["amtstermin-sachbearbeitung"])
    assert sign_in_at_provider(steinfurt, sub).status_code == 302
    out = steinfurt.post("/admin/logout")
    assert out.status_code == 302
    end = urlsplit(out.headers["Location"])
    assert f"{end.scheme}://{end.netloc}" == provider and end.path == "/oauth2/end_session"
    params = parse_qs(end.query)
    assert params["post_logout_redirect_uri"] == ["http://steinfurt.localhost/admin/login"]
    assert params["id_token_hint"][0].count(".") == 2  # the ID token we were given
    assert requests.get(out.headers["Location"], timeout=5).status_code == 200  # the provider takes it
    assert steinfurt.get("/admin/day").status_code != 200  # our session is gone


def test_a_forged_or_replayed_callback_signs_nobody_in(app, provider, steinfurt):
    connect(app, provider)
    sub = person(provider, "x.muster", email="x@steinfurt.example", groups=["amtstermin-admin"])
    start = steinfurt.get("/admin/oidc/login").headers["Location"]
    answer = requests.post(start, data={"sub": sub}, allow_redirects=False, timeout=5)
    back = urlsplit(answer.headers["Location"])
    forged = steinfurt.get(back.path + "?" + back.query.replace("state=", "state=x"))
    assert forged.status_code == 403 and steinfurt.get("/admin/day").status_code != 200
    # The flow was used up by the forged call; the genuine answer cannot be replayed either.
    replay = steinfurt.get(f"{back.path}?{back.query}")
    assert replay.status_code == 403 and steinfurt.get("/admin/day").status_code != 200


def test_district_it_connects_a_provider_from_the_command_line(app, provider):
    runner = app.test_cli_runner()
    done = runner.invoke(args=["users", "oidc", "steinfurt", "--issuer", provider, "--client-id", "amtstermin",
                               "--role", "amtstermin-admin=admin", "--no-local-passwords"], input="s3cret\n")
    assert done.exit_code == 0, done.output
    assert "local passwords are off" in done.output
    with in_tenant(app, "steinfurt") as tid:
        configured = oidc.provider_of(tid)
        assert (configured.client_secret, configured.role_map, configured.local_passwords) == \
            ("s3cret", {"amtstermin-admin": "admin"}, False)
    bad = runner.invoke(args=["users", "oidc", "steinfurt", "--issuer", provider, "--client-id", "x",
                              "--role", "g=chef"], input="s\n")
    assert bad.exit_code == 1 and "Unbekannte Rollen" in bad.output
    off = runner.invoke(args=["users", "oidc", "steinfurt", "--off"])
    assert off.exit_code == 0
    with in_tenant(app, "steinfurt") as tid:
        assert oidc.provider_of(tid) is None
