"""Each static auth method through the real REST call path against an upstream that checks it, how
security requirements combine, and that secrets are read at call time."""

from __future__ import annotations

import subprocess
import sys

import httpx2
import pytest
from specbridge_runtime._core.descriptors import AuthScheme, Operation
from specbridge_runtime._mechanisms.auth import build_auth_factory
from specbridge_runtime._mechanisms.secrets import Secrets

from tests.auth.conftest import CONNECTOR, call, connector, started, text
from tests.auth.upstream import Expected


def operation(path: str, security: tuple[tuple[str, ...], ...] | None = None) -> Operation:
    return Operation(tool="authdemo_echo", method="GET", path=path, input_model="EchoInput", security=security)


BEARER = AuthScheme(name="bearer", type="bearer", secrets=(("token", "vault:bearer_token"),))
API_KEY_HEADER = AuthScheme(name="key", type="api_key", secrets=(("key", "vault:key"),), location="header",
                            param_name="X-API-Key")
API_KEY_AUTHORIZATION = AuthScheme(name="key", type="api_key", secrets=(("key", "vault:key"),), location="header",
                                   param_name="Authorization", prefix="ApiKey ")
API_KEY_QUERY = AuthScheme(name="key", type="api_key", secrets=(("key", "vault:key"),), location="query",
                           param_name="api_key")
API_KEY_COOKIE = AuthScheme(name="key", type="api_key", secrets=(("key", "vault:key"),), location="cookie",
                            param_name="session_key")
BASIC = AuthScheme(name="basic", type="basic", secrets=(("username", "vault:basic_username"),
                                                        ("password", "vault:basic_password")))
HEADERS = AuthScheme(name="custom", type="headers", secrets=(("X-Tenant", "env:DEMO_TENANT"),
                                                             ("X-Signature", "vault:custom_x_signature")))


@pytest.fixture
def stored(secrets: Secrets, expected: Expected, environ: dict[str, str]) -> Secrets:
    secrets.store("bearer_token", expected.bearer)
    secrets.store("key", expected.api_key)
    secrets.store("basic_username", expected.username)
    secrets.store("basic_password", expected.password)
    secrets.store("custom_x_signature", expected.signature)
    environ["DEMO_TENANT"] = expected.tenant
    return secrets


@pytest.mark.parametrize(("scheme", "tool"), [
    (BEARER, "authdemo_bearer"),
    (API_KEY_HEADER, "authdemo_api_key_header"),
    (API_KEY_AUTHORIZATION, "authdemo_api_key_authorization"),
    (API_KEY_QUERY, "authdemo_api_key_query"),
    (API_KEY_COOKIE, "authdemo_api_key_cookie"),
    (BASIC, "authdemo_basic"),
    (HEADERS, "authdemo_custom"),
], ids=["bearer", "api_key-header", "api_key-authorization-prefix", "api_key-query", "api_key-cookie", "basic",
        "headers"])
async def test_each_method_authenticates_at_a_checking_upstream(upstream: str, stored: Secrets, environ, scheme,
                                                                 tool: str) -> None:
    spec = connector(upstream, scheme, security=((scheme.name,),))
    result = await call(spec, stored, environ, tool)
    assert not result.is_error, text(result)
    assert result.structured_content is not None and result.structured_content["authenticated"] is True


async def test_a_wrong_secret_is_refused_by_the_upstream(upstream: str, secrets: Secrets, environ) -> None:
    secrets.store("bearer_token", "not-the-right-token-0123456789")
    result = await call(connector(upstream, BEARER, security=(("bearer",),)), secrets, environ, "authdemo_bearer")
    assert result.is_error and "401" in text(result)


async def test_httpbin_bearer_and_basic(httpbin_url: str, secrets: Secrets) -> None:
    """httpbin's own auth endpoints check what the runtime sends."""
    secrets.store("bearer_token", "httpbin-token-0123456789")
    secrets.store("basic_username", "user")
    secrets.store("basic_password", "passwd-0123456789")
    auth = build_auth_factory(connector(httpbin_url, BEARER, BASIC), secrets=secrets)
    async with httpx2.AsyncClient() as http:
        for path, scheme in (("/bearer", "bearer"), ("/basic-auth/user/passwd-0123456789", "basic")):
            request = http.build_request("GET", httpbin_url + path)
            await auth(operation(path, security=((scheme,),))).apply(request)
            response = await http.send(request)
            assert response.status_code == 200, (scheme, response.text)
            assert response.json()["authenticated"] is True


async def test_alternatives_use_the_first_whose_secrets_are_all_there(upstream: str, secrets: Secrets, environ,
                                                                       expected: Expected) -> None:
    # basic is listed first but only half configured; the api key alternative is complete.
    secrets.store("basic_username", expected.username)
    secrets.store("key", expected.api_key)
    spec = connector(upstream, BASIC, API_KEY_HEADER, security=(("basic",), ("key",)))
    result = await call(spec, secrets, environ, "authdemo_echo")
    headers = result.structured_content["headers"]
    assert headers["x-api-key"] == expected.api_key and "authorization" not in headers


