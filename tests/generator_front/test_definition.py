"""Connector definition files: shapes, secret references, unknown keys, and the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from specbridge import codes
from specbridge.definition import (
    SCHEMA_FILE,
    ApiKeyAuth,
    BearerAuth,
    CustomDefinition,
    HeadersAuth,
    OAuth2Auth,
    RegistryDefinition,
    RestDefinition,
    definition_from_data,
    definition_json_schema,
    read_definition,
    render_json_schema,
)
from specbridge.diagnostics import Level

from tests.support import REPO

SHOP_OPERATION = {"name": "list_orders", "method": "get", "path": "/orders.json"}


def rest(**fields: Any) -> dict[str, Any]:
    return {"type": "rest", "name": "shop", "operations": [SHOP_OPERATION], **fields}


def test_rest_definition_of_the_design_doc() -> None:
    data = {
        "type": "rest", "name": "shopify", "base_url": "https://store.example.com/api/2024-01",
        "openapi": "specs/shopify.yaml", "include": ["orders*"], "exclude": [],
        "operations": [{"name": "list_orders", "method": "GET", "path": "/orders.json",
                        "description": "Get all orders",
                        "parameters": [{"name": "status", "location": "query", "type": "string", "required": False}],
                        "request_body": {"type": "object", "properties": {"email": {"type": "string"}}},
                        "idempotent": True}],
        "auth": {"type": "bearer", "token": "env:SHOPIFY_TOKEN"},
        "headers": [{"name": "X-Shop", "value": "main"}],
        "limits": {"rate": "10/s", "timeout_s": 60, "max_response_bytes": 10485760, "concurrency": 10,
                   "operations": {"create_order": {"rate": "1/s"}}},
        "tool_names": {"list_orders": "shop_orders"},
    }
    result = definition_from_data(data, "shop.json")
    assert result.diagnostics == ()
    definition = result.definition
    assert isinstance(definition, RestDefinition)
    assert definition.operations[0].method == "GET"
    assert definition.operations[0].idempotent is True
    assert isinstance(definition.auth[0], BearerAuth)
    assert definition.tool_names == {"list_orders": "shop_orders"}
    limits = definition.limits
    assert limits is not None
    assert limits.to_limits().rate == "10/s"
    assert limits.to_limits().for_operation("create_order") is not None


def test_registry_and_custom_definitions() -> None:
    registry = definition_from_data({"type": "mcp_registry", "registry_name": "io.github.example/github",
                                     "version": "1.0.0", "auth": {"type": "bearer", "token": "vault:token"},
                                     "env": {"REGION": "eu", "API_KEY": "vault:api_key"}}, "r.json")
    assert registry.diagnostics == ()
    assert isinstance(registry.definition, RegistryDefinition)
    assert registry.definition.env == {"REGION": "eu", "API_KEY": "vault:api_key"}
    custom = definition_from_data({"type": "custom", "name": "analytics", "transport": {
        "type": "websocket", "url": "wss://host/mcp", "headers": [{"name": "X-API-Key", "value": "vault:api_key"}]}},
        "c.yaml")
    assert custom.diagnostics == ()
    assert isinstance(custom.definition, CustomDefinition)
    assert custom.definition.transport.headers[0].value == "vault:api_key"


@pytest.mark.parametrize(("data", "where", "key"), [
    (rest(auth={"type": "bearer", "token": "sk-live-1234567890"}), "#/auth/token", "token"),
    (rest(auth=[{"type": "basic", "username": "me", "password": "hunter2-secret"}]), "#/auth/0/password", "password"),
    (rest(auth={"type": "api_key", "key": "plainkey-42"}), "#/auth/key", "key"),
    (rest(auth={"type": "oauth2", "client_id": "public-id", "client_secret": "s3cr3t-value"}),
     "#/auth/client_secret", "client_secret"),
    (rest(auth={"type": "headers", "headers": [{"name": "X-Token", "value": "tok-abcdef"}]}),
     "#/auth/headers/0/value", "x_token"),
    ({"type": "custom", "name": "analytics", "transport": {"type": "http", "url": "https://h/mcp", "headers": [
        {"name": "X-API-Key", "value": "encrypted-key"}]}}, "#/transport/headers/0/value", "x_api_key"),
])
def test_plain_text_secret_is_refused_with_how_to_store_it(data: dict[str, Any], where: str, key: str) -> None:
    result = definition_from_data(data, "d.json")
    assert result.definition is None
    (diagnostic,) = result.diagnostics
    assert (diagnostic.level, diagnostic.code, diagnostic.location) == (Level.ERROR, codes.PLAIN_SECRET, where)
    command = "analytics-mcp" if data["type"] == "custom" else "shop-mcp"
    assert f"`{command} creds set {key}`" in diagnostic.message
    assert f'"vault:{key}"' in diagnostic.message
    assert "env:VAR" in diagnostic.message and "specbridge encrypt" in diagnostic.message
    secret = json.dumps(data)
    for value in ("sk-live-1234567890", "hunter2-secret", "plainkey-42", "s3cr3t-value", "tok-abcdef",
                  "encrypted-key"):
        if value in secret:
            assert value not in diagnostic.render()


@pytest.mark.parametrize("reference", ["env:SHOP_TOKEN", "vault:shop_token", "enc:v1.AAAA.BBBB"])
def test_secret_references_are_accepted(reference: str) -> None:
    result = definition_from_data(rest(auth={"type": "bearer", "token": reference}), "d.json")
    assert result.diagnostics == ()


def test_static_headers_and_usernames_may_be_plain() -> None:
    result = definition_from_data(rest(headers=[{"name": "X-Shop", "value": "main"}],
                                       auth={"type": "basic", "username": "me", "password": "env:PW"}), "d.json")
    assert result.diagnostics == ()


def test_unknown_keys_are_warnings_with_pointers() -> None:
    result = definition_from_data(rest(colour="blue", operations=[{**SHOP_OPERATION, "verb": "x"}],
                                       auth={"type": "bearer", "token": "env:T", "scheme": "x"}), "d.json")
    assert isinstance(result.definition, RestDefinition)
    assert [(d.level, d.code, d.location) for d in result.diagnostics] == [
        (Level.WARNING, codes.DEFINITION_UNKNOWN_KEY, "#/colour"),
        (Level.WARNING, codes.DEFINITION_UNKNOWN_KEY, "#/operations/0/verb"),
        (Level.WARNING, codes.DEFINITION_UNKNOWN_KEY, "#/auth/0/scheme"),
    ]


def test_wrong_types_are_errors_with_pointers() -> None:
    result = definition_from_data(rest(operations=[{"name": "x", "method": "FETCH", "path": "x",
                                                    "parameters": [{"name": 3, "location": "body"}]}],
                                       include="orders*", limits={"rate": "10/fortnight", "concurrency": 0}),
                                  "d.json")
    assert result.definition is None
    assert all(d.level is Level.ERROR and d.code == codes.DEFINITION_INVALID for d in result.diagnostics)
    assert {d.location for d in result.diagnostics} == {
        "#/operations/0/method", "#/operations/0/path", "#/operations/0/parameters/0/name",
        "#/operations/0/parameters/0/location", "#/include", "#/limits/rate", "#/limits/concurrency"}
    rate = next(d for d in result.diagnostics if d.location == "#/limits/rate")
    assert '"10/s"' in rate.message


def test_auth_may_be_a_list_of_at_most_five() -> None:
    five = [{"type": "bearer", "token": f"env:T{index}", "name": f"b{index}"} for index in range(5)]
    definition = definition_from_data(rest(auth=five), "d.json").definition
    assert isinstance(definition, RestDefinition) and len(definition.auth) == 5
    result = definition_from_data(rest(auth=[*five, {"type": "none"}]), "d.json")
    assert result.definition is None
    assert [d.location for d in result.diagnostics] == ["#/auth"]
    assert "at most 5" in result.diagnostics[0].message


@pytest.mark.parametrize(("grant", "scopes"), [("client_credentials", []), ("authorization_code", ["openid", "read"])])
def test_oauth_with_discovery_keeps_its_grant_and_scopes(grant: str, scopes: list[str]) -> None:
    auth = {"type": "oauth2", "grant": grant, "issuer_url": "https://login.example.com", "scopes": scopes}
    definition = definition_from_data(rest(auth=auth), "d.json").definition
    assert isinstance(definition, RestDefinition) and isinstance(definition.auth[0], OAuth2Auth)
    scheme = definition.auth[0].to_scheme("app")
    assert [(flow.grant, flow.scopes) for flow in scheme.flows] == [(grant, tuple(scopes))]
    assert scheme.issuer_url == "https://login.example.com"


@pytest.mark.parametrize(("rate", "canonical"), [("10/s", "10/s"), ("100/min", "100/min"), ("5 / minute", "5/min"),
                                                 ("1000/hour", "1000/h"), ("7/day", "7/d"), ("3/sec", "3/s")])
def test_rates_are_validated_and_canonical(rate: str, canonical: str) -> None:
    definition = definition_from_data(rest(limits={"rate": rate}), "d.json").definition
    assert isinstance(definition, RestDefinition) and definition.limits is not None
    assert definition.limits.rate == canonical


@pytest.mark.parametrize("rate", ["0/s", "10", "ten/s", "10/fortnight", "-1/s"])
def test_bad_rates_are_refused(rate: str) -> None:
    result = definition_from_data(rest(limits={"operations": {"x": {"rate": rate}}}), "d.json")
    assert [d.location for d in result.diagnostics] == ["#/limits/operations/x/rate"]


def test_rest_definition_needs_operations_or_openapi_and_a_known_type() -> None:
    empty = definition_from_data({"type": "rest", "name": "x"}, "d.json")
    assert empty.definition is None and "openapi" in empty.diagnostics[0].message
    unknown = definition_from_data({"type": "graphql"}, "d.json")
    assert unknown.definition is None and unknown.diagnostics[0].location == "#"
    assert definition_from_data(["not", "a", "mapping"], "d.json").diagnostics[0].code == codes.DEFINITION_INVALID


def test_auth_configs_as_runtime_schemes() -> None:
    api_key = ApiKeyAuth(type="api_key", key="vault:k", location="header", param_name="Authorization",
                         prefix="ApiKey ")
    scheme = api_key.to_scheme("key")
    assert (scheme.type, scheme.param_name, scheme.prefix, scheme.secret("key")) == (
        "api_key", "Authorization", "ApiKey ", "vault:k")
    oauth = OAuth2Auth.model_validate({"type": "oauth2", "provider": {
        "authorization_url": "https://auth.example.com/authorize", "token_url": "https://auth.example.com/token"},
        "client_id": "public-id", "client_secret": "vault:secret", "scopes": ["read"]})
    converted = oauth.to_scheme("login")
    assert converted.flows[0].token_url == "https://auth.example.com/token"
    assert converted.secrets == (("client_id", "public-id"), ("client_secret", "vault:secret"))
    headers = HeadersAuth.model_validate({"type": "headers", "headers": [{"name": "X-A", "value": "env:A"}]})
    assert headers.to_scheme("h").secrets == (("X-A", "env:A"),)


def test_read_definition_from_yaml_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text("type: rest\nname: shop\noperations:\n  - {name: a, method: get, path: /a}\n")
    assert isinstance(read_definition(path).definition, RestDefinition)
    missing = read_definition(tmp_path / "missing.yaml")
    assert [d.code for d in missing.diagnostics] == [codes.UNREADABLE]
    path.write_text("type: rest\nname: [\n")
    assert [d.code for d in read_definition(path).diagnostics] == [codes.SYNTAX]


def test_published_schema_is_in_sync_with_the_models() -> None:
    assert SCHEMA_FILE.read_text() == render_json_schema(), (
        "regenerate: python -c 'from specbridge.definition import *; SCHEMA_FILE.write_text(render_json_schema())'")


def test_published_schema_accepts_the_repository_definitions_and_rejects_plain_secrets() -> None:
    schema = definition_json_schema()
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    definitions = [path for path in (REPO / "specs").glob("*.json") if "type" in json.loads(path.read_text())]
    assert definitions
    for path in definitions:
        data = json.loads(path.read_text())
        assert not list(validator.iter_errors(data)), path
        assert definition_from_data(data, str(path)).definition is not None
    assert list(validator.iter_errors(rest(auth={"type": "bearer", "token": "plain"})))
