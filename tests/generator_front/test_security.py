"""Auth schemes from the spec and the definition, requirements, and the five-scheme limit."""

from __future__ import annotations

from typing import Any

from specbridge import codes
from specbridge.diagnostics import Level
from specbridge_runtime._core.descriptors import AuthScheme, OAuthFlow

from tests.generator_front.support import connector, normalize, oas3, op, swagger2

SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "queryKey": {"type": "apiKey", "in": "query", "name": "api_key"},
    "bearerAuth": {"type": "http", "scheme": "Bearer"},
    "basic": {"type": "http", "scheme": "basic"},
    "oauth": {"type": "oauth2", "flows": {
        "clientCredentials": {"tokenUrl": "https://auth.example.com/token", "scopes": {"read": "r", "write": "w"}},
        "authorizationCode": {"authorizationUrl": "https://auth.example.com/authorize",
                              "tokenUrl": "https://auth.example.com/token", "refreshUrl": "https://auth.example.com/r",
                              "scopes": {}},
        "implicit": {"authorizationUrl": "https://auth.example.com/authorize", "scopes": {}}}},
    "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://auth.example.com/.well-known/openid-configuration"},
    "digest": {"type": "http", "scheme": "digest"},
}


def secured(security: list[dict[str, Any]] | None = None, schemes: dict[str, Any] | None = None,
            **operation: Any) -> dict[str, Any]:
    extra: dict[str, Any] = {"components": {"securitySchemes": schemes if schemes is not None else SCHEMES}}
    if security is not None:
        extra["security"] = security
    return oas3({"/a": {"get": op(**operation)}}, **extra)


def test_spec_schemes_become_auth_schemes_with_vault_references() -> None:
    result = normalize(secured([{"ApiKey": []}, {"oauth": ["read"]}, {"oidc": []}, {"bearerAuth": []},
                                {"basic": []}]))
    built = result.connectors[0]
    assert built.spec.auth == (
        AuthScheme("ApiKey", "api_key", (("key", "vault:api_key_key"),), location="header", param_name="X-API-Key"),
        AuthScheme("bearerAuth", "bearer", (("token", "vault:bearer_auth_token"),)),
        AuthScheme("basic", "basic", (("username", "vault:basic_username"), ("password", "vault:basic_password"))),
        AuthScheme("oauth", "oauth2", (("client_id", "vault:oauth_client_id"),
                                       ("client_secret", "vault:oauth_client_secret")), flows=(
            OAuthFlow("client_credentials", "https://auth.example.com/token", scopes=("read", "write")),
            OAuthFlow("authorization_code", "https://auth.example.com/token", "https://auth.example.com/authorize",
                      "https://auth.example.com/r"))),
        AuthScheme("oidc", "oauth2", (("client_id", "vault:oidc_client_id"),
                                      ("client_secret", "vault:oidc_client_secret")),
                   openid_url="https://auth.example.com/.well-known/openid-configuration"),
    )
    assert built.spec.security == (("ApiKey",), ("oauth",), ("oidc",), ("bearerAuth",), ("basic",))
    warnings = [d.message for d in result.diagnostics if d.code == codes.AUTH]
    assert any("'oauth': implicit flow not supported; the others are used" in m for m in warnings)
    assert any("'digest'" in m and "not supported" in m for m in warnings)


def test_operation_security_overrides_and_empty_means_no_auth() -> None:
    document = oas3({"/a": {"get": op(security=[])}, "/b": {"get": op(security=[{"basic": []}, {}])},
                     "/c": {"get": op()}}, security=[{"bearerAuth": []}],
                    components={"securitySchemes": SCHEMES})
    a, b, c = connector(document).tools
    assert (a.security, b.security, c.security) == ((), (("basic",), ()), None)


def test_only_unsupported_schemes_means_no_auth_with_a_warning() -> None:
    result = normalize(secured(security=[{"digest": []}]))
    assert result.connectors[0].spec.security == ()
    assert any("none of the required auth schemes is supported" in d.message for d in result.diagnostics)


def test_declared_but_never_required_schemes_are_alternatives() -> None:
    result = normalize(secured(schemes={"k": SCHEMES["ApiKey"]}))
    assert result.connectors[0].spec.security == (("k",),)


