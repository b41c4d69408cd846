"""Names from untrusted text: valid, bounded, unique and the same on every run."""

from __future__ import annotations

import pytest
from specbridge.naming import (
    TOOL_NAME,
    NameAllocator,
    argument_name,
    connector_name,
    distinguishing_words,
    framework_free,
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


def test_long_tool_names_keep_their_meaning() -> None:
    long_id = "reposListForAuthenticatedUserWithAVeryLongNameThatGoesOnAndOnForever"
    name = tool_name("github", snake_case(long_id))
    # Fillers go, long words are abbreviated, then middle words: the first and last words stay, no hash.
    assert name == "github_repos_list_auth_user_very_long_name_that_goes_forever"
    assert name == tool_name("github", snake_case(long_id))
    shortened = tool_name("shop", "droplets_destroy_with_associated_resources_selective_and_everything_else_too_x")
    assert shortened == "shop_droplets_destroy_associated_resources_everything_else_too_x"


def test_a_name_of_few_long_words_is_cut_at_a_word_boundary_with_a_hash() -> None:
    name = tool_name("github", "a" * 40 + "_" + "b" * 30)
    assert name.startswith("github_" + "a" * 40 + "_") and len(name) == 54
    assert TOOL_NAME.match(name) and name != tool_name("github", "a" * 40 + "_" + "b" * 31)


@pytest.mark.parametrize(("operation_id", "method", "path", "cleaned"), [
    ("read_flow_flows__id__get", "GET", "/flows/{id}", "read_flow"),
    ("create_deployment_deployments__post", "POST", "/deployments/", "create_deployment"),
    ("read_items_api_v1_items_get", "GET", "/api/v1/items", "read_items"),
    ("read_flow_flows__id__get", "POST", "/flows/{id}", "read_flow_flows__id__get"),  # another method: kept
    ("read_flow_flows__id__get", "GET", "/v2/flows/{id}", "read_flow_flows__id__get"),  # another path: kept
    ("_flows__id__get", "GET", "/flows/{id}", "_flows__id__get"),  # nothing would be left
    ("listPets", "GET", "/pets", "listPets"),
])
def test_fastapi_operation_ids_lose_their_generated_suffix(operation_id: str, method: str, path: str,
                                                           cleaned: str) -> None:
    assert framework_free(operation_id, method, path) == cleaned


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


def test_operations_sharing_an_operation_id_are_told_apart_by_the_words_only_their_paths_have() -> None:
    assert distinguishing_words(["/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers",
                                 "/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers"]) == [
        ["v1"], ["v2"]]


def test_a_taken_name_gets_its_hash_after_a_whole_word() -> None:
    names = NameAllocator()
    first = names.claim_with_hash("shop_actions_get_limit_enterprise_cache_storage_and_more_words_here", "a")
    second = names.claim_with_hash("shop_actions_get_limit_enterprise_cache_storage_and_more_words_here", "b")
    assert first != second and len(second) <= 64
    assert second.rsplit("_", 1)[0] == "shop_actions_get_limit_enterprise_cache_storage_and_more"
