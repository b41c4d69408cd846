"""The environment variables a generated server reads, as server.json, READMEs and bundles list them: each
secret reference becomes the variable the runtime reads for it, and is required only when there is no
other way in."""

from __future__ import annotations

from specbridge.environment import EnvVar, rest_environment, wrapper_environment
from specbridge.ir import WrapperConnector
from specbridge_runtime.contract import AuthScheme, ConnectorSpec, RemoteUpstream, ServerVariable, StdioUpstream

BEARER = AuthScheme(name="bearer", type="bearer", secrets=(("token", "vault:token"),))


def spec(**fields: object) -> ConnectorSpec:
    values: dict[str, object] = {"name": "shop", "title": "Shop", "version": "1", "base_url": "https://api.example.com"}
    values.update(fields)
    return ConnectorSpec(**values)  # type: ignore[arg-type]


def by_name(variables: tuple[EnvVar, ...]) -> dict[str, EnvVar]:
    return {variable.name: variable for variable in variables}


def test_the_one_way_in_is_a_required_secret_read_as_the_runtime_reads_it() -> None:
    found = by_name(rest_environment(spec(auth=(BEARER,), security=(("bearer",),))))
    assert found["SHOP__TOKEN"].secret and found["SHOP__TOKEN"].required
    assert "shop-mcp creds set token" in found["SHOP__TOKEN"].description
    base = found["SHOP_BASE_URL"]
    assert not base.secret and not base.required and base.default == "https://api.example.com"


def test_alternatives_or_optional_auth_make_no_credential_required() -> None:
    key = AuthScheme(name="key", type="api_key", secrets=(("key", "env:SHOP_API_KEY"),))
    either = by_name(rest_environment(spec(auth=(BEARER, key), security=(("bearer",), ("key",)))))
    assert not either["SHOP__TOKEN"].required and not either["SHOP_API_KEY"].required
    assert either["SHOP_API_KEY"].secret
    optional = by_name(rest_environment(spec(auth=(BEARER,), security=(("bearer",), ()))))
    assert not optional["SHOP__TOKEN"].required


def test_sealed_secrets_need_the_master_key_and_plain_values_nothing() -> None:
    sealed = AuthScheme(name="basic", type="basic", secrets=(("username", "admin"), ("password", "enc:v1:k:p:AAAA")))
    found = by_name(rest_environment(spec(auth=(sealed,), security=(("basic",),))))
    assert set(found) == {"SPECBRIDGE_MASTER_KEY", "SHOP_BASE_URL"}
    assert found["SPECBRIDGE_MASTER_KEY"].secret and found["SPECBRIDGE_MASTER_KEY"].required


def test_the_base_url_is_required_only_when_the_spec_has_no_usable_one() -> None:
    assert by_name(rest_environment(spec(base_url="/api/v3")))["SHOP_BASE_URL"].required
    templated = by_name(rest_environment(spec(base_url="https://{region}.example.com",
                                              server_variables=(ServerVariable(name="region", default="eu"),))))
    assert not templated["SHOP_BASE_URL"].required and templated["SHOP_BASE_URL"].default is None


def test_a_wrapper_lists_the_secrets_it_passes_to_its_upstream() -> None:
    stdio = WrapperConnector(name="time", title="Time", version="1", kind="custom",
                             upstream=StdioUpstream(command="srv", env=(("API_KEY", "vault:api_key"), ("MODE", "x"))))
    assert [(v.name, v.secret) for v in wrapper_environment(stdio)] == [("TIME__API_KEY", True)]
    upstream = RemoteUpstream(url="https://mcp.example.com", headers=(("X-Key", "env:DOCS_KEY"),))
    remote = WrapperConnector(name="docs", title="Docs", version="1", kind="custom", upstream=upstream)
    assert [v.name for v in wrapper_environment(remote)] == ["DOCS_KEY"]