def test_swagger2_security_definitions() -> None:
    document = swagger2({"/a": {"get": op()}}, security=[{"key": []}, {"login": []}], securityDefinitions={
        "key": {"type": "apiKey", "in": "query", "name": "token"}, "basic": {"type": "basic"},
        "login": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a/auth",
                  "tokenUrl": "https://a/token", "scopes": {"x": "y"}},
        "app": {"type": "oauth2", "flow": "application", "tokenUrl": "https://a/token"},
        "pw": {"type": "oauth2", "flow": "password", "tokenUrl": "https://a/token"}})
    result = normalize(document)
    auth = {scheme.name: scheme for scheme in result.connectors[0].spec.auth}
    assert (auth["key"].location, auth["key"].param_name) == ("query", "token")
    assert auth["login"].flows == (OAuthFlow("authorization_code", "https://a/token", "https://a/auth", "",
                                             ("x",)),)
    assert set(auth) == {"key", "login"}  # only schemes in use are kept
    assert any("'pw': password flow not supported" in d.message for d in result.diagnostics)


def test_definition_auth_overrides_a_spec_scheme_and_extends_the_requirements() -> None:
    document = secured([{"ApiKey": []}], schemes={"ApiKey": SCHEMES["ApiKey"]})
    definition = {"type": "rest", "name": "shop", "openapi": "x", "auth": [
        {"type": "api_key", "key": "env:SHOP_KEY"},
        {"type": "headers", "headers": [{"name": "X-Tenant", "value": "vault:tenant"}]}]}
    built = connector(document, definition)
    assert built.spec.auth == (
        AuthScheme("ApiKey", "api_key", (("key", "env:SHOP_KEY"),), location="header", param_name="X-API-Key"),
        AuthScheme("headers", "headers", (("X-Tenant", "vault:tenant"),)),
    )
    assert built.spec.security == (("ApiKey", "headers"),)


def test_definition_auth_without_a_spec_applies_to_every_call() -> None:
    built = connector(None, {"type": "rest", "name": "shop", "operations": [{"name": "a", "method": "GET",
                                                                              "path": "/a"}],
                             "auth": {"type": "bearer", "token": "vault:token"}})
    assert built.spec.auth == (AuthScheme("bearer", "bearer", (("token", "vault:token"),)),)
    assert built.spec.security == (("bearer",),)


def test_definition_auth_none_turns_auth_off() -> None:
    built = connector(secured([{"ApiKey": []}]), {
        "type": "rest", "name": "x", "openapi": "x", "auth": {"type": "none"}})
    assert (built.spec.auth, built.spec.security, built.tools[0].security) == ((), (), None)


def test_more_than_five_schemes_with_the_definition_is_an_error() -> None:
    schemes = {f"k{index}": {"type": "apiKey", "in": "header", "name": f"X-K{index}"} for index in range(4)}
    document = secured([{name: []} for name in schemes], schemes=schemes)
    definition = {"type": "rest", "name": "x", "openapi": "x", "auth": [
        {"type": "bearer", "token": "env:A", "name": "extra1"}, {"type": "basic", "username": "u",
                                                                 "password": "env:B", "name": "extra2"}]}
    result = normalize(document, definition)
    assert result.connectors == ()
    assert any(d.level is Level.ERROR and "at most 5 auth methods" in d.message for d in result.diagnostics)


def test_more_than_five_spec_schemes_keeps_five_with_a_warning() -> None:
    schemes = {f"k{index}": {"type": "apiKey", "in": "header", "name": f"X-K{index}"} for index in range(7)}
    document = oas3({f"/{name}": {"get": op(security=[{name: []}])} for name in schemes},
                    components={"securitySchemes": schemes})
    result = normalize(document)
    built = result.connectors[0]
    assert [scheme.name for scheme in built.spec.auth] == ["k0", "k1", "k2", "k3", "k4"]
    assert [t.security for t in built.tools][-2:] == [(), ()]
    assert any(d.level is Level.WARNING and "k5, k6 are left out" in d.message for d in result.diagnostics)


BASIC_DEFINITION = {"type": "rest", "name": "shop", "openapi": "x",
                    "auth": {"type": "basic", "username": "admin", "password": "vault:password"}}