async def test_a_combined_requirement_applies_every_scheme(upstream: str, stored: Secrets, environ,
                                                           expected: Expected) -> None:
    spec = connector(upstream, BEARER, API_KEY_QUERY, HEADERS, security=(("bearer", "key", "custom"),))
    async with started(spec, stored, environ) as served:
        result = await served.call_tool("authdemo_echo", {})
    headers = result.structured_content["headers"]
    assert headers["authorization"] == f"Bearer {expected.bearer}"
    assert headers["x-tenant"] == expected.tenant and headers["x-signature"] == expected.signature
    assert result.structured_content["query"] == {"api_key": expected.api_key}


@pytest.mark.parametrize(("security", "present", "absent"), [
    (None, "authorization", "x-api-key"),
    ((("key",),), "x-api-key", "authorization"),
    ((), None, "authorization"),
], ids=["connector-default", "operation-override", "operation-without-auth"])
async def test_per_operation_security_overrides_the_connector(upstream: str, stored: Secrets, security,
                                                              present: str | None, absent: str) -> None:
    auth = build_auth_factory(connector(upstream, BEARER, API_KEY_HEADER, security=(("bearer",),)), secrets=stored)
    request = httpx2.Request("GET", f"{upstream}/echo")
    await auth(operation("/echo", security=security)).apply(request)
    assert present is None or present in request.headers
    assert absent not in request.headers


async def test_missing_credentials_fail_the_call_naming_where_to_put_them(upstream: str, secrets: Secrets,
                                                                           environ) -> None:
    result = await call(connector(upstream, BEARER, security=(("bearer",),)), secrets, environ, "authdemo_bearer")
    message = text(result)
    assert result.is_error
    assert "authdemo-mcp creds set bearer_token" in message and "AUTHDEMO__BEARER_TOKEN" in message


async def test_vault_reference_falls_back_to_the_connector_environment_variable(upstream: str, secrets: Secrets,
                                                                                 environ, expected: Expected) -> None:
    environ["AUTHDEMO__BEARER_TOKEN"] = expected.bearer
    result = await call(connector(upstream, BEARER, security=(("bearer",),)), secrets, environ, "authdemo_bearer")
    assert not result.is_error, text(result)


@pytest.mark.parametrize(("stored_value", "problem"), [
    ("token-with-newline-0123456789\n", "line break"),
    (" token-with-space-0123456789", "whitespace"),
    ("Bearer token-with-prefix-0123456789", "already starts with 'Bearer'"),
])
async def test_a_badly_formatted_key_is_named_and_not_sent(upstream: str, secrets: Secrets, environ, expected: Expected,
                                                           stored_value: str, problem: str) -> None:
    secrets.store("bearer_token", stored_value)
    before = len(expected.requests_seen)
    result = await call(connector(upstream, BEARER, security=(("bearer",),)), secrets, environ, "authdemo_bearer")
    message = text(result)
    assert result.is_error and "bad key format" in message and problem in message
    assert stored_value.strip() not in message
    assert len(expected.requests_seen) == before


async def test_secret_connector_headers_are_resolved_and_sent(upstream: str, secrets: Secrets, environ,
                                                              expected: Expected) -> None:
    secrets.store("shop_key", "shop-key-0123456789")
    spec = connector(upstream, headers=(("X-Shop", "main"), ("X-Shop-Key", "vault:shop_key")))
    result = await call(spec, secrets, environ, "authdemo_echo")
    headers = result.structured_content["headers"]
    assert headers["x-shop"] == "main" and headers["x-shop-key"] == "shop-key-0123456789"


async def test_revocation_takes_effect_on_the_next_call_without_restart(upstream: str, secrets: Secrets, environ,
                                                                        expected: Expected, home) -> None:
    secrets.store("bearer_token", expected.bearer)
    async with started(connector(upstream, BEARER, security=(("bearer",),)), secrets, environ) as served:
        assert not (await served.call_tool("authdemo_bearer", {})).is_error
        # Another process deletes the secret (as `authdemo-mcp creds delete` does).
        script = ("import sys; from pathlib import Path; from specbridge_runtime._mechanisms.vault import Vault; "
                  "sys.exit(0 if Vault(Path(sys.argv[1]), environ={}).delete(sys.argv[2], sys.argv[3]) else 1)")
        subprocess.run([sys.executable, "-c", script, str(home), CONNECTOR, "bearer_token"], check=True, timeout=30)
        result = await served.call_tool("authdemo_bearer", {})
        assert result.is_error and "creds set bearer_token" in text(result)
