"""OAuth 2.1 against a real authorization server (oidc-provider on 127.0.0.1), through the real call path
to an upstream that validates the tokens by introspection."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from specbridge_runtime._core.descriptors import AuthScheme, OAuthFlow
from specbridge_runtime._mechanisms.oauth import OAuthError, StoredToken
from specbridge_runtime._mechanisms.oauth.client import OAuthClient
from specbridge_runtime._mechanisms.secrets import Secrets
from specbridge_runtime.testing import ManualClock

from tests.auth.conftest import SHORT_TTL_S, AuthServer, call, client_secret, connector, started, text
from tests.auth.upstream import Expected


def machine_scheme(issuer: str, scopes: tuple[str, ...] = ("read",)) -> AuthScheme:
    references = (("client_id", "vault:machine_client_id"), ("client_secret", "vault:machine_client_secret"))
    return AuthScheme(name="machine", type="oauth2", secrets=references,
                      flows=(OAuthFlow("client_credentials", token_url=f"{issuer}/token", scopes=scopes),))


def app_scheme(issuer: str) -> AuthScheme:
    """Authorization code: endpoints come from OpenID Connect discovery of the issuer."""
    return AuthScheme(name="app", type="oauth2", secrets=(("client_id", "vault:app_client_id"),),
                      flows=(OAuthFlow("authorization_code", scopes=("openid", "read")),), issuer_url=issuer)


async def play_browser(url: str) -> httpx2.Response:
    """What the user's browser does: open the URL, approve (oidc-provider's interaction approves at once),
    follow the redirect back to the loopback listener."""
    async with httpx2.AsyncClient(follow_redirects=True, timeout=30) as browser:
        return await browser.get(url)


async def login(client: OAuthClient) -> tuple[StoredToken, str, httpx2.Response]:
    urls: asyncio.Queue[str] = asyncio.Queue()
    signing_in = asyncio.create_task(client.login(notify=urls.put_nowait, open_browser=False, timeout_s=30))
    url = await asyncio.wait_for(urls.get(), 30)
    landed = await play_browser(url)
    return await signing_in, url, landed


def stored_token(secrets: Secrets, scheme: str) -> StoredToken:
    token = StoredToken.from_json(secrets.load(f"{scheme}_oauth_token") or "")
    assert token is not None
    return token


def replace_token(secrets: Secrets, scheme: str, **changes: object) -> None:
    secrets.store(f"{scheme}_oauth_token", dataclasses.replace(stored_token(secrets, scheme), **changes).to_json())


def counted(stats: dict[str, int], grant: str) -> int:
    return stats.get(grant, 0)


@pytest.fixture
def machine(secrets: Secrets) -> Secrets:
    secrets.store("machine_client_id", "machine")
    secrets.store("machine_client_secret", client_secret("machine"))
    return secrets


async def test_client_credentials(auth_server: AuthServer, upstream: str, machine: Secrets, environ) -> None:
    before = counted(auth_server.stats(), "client_credentials")
    spec = connector(upstream, machine_scheme(auth_server.issuer), security=(("machine",),))
    async with started(spec, machine, environ) as served:
        first = await served.call_tool("authdemo_oauth_read", {})
        second = await served.call_tool("authdemo_oauth_read", {})
    assert not first.is_error, text(first)
    assert first.structured_content["client_id"] == "machine" and not second.is_error
    assert counted(auth_server.stats(), "client_credentials") == before + 1  # the stored token was reused
    listed = json.dumps([entry.masked for entry in machine.vault.entries("authdemo")])
    assert stored_token(machine, "machine").access_token not in listed


async def test_dynamic_registration_then_client_credentials(auth_server: AuthServer, upstream: str, secrets: Secrets,
                                                            environ) -> None:
    scheme = AuthScheme(name="machine", type="oauth2", issuer_url=auth_server.issuer, dynamic_registration=True,
                        flows=(OAuthFlow("client_credentials", scopes=("read",)),))
    result = await call(connector(upstream, scheme, security=(("machine",),)), secrets, environ, "authdemo_oauth_read")
    assert not result.is_error, text(result)
    registration = json.loads(secrets.load("machine_oauth_client") or "{}")
    assert registration["client_id"] == result.structured_content["client_id"]
    assert registration["client_secret"] and registration["registration_client_uri"]


async def test_a_revoked_client_fails_with_a_clear_error(auth_server: AuthServer, upstream: str, secrets: Secrets,
                                                         environ) -> None:
    scheme = AuthScheme(name="machine", type="oauth2", issuer_url=auth_server.issuer, dynamic_registration=True,
                        flows=(OAuthFlow("client_credentials", scopes=("read",)),))
    async with started(connector(upstream, scheme, security=(("machine",),)), secrets, environ) as served:
        assert not (await served.call_tool("authdemo_oauth_read", {})).is_error
        registration = json.loads(secrets.load("machine_oauth_client") or "{}")
        # The administrator ends the client's token (RFC 7009) and deletes the client (RFC 7592).
        revoked = httpx2.post(f"{auth_server.issuer}/token/revocation",
                              data={"token": stored_token(secrets, "machine").access_token},
                              auth=(registration["client_id"], registration["client_secret"]))
        assert revoked.status_code == 200
        deleted = httpx2.delete(registration["registration_client_uri"],
                                headers={"Authorization": f"Bearer {registration['registration_access_token']}"})
        assert deleted.status_code == 204
        result = await served.call_tool("authdemo_oauth_read", {})
    assert result.is_error
    message = text(result)
    assert "rejected client" in message and "revoked" in message and "invalid_client" in message
    assert registration["client_secret"] not in message


async def test_authorization_code_with_pkce_and_state(auth_server: AuthServer, upstream: str, secrets: Secrets,
                                                      environ) -> None:
    secrets.store("app_client_id", "app")
    token, url, landed = await login(OAuthClient(app_scheme(auth_server.issuer), secrets))
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["state"][0]) >= 32
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert landed.status_code == 200 and "Signed in" in landed.text
    assert token.refresh_token
    spec = connector(upstream, app_scheme(auth_server.issuer), security=(("app",),))
    result = await call(spec, secrets, environ, "authdemo_oauth_read")
    assert not result.is_error, text(result)
    assert result.structured_content["sub"] == "test-user"


async def test_a_forged_redirect_with_the_wrong_state_is_refused(auth_server: AuthServer, secrets: Secrets) -> None:
    secrets.store("app_client_id", "app")
    urls: asyncio.Queue[str] = asyncio.Queue()
    client = OAuthClient(app_scheme(auth_server.issuer), secrets)
    signing_in = asyncio.create_task(client.login(notify=urls.put_nowait, open_browser=False, timeout_s=30))
    redirect_uri = parse_qs(urlsplit(await urls.get()).query)["redirect_uri"][0]
    async with httpx2.AsyncClient() as attacker:
        await attacker.get(redirect_uri, params={"code": "stolen-code", "state": "forged"})
    with pytest.raises(OAuthError, match="wrong state"):
        await signing_in
    assert secrets.load("app_oauth_token") is None


async def test_refresh_rotates_the_refresh_token(auth_server: AuthServer, secrets: Secrets) -> None:
    secrets.store("app_client_id", "app")
    client = OAuthClient(app_scheme(auth_server.issuer), secrets)
    first, _, _ = await login(client)
    assert await client.refresh_after_rejection()
    second = stored_token(secrets, "app")
    assert second.access_token != first.access_token
    assert second.refresh_token and second.refresh_token != first.refresh_token
    # The old refresh token was consumed by the rotation.
    reused = httpx2.post(f"{auth_server.issuer}/token", data={"grant_type": "refresh_token", "client_id": "app",
                                                               "refresh_token": first.refresh_token})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


async def test_an_expired_token_is_refreshed_on_401(auth_server: AuthServer, upstream: str, secrets: Secrets, environ,
                                                    expected: Expected) -> None:
    secrets.store("app_client_id", "short-app")
    scheme = app_scheme(auth_server.issuer)
    token, _, _ = await login(OAuthClient(scheme, secrets))
    # The client believes the token is good for an hour (clock skew, a server that ends tokens early) ...
    replace_token(secrets, "app", expires_at=time.time() + 3600, issued_at=time.time())
    await asyncio.sleep(SHORT_TTL_S + 0.5)  # ... but the server's 3 s lifetime is over
    refreshes = counted(auth_server.stats(), "refresh_token")
    result = await call(connector(upstream, scheme, security=(("app",),)), secrets, environ, "authdemo_oauth_read")
    assert not result.is_error, text(result)
    assert counted(auth_server.stats(), "refresh_token") == refreshes + 1
    assert token.access_token in expected.oauth_tokens_seen  # it was sent, refused, then replaced
    assert expected.oauth_tokens_seen[-1] == stored_token(secrets, "app").access_token != token.access_token


async def test_a_token_is_refreshed_ahead_of_expiry(auth_server: AuthServer, upstream: str, secrets: Secrets, environ,
                                                    expected: Expected) -> None:
    secrets.store("app_client_id", "short-app")
    scheme = app_scheme(auth_server.issuer)
    clock = ManualClock(auto_advance=False)
    token, _, _ = await login(OAuthClient(scheme, secrets, clock=clock))
    clock.advance(SHORT_TTL_S * 0.8)  # in the last quarter of its lifetime (still valid at the server)
    seen = len(expected.oauth_tokens_seen)
    result = await call(connector(upstream, scheme, security=(("app",),)), secrets, environ, "authdemo_oauth_read",
                        clock)
    assert not result.is_error, text(result)
    assert token.access_token not in expected.oauth_tokens_seen[seen:]  # renewed before sending, no 401
    assert expected.oauth_tokens_seen[seen:] == [stored_token(secrets, "app").access_token]


async def test_login_gives_up_when_no_answer_comes_in_time(auth_server: AuthServer, secrets: Secrets) -> None:
    secrets.store("app_client_id", "app")
    clock = ManualClock(auto_advance=False)
    urls: asyncio.Queue[str] = asyncio.Queue()
    client = OAuthClient(app_scheme(auth_server.issuer), secrets, clock=clock)
    signing_in = asyncio.create_task(client.login(notify=urls.put_nowait, open_browser=False, timeout_s=300))
    redirect_uri = parse_qs(urlsplit(await asyncio.wait_for(urls.get(), 30)).query)["redirect_uri"][0]
    clock.advance(299)
    await asyncio.sleep(0.05)
    assert not signing_in.done()  # still waiting for the user
    clock.advance(1)
    with pytest.raises(OAuthError, match="no sign-in answer within 300 s"):
        await asyncio.wait_for(signing_in, 30)
    with pytest.raises(httpx2.ConnectError):  # and the listener is gone
        httpx2.get(redirect_uri)


@pytest.mark.parametrize("trigger", ["known-expired", "refused-with-401"])
async def test_twenty_concurrent_calls_cause_one_refresh(auth_server: AuthServer, upstream: str, secrets: Secrets,
                                                         environ, trigger: str) -> None:
    secrets.store("app_client_id", "app" if trigger == "known-expired" else "short-app")
    scheme = app_scheme(auth_server.issuer)
    await login(OAuthClient(scheme, secrets))
    if trigger == "known-expired":  # renewed before sending
        replace_token(secrets, "app", expires_at=time.time() - 1)
    else:  # expired at the server while the client thinks it valid: every call gets a 401 first
        replace_token(secrets, "app", expires_at=time.time() + 3600, issued_at=time.time())
        await asyncio.sleep(SHORT_TTL_S + 0.5)
    refreshes = counted(auth_server.stats(), "refresh_token")
    async with started(connector(upstream, scheme, security=(("app",),)), secrets, environ) as served:
        results = await asyncio.wait_for(
            asyncio.gather(*(served.call_tool("authdemo_oauth_read", {}) for _ in range(20))), 60)
    assert [text(result) for result in results if result.is_error] == []
    assert counted(auth_server.stats(), "refresh_token") == refreshes + 1


async def test_without_a_token_the_call_says_to_log_in(auth_server: AuthServer, upstream: str, secrets: Secrets,
                                                       environ) -> None:
    secrets.store("app_client_id", "app")
    scheme = app_scheme(auth_server.issuer)
    result = await call(connector(upstream, scheme, security=(("app",),)), secrets, environ, "authdemo_oauth_read")
    assert result.is_error and "authdemo-mcp login" in text(result)


async def test_an_access_token_obtained_elsewhere_is_sent_while_the_flows_have_none(
        auth_server: AuthServer, upstream: str, secrets: Secrets, environ) -> None:
    """A user who cannot sign in here (no browser for the flow) stores a token like a bearer token."""
    secrets.store("app_client_id", "app")
    spec = connector(upstream, app_scheme(auth_server.issuer), security=(("app",),))
    environ["AUTHDEMO__APP_TOKEN"] = auth_server.token("reader")
    result = await call(spec, secrets, environ, "authdemo_oauth_read")
    assert not result.is_error, text(result)
    del environ["AUTHDEMO__APP_TOKEN"]
    refused = await call(spec, secrets, environ, "authdemo_oauth_read")
    assert refused.is_error and "authdemo-mcp login" in text(refused)


async def test_an_openapi_openid_connect_scheme_signs_in_as_a_public_client(auth_server: AuthServer, upstream: str,
                                                                           secrets: Secrets, environ) -> None:
    """What gen-front makes of `type: openIdConnect`: the discovery URL, client id and secret references;
    with no secret stored the client is public (PKCE), and `openid` is asked for."""
    scheme = AuthScheme(name="oidc", type="oauth2",
                        secrets=(("client_id", "vault:oidc_client_id"), ("client_secret", "vault:oidc_client_secret")),
                        openid_url=f"{auth_server.issuer}/.well-known/openid-configuration")
    secrets.store("oidc_client_id", "app")
    _, url, _ = await login(OAuthClient(scheme, secrets))
    assert parse_qs(urlsplit(url).query)["scope"] == ["openid"]
    result = await call(connector(upstream, scheme, security=(("oidc",),)), secrets, environ, "authdemo_oauth_openid")
    assert not result.is_error, text(result)
    assert result.structured_content["sub"] == "test-user"