def test_definition_auth_holds_where_the_spec_requires_nothing_or_unknown_schemes() -> None:
    document = oas3({"/open": {"get": op(security=[])}, "/ghost": {"post": op(security=[{"ghost": []}])},
                     "/plain": {"put": op()}}, security=[])
    result = normalize(document, BASIC_DEFINITION)
    built = result.connectors[0]
    assert built.spec.auth == (AuthScheme("basic", "basic", (("username", "admin"), ("password", "vault:password"))),)
    assert built.spec.security == (("basic",),)
    assert [t.security for t in built.tools] == [(("basic",),), (("basic",),), None]  # None: the connector's
    notes = [d for d in result.diagnostics if d.code == codes.AUTH and "definition's auth is sent" in d.message]
    assert len(notes) == 1 and notes[0].level is Level.INFO and "(2 places; first here)" in notes[0].message


def test_definition_auth_replacing_a_spec_scheme_holds_and_anonymous_stays_optional() -> None:
    document = oas3({"/a": {"get": op(security=[])}, "/b": {"get": op(security=[{"basic": []}, {}])}},
                    components={"securitySchemes": {"basic": SCHEMES["basic"]}}, security=[{"basic": []}])
    definition = {**BASIC_DEFINITION, "auth": {**BASIC_DEFINITION["auth"], "name": "basic"}}
    a, b = connector(document, definition).tools
    assert (a.security, b.security) == ((("basic",),), (("basic",), ()))


def test_an_operation_entry_chooses_its_auth() -> None:
    document = oas3({"/health": {"get": op(operationId="health", security=[])},
                     "/spec": {"get": op(operationId="follow", security=[])},
                     "/key": {"get": op(operationId="keyed")}},
                    components={"securitySchemes": {"k": SCHEMES["ApiKey"]}}, security=[{"k": []}])
    definition = {**BASIC_DEFINITION, "operations": [
        {"name": "health", "auth": "none"}, {"name": "follow", "auth": "spec"}, {"name": "keyed", "auth": ["basic"]}]}
    health, follow, keyed = connector(document, definition).tools
    assert (health.security, follow.security, keyed.security) == ((), (), (("basic",),))


def test_an_operation_entry_naming_an_unknown_auth_is_an_error_at_its_entry() -> None:
    definition = {**BASIC_DEFINITION, "operations": [{"name": "a", "auth": ["nope"]}]}
    result = normalize(oas3({"/a": {"get": op(operationId="a")}}), definition)
    assert result.connectors == ()
    errors = [d for d in result.diagnostics if d.level is Level.ERROR]
    assert [(d.code, d.location, d.source) for d in errors] == [
        (codes.DEFINITION_MISMATCH, "#/operations/0/auth", "definition.json")]
    assert "'nope'" in errors[0].message and "basic" in errors[0].message


def test_implicit_only_oauth2_takes_an_access_token_like_bearer() -> None:
    implicit = {"type": "oauth2", "flows": {"implicit": {"authorizationUrl": "https://auth.example.com/a",
                                                         "scopes": {"read": "r"}}}}
    result = normalize(secured([{"petstore_auth": ["read"]}], schemes={"petstore_auth": implicit}))
    built = result.connectors[0]
    assert built.spec.auth == (AuthScheme("petstore_auth", "bearer", (("token", "vault:petstore_auth_token"),)),)
    assert built.spec.security == (("petstore_auth",),)
    assert built.token_schemes == ("petstore_auth",)  # the README says the token is the user's to obtain
    assert any("access token you obtain yourself" in d.message for d in result.diagnostics)


def test_a_requirement_of_several_token_schemes_sends_one_token() -> None:
    schemes = {"a": SCHEMES["oauth"], "b": {"type": "oauth2", "flows": {"implicit": {
        "authorizationUrl": "https://auth.example.com/a", "scopes": {}}}}, "k": SCHEMES["ApiKey"]}
    result = normalize(secured([{"a": [], "b": [], "k": []}], schemes=schemes))
    assert result.connectors[0].spec.security == (("a", "k"),)
    assert any("one Authorization header carries one token" in d.message for d in result.diagnostics)
