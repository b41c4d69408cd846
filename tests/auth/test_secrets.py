"""Secret references: env:, vault: (with its environment fallback) and enc: values."""

from __future__ import annotations

import pytest
from specbridge_runtime._core.grammar import legacy_ambiguous, literal
from specbridge_runtime._mechanisms.secrets import (
    CredentialError,
    CredentialMissing,
    Secrets,
    fallback_env_name,
    seal_reference,
)
from specbridge_runtime._mechanisms.vault import Vault

SECRET = "enc-secret-0123456789abcdef"


def test_env_reference(vault: Vault) -> None:
    secrets = Secrets("shop", vault, {"SHOP_TOKEN": SECRET})
    assert secrets("env:SHOP_TOKEN") == SECRET
    with pytest.raises(CredentialMissing, match="the environment variable OTHER is not set"):
        secrets("env:OTHER")


def test_vault_reference_prefers_the_vault_then_the_environment(vault: Vault) -> None:
    environ = {"MY_SHOP__API_TOKEN": "from-environment-0123456789"}
    secrets = Secrets("my-shop", vault, environ)
    assert fallback_env_name("my-shop", "api.token") == "MY_SHOP__API_TOKEN"
    assert secrets("vault:api.token") == "from-environment-0123456789"
    secrets.store("api.token", SECRET)
    assert secrets("vault:api.token") == SECRET


def test_missing_vault_reference_names_both_places(vault: Vault) -> None:
    with pytest.raises(CredentialMissing) as raised:
        Secrets("my-shop", vault, {})("vault:token")
    assert "`my-shop-mcp creds set token`" in str(raised.value) and "MY_SHOP__TOKEN" in str(raised.value)


def test_plain_values_are_values(vault: Vault) -> None:
    assert Secrets("shop", vault, {})("public-client-id") == "public-client-id"


def test_enc_value_opens_for_its_connector_only(vault: Vault) -> None:
    reference = seal_reference(vault, "shop", "token", SECRET)
    assert reference.startswith("enc:v1:") and SECRET not in reference
    assert Secrets("shop", vault, {})(reference) == SECRET
    with pytest.raises(CredentialError, match="sealed for another connector or name"):
        Secrets("other", vault, {})(reference)


def test_enc_value_with_another_name_or_a_flipped_character_fails(vault: Vault) -> None:
    reference = seal_reference(vault, "shop", "token", SECRET)
    renamed = reference.replace(":token:", ":other:")
    with pytest.raises(CredentialError, match="integrity check"):
        Secrets("shop", vault, {})(renamed)
    last = reference[-2]
    flipped = reference[:-2] + ("A" if last != "A" else "B") + reference[-1]
    with pytest.raises(CredentialError, match=r"integrity check|malformed"):
        Secrets("shop", vault, {})(flipped)
    with pytest.raises(CredentialError, match="malformed"):
        Secrets("shop", vault, {})(reference[:20])


def test_enc_value_after_key_rotation_says_to_seal_again(vault: Vault) -> None:
    reference = seal_reference(vault, "shop", "token", SECRET)
    vault.rotate_key()
    with pytest.raises(CredentialError, match="specbridge encrypt --connector shop --name token"):
        Secrets("shop", vault, {})(reference)


def test_literal_values_are_never_references(vault: Vault) -> None:
    secrets = Secrets("shop", vault, {"SHOP_TOKEN": SECRET})
    assert secrets(literal("env:SHOP_TOKEN")) == "env:SHOP_TOKEN"
    assert secrets(literal("literal:x")) == "literal:x"
    assert literal("plain") == "plain"


@pytest.mark.parametrize("variable", ["SPECBRIDGE_MASTER_KEY", "SPECBRIDGE_SERVER_TOKEN", "SPECBRIDGE_SERVER_TOKENS",
                                      "SPECBRIDGE_AUTH_CLIENT_SECRET", "specbridge_database_url", "AGENT_A_TOKEN"])
def test_the_processs_own_variables_are_never_read(vault: Vault, variable: str) -> None:
    secrets = Secrets("shop", vault, {variable: SECRET, variable.upper(): SECRET}, reserved={"AGENT_A_TOKEN"})
    with pytest.raises(CredentialError, match="this process's own secret"):
        secrets(f"env:{variable}")


def test_a_connectors_own_variable_may_start_like_the_reserved_ones(vault: Vault) -> None:
    assert fallback_env_name("specbridge_demo", "token") == "SPECBRIDGE_DEMO__TOKEN"
    assert Secrets("specbridge_demo", vault, {"SPECBRIDGE_DEMO__TOKEN": SECRET})("vault:token") == SECRET


def test_fallback_names_of_neighbouring_connectors_differ() -> None:
    assert fallback_env_name("team.a", "b_bearer_token") == "TEAM__A__B_BEARER_TOKEN"
    assert fallback_env_name("team.a_b", "bearer_token") == "TEAM__A_B__BEARER_TOKEN"
    assert fallback_env_name("a", "b_token") != fallback_env_name("a_b", "token")


def test_the_legacy_name_is_read_only_when_no_neighbour_could_mean_it(vault: Vault) -> None:
    environ = {"A_B_TOKEN": SECRET}
    assert Secrets("a", vault, environ, neighbours=set())("vault:b_token") == SECRET
    assert Secrets("a", vault, environ, neighbours={"a_b"}).lookup("vault:b_token") is None
    assert Secrets("a_b", vault, environ, neighbours={"a"}).lookup("vault:token") is None
    assert legacy_ambiguous("a", "b_token", frozenset({"c", "a_c"})) is None


@pytest.mark.parametrize("value", ["a\tb", "a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\u2028b"])
def test_a_secret_with_a_control_character_is_refused(vault: Vault, value: str) -> None:
    with pytest.raises(CredentialError, match=r"bad key format: .*U\+00|U\+2028"):
        Secrets("shop", vault, {"SHOP__TOKEN": value})("vault:token")
