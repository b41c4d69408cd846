"""Names from untrusted text: valid, bounded, unique and the same on every run."""

from __future__ import annotations

import pytest
from specbridge.naming import (
    TOOL_NAME,
    NameAllocator,
    argument_name,
    connector_name,
    operation_slug,
    snake_case,
    tool_name,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("findPets", "find_pets"), ("getHTTPResponse", "get_http_response"), ("repos/get-content", "repos_get_content"),
    ("GetCustomersCustomer", "get_customers_customer"), ("find pet by id", "find_pet_by_id"),
    ("créerCommande", "creer_commande"), ("获取用户", ""), ("", ""), ("__x__", "x"), ("v2.list", "v2_list"),
])
def test_snake_case(text: str, expected: str) -> None:
    assert snake_case(text) == expected


@pytest.mark.parametrize(("operation_id", "method", "path", "slug"), [
    ("listPets", "GET", "/pets", "list_pets"),
    ("", "GET", "/pets/{id}", "get_pets_id"),
    ("获取用户", "POST", "/users", "post_users"),
    ("", "DELETE", "/", "delete_root"),
    ("../../x", "GET", "/x", "x"),
    ("class", "GET", "/x", "class"),
])
def test_operation_slugs(operation_id: str, method: str, path: str, slug: str) -> None:
    assert operation_slug(operation_id, method, path) == slug


@pytest.mark.parametrize("operation_id", ["listPets", "", "../../etc/passwd", "class", "import", "def", "None",
                                          "获取用户", "x" * 500, "a-b c.d/e", "\x00\n\t", "🙂"])
def test_tool_names_are_always_valid(operation_id: str) -> None:
    name = tool_name("shop", operation_slug(operation_id, "GET", "/items/{item-id}"))
    assert TOOL_NAME.match(name), name
    assert name.startswith("shop_")


def test_long_tool_names_are_cut_deterministically_with_a_hash() -> None:
    long_id = "reposListForAuthenticatedUserWithAVeryLongNameThatGoesOnAndOnForever"
    name = tool_name("github", snake_case(long_id))
    assert len(name) == 64
    assert name == tool_name("github", snake_case(long_id))
    assert name[:57] == "github_repos_list_for_authenticated_user_with_a_very_long_"[:57]
    other = tool_name("github", snake_case(long_id + "Two"))
    assert other != name and other[:-7] == name[:-7]


def test_allocator_first_claimant_keeps_the_name() -> None:
    names = NameAllocator()
    assert names.claim("id", prefix="path") == "id"
    assert names.claim("id", prefix="query") == "query_id"
    assert names.claim("id", prefix="query") == "query_id_2"
    assert names.claim("id", prefix="query") == "query_id_3"
    assert names.claim_with_hash("shop_a", "GET /a") == "shop_a"
    second = names.claim_with_hash("shop_a", "GET /b")
    assert second.startswith("shop_a_") and len(second) == len("shop_a_") + 6
    assert NameAllocator().claim_with_hash("shop_a", "x") == "shop_a"


@pytest.mark.parametrize(("wire", "argument"), [
    ("limit", "limit"), ("X-Request-Id", "X-Request-Id"), ("page[size]", "page_size"), ("StartTime<", "StartTime"),
    ("a b", "a_b"), ("名前", None), ("../../x", ".._.._x"), ("$top", "top"),
])
def test_argument_names(wire: str, argument: str | None) -> None:
    name = argument_name(wire)
    assert 1 <= len(name) <= 64
    if argument is None:
        assert name.startswith("arg_") and name == argument_name(wire)
    else:
        assert name == argument


@pytest.mark.parametrize(("text", "name"), [
    ("Stripe API", "stripe_api"), ("1Password Connect", "api_1_password_connect"), ("", "api"), ("!!!", "api"),
    ("GitHub's official OpenAPI spec + Octokit extension", "git_hub_s_official_open_api_spec"),
    ("Shopify Store", "shopify_store"),
])
def test_connector_names(text: str, name: str) -> None:
    assert connector_name(text) == name
