"""normalize_rest as a whole: tool names, selection, limits, splitting, hand-written operations, texts."""

from __future__ import annotations

from typing import Any

import pytest
from specbridge import codes
from specbridge.diagnostics import Level
from specbridge.naming import TOOL_NAME

from tests.generator_front.support import connector, messages, normalize, oas3, op

SHOP = oas3({
    "/orders": {"get": op(operationId="listOrders", tags=["orders"], summary="List orders"),
                "post": op(operationId="createOrder", tags=["orders", "admin"])},
    "/orders/{id}": {"get": op(operationId="getOrder", tags=["orders"], deprecated=True),
                     "delete": op(operationId="deleteOrder", tags=["Order Admin"])},
    "/users": {"get": op(operationId="listUsers", tags=["users"])},
    "/health": {"get": op()},
})


def names(document: dict[str, Any], **options: Any) -> list[str]:
    return [t.name for t in connector(document, **options).tools]


def test_tool_names_from_operation_ids_or_method_and_path() -> None:
    assert names(SHOP) == ["test_list_orders", "test_create_order", "test_get_order", "test_delete_order",
                           "test_list_users", "test_get_health"]


def test_hostile_and_odd_operation_ids_still_give_valid_unique_names() -> None:
    document = oas3({f"/r{index}": {"get": op(operationId=operation_id)} for index, operation_id in enumerate([
        "../../etc/passwd", "class", "", "获取用户", "créer", "x" * 300, "a b", "a-b", "A_B", "\n"])})
    built = names(document)
    assert all(TOOL_NAME.match(name) for name in built)
    assert len(set(built)) == len(built)
    assert built[:5] == ["test_etc_passwd", "test_class", "test_get_r2", "test_get_r3", "test_creer"]
    assert names(document) == built


def test_colliding_names_get_a_hash_suffix_and_stay_stable() -> None:
    document = oas3({"/a": {"get": op(operationId="fetchItem")}, "/b": {"get": op(operationId="fetch_item")},
                     "/c": {"get": op(operationId="FetchItem")}})
    first, second, third = names(document)
    assert first == "test_fetch_item"
    assert second.startswith("test_fetch_item_") and third.startswith("test_fetch_item_") and second != third
    reordered = oas3({"/c": document["paths"]["/c"], "/a": document["paths"]["/a"], "/b": document["paths"]["/b"]})
    assert dict(zip(["/a", "/b", "/c"], [first, second, third], strict=True))["/b"] in names(reordered)


def test_definition_tool_names_override() -> None:
    result = normalize(SHOP, {"type": "rest", "name": "shop", "openapi": "x.yaml",
                              "tool_names": {"listOrders": "orders", "nope": "other"}}, name=None)
    built = result.connectors[0]
    assert [t.name for t in built.tools][:2] == ["orders", "shop_create_order"]
    assert [(d.source, d.location) for d in result.diagnostics if d.code == codes.DEFINITION_MISMATCH] == [
        ("definition.json", "#/tool_names/nope")]


@pytest.mark.parametrize(("include", "exclude", "expected"), [
    (("orders",), (), ["list_orders", "create_order", "get_order"]),
    (("/users*",), (), ["list_users"]),
    (("*Order",), ("delete*",), ["create_order", "get_order"]),
    ((), ("orders", "Order Admin"), ["list_users", "get_health"]),
])
def test_include_and_exclude_match_operation_id_tag_or_path(include: tuple[str, ...], exclude: tuple[str, ...],
                                                             expected: list[str]) -> None:
    assert names(SHOP, include=include, exclude=exclude) == [f"test_{name}" for name in expected]


def test_include_matching_nothing_is_an_error() -> None:
    result = normalize(SHOP, include=("nothing*",))
    assert result.connectors == ()
    assert "no operations left" in messages(result.diagnostics, Level.ERROR)[0]


def test_more_operations_than_the_limit_is_an_error_that_says_the_ways_out() -> None:
    result = normalize(SHOP, max_operations=5)
    assert result.connectors == ()
    (error,) = [d for d in result.diagnostics if d.level is Level.ERROR]
    assert error.code == codes.TOO_MANY_OPERATIONS
    for part in ("6 operations", "limit of 5", "--include/--exclude", "--max-operations N", "--split-by tag"):
        assert part in error.message
    assert len(connector(SHOP, max_operations=6).tools) == 6


def test_split_by_tag() -> None:
    result = normalize(SHOP, split_by="tag", max_operations=3, name="shop")
    assert [(c.spec.name, [t.name for t in c.tools]) for c in result.connectors] == [
        ("shop_orders", ["shop_orders_list_orders", "shop_orders_create_order", "shop_orders_get_order"]),
        ("shop_order_admin", ["shop_order_admin_delete_order"]),
        ("shop_users", ["shop_users_list_users"]),
        ("shop_default", ["shop_default_get_health"]),
    ]
    assert result.connectors[0].spec.title == "Test API (orders)"
    too_many = normalize(SHOP, split_by="tag", max_operations=2, name="shop")
    # Every package that fits is made; `orders` (all on /orders) cannot be split further and is left out.
    assert [c.spec.name for c in too_many.connectors] == ["shop_order_admin", "shop_users", "shop_default"]
    warning = messages(too_many.diagnostics, Level.WARNING)[0]
    assert "connector 'shop_orders' would have 3 operations" in warning and "not generated" in warning
    assert not messages(too_many.diagnostics, Level.ERROR)


def test_split_by_tag_splits_an_oversized_tag_by_path_segments_and_names_packages_after_tags() -> None:
    paths: dict[str, Any] = {}
    for scope in ("orgs", "repos"):
        for resource in ("runners", "secrets", "variables"):
            paths[f"/{scope}/{{owner}}/actions/{resource}"] = {
                "get": op(operationId=f"list-{scope}-{resource}", tags=["actions"]),
                "post": op(operationId=f"create-{scope}-{resource}", tags=["actions"])}
    paths["/meta"] = {"get": op(operationId="meta", tags=["meta"])}
    result = normalize(oas3(paths), split_by="tag", max_operations=4, name="git_hub_s_official_open_api_spec")
    # All packages share the prefix that lets every name fit; a name still too long is cut at a word.
    assert [(c.spec.name, len(c.tools), c.spec.title) for c in result.connectors] == [
        ("git_actions_orgs_runners_secrets", 4, "Test API (actions orgs runners secrets)"),
        ("git_actions_orgs_variables", 2, "Test API (actions orgs variables)"),
        ("git_actions_repos_runners", 4, "Test API (actions repos runners secrets)"),
        ("git_actions_repos_variables", 2, "Test API (actions repos variables)"),
        ("git_meta", 1, "Test API (meta)")]
    first = result.connectors[0]
    assert [t.path for t in first.tools] == [
        "/orgs/{owner}/actions/runners", "/orgs/{owner}/actions/runners",
        "/orgs/{owner}/actions/secrets", "/orgs/{owner}/actions/secrets"]
    assert not [d for d in result.diagnostics if d.code == codes.TOO_MANY_OPERATIONS]


def test_hand_written_operations_add_override_and_patch() -> None:
    definition = {"type": "rest", "name": "shop", "openapi": "spec.yaml", "operations": [
        {"name": "listOrders", "method": "GET", "path": "/v2/orders", "description": "Replaced"},
        {"name": "createOrder", "idempotent": True, "description": "Safe to retry"},
        {"name": "ping", "method": "head", "path": "/ping", "parameters": [
            {"name": "deep", "location": "query", "type": "boolean"}]},
    ]}
    built = connector(SHOP, definition, name=None)
    by_name = {t.name: t for t in built.tools}
    assert by_name["shop_list_orders"].path == "/v2/orders"
    assert by_name["shop_list_orders"].description == "Replaced"
    assert (by_name["shop_create_order"].idempotent, by_name["shop_create_order"].description) == (True,
                                                                                                 "Safe to retry")
    ping = by_name["shop_ping"]
    assert (ping.method, ping.arguments[0].schema) == ("HEAD", {"type": "boolean"})
    assert list(by_name)[-1] == "shop_ping"


def test_hand_written_operations_without_a_spec_and_mistakes() -> None:
    ok = connector(None, {"type": "rest", "name": "Shop Store", "base_url": "https://shop.example.com",
                          "operations": [{"name": "get_user", "method": "GET", "path": "/users/{user_id}",
                                          "parameters": [{"name": "user_id", "location": "path"}]}]}, name=None)
    assert ok.spec.name == "shop_store"
    assert [(t.name, t.title, t.arguments[0].required) for t in ok.tools] == [
        ("shop_store_get_user", "Read a user by user id", True)]
    broken = normalize(SHOP, {"type": "rest", "name": "shop", "openapi": "x", "operations": [
        {"name": "missing"}, {"name": "half", "method": "GET"}]})
    assert broken.connectors == ()
    assert [d.location for d in broken.diagnostics if d.level is Level.ERROR] == ["#/operations/0",
                                                                                   "#/operations/1"]


def test_titles_and_descriptions_are_clean_bounded_text() -> None:
    document = oas3({"/a": {"get": op(operationId="a", summary="Sum\x00mary\nline", description="D" * 5000 + "\x1b")},
                     "/b": {"get": op(summary="Only summary")}, "/c": {"get": op(operationId="cOp")}})
    first, second, third = connector(document).tools
    assert first.title == "Summary line"
    assert len(first.description) == 1024 and first.description.endswith("…")
    assert (second.title, second.description) == ("Only summary", "Only summary")
    assert (third.title, third.description) == ("Read c", "GET /c: read c.")  # written from method and path


def test_deprecated_kept_webhooks_and_callbacks_reported() -> None:
    document = oas3({"/orders/{id}": {"get": op(operationId="getOrder", deprecated=True, callbacks={"onDone": {}})}},
                    version="3.1.0", webhooks={"newOrder": {"post": op()}})
    result = normalize(document)
    assert result.connectors[0].tools[0].deprecated is True
    infos = [d for d in result.diagnostics if d.code == codes.NOT_GENERATED]
    assert [d.level for d in infos] == [Level.INFO, Level.INFO]


@pytest.mark.parametrize(("document", "fragment"), [
    (oas3({}, version="3.1.0", webhooks={"x": {"post": op()}}), "no operations: the document only has webhooks"),
    (oas3({}), "no operations: the document's `paths` define none"),
    (oas3({"/a": {"get": "broken"}}), "no operations could be generated: all 1 were skipped"),
])
def test_nothing_to_generate_is_an_error(document: dict[str, Any], fragment: str) -> None:
    result = normalize(document)
    assert result.connectors == ()
    assert fragment in " ".join(messages(result.diagnostics, Level.ERROR))


def test_connector_name_and_metadata() -> None:
    built = connector(SHOP, name=None)
    assert (built.spec.name, built.spec.title, built.spec.version) == ("test_api", "Test API", "1.0.0")
    assert connector(oas3({"/a": {"get": op()}}, info={}), name=None, source="my-spec.yaml").spec.name == "my_spec"
    assert connector(SHOP, name="Shop!").spec.name == "shop"


def test_definition_limits_map_to_tool_names() -> None:
    result = normalize(SHOP, {"type": "rest", "name": "shop", "openapi": "x", "limits": {
        "rate": "10/s", "timeout_s": 5, "operations": {"createOrder": {"rate": "1/s"}, "shop_list_users": {
            "timeout_s": 120}, "unknown": {"rate": "1/min"}}}}, name=None)
    limits = result.connectors[0].spec.limits
    assert (limits.rate, limits.timeout_s, limits.concurrency) == ("10/s", 5, 10)
    assert dict(limits.operations) == {"shop_create_order": limits.for_operation("shop_create_order"),
                                       "shop_list_users": limits.for_operation("shop_list_users")}
    assert [d.location for d in result.diagnostics if d.code == codes.DEFINITION_MISMATCH] == [
        "#/limits/operations/unknown"]


def test_refs_to_path_items_request_bodies_and_responses_are_followed() -> None:
    document = oas3({"/pets": {"$ref": "#/components/pathItems/Pets"}}, version="3.1.0", components={
        "pathItems": {"Pets": {"post": {"operationId": "addPet",
                                        "requestBody": {"$ref": "#/components/requestBodies/Pet"},
                                        "responses": {"201": {"$ref": "#/components/responses/Created"}}}}},
        "requestBodies": {"Pet": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": {"name": {"type": "string"}}}}}}},
        "responses": {"Created": {"description": "made", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"id": {"description": "New id"}}}}}}}})
    (built,) = connector(document).tools
    assert (built.name, [a.name for a in built.arguments]) == ("test_add_pet", ["name"])
    assert built.output_schema is not None
    assert built.output_schema["properties"].keys() == {"id", "_response"}



def test_tool_names_drop_fastapi_suffixes_and_tell_shared_ids_apart_by_path() -> None:
    document = oas3({
        "/flows/{id}": {"get": op(operationId="read_flow_flows__id__get"),
                        "delete": op(operationId="delete_flow_flows__id__delete")},
        "/a/items/": {"get": op(operationId="read_items_a_items__get")},
        "/b/items/": {"get": op(operationId="read_items_b_items__get")},  # same function in two routers
        "/apis/apps/v1/": {"get": op(operationId="getAPIResources")},
        "/apis/batch/v1/": {"get": op(operationId="getAPIResources")},  # Kubernetes repeats operationIds
    })
    names = [t.name for t in connector(document).tools]
    assert names == ["test_read_flow", "test_delete_flow", "test_read_items_a_items_get", "test_read_items_b_items_get",
                     "test_get_api_resources", "test_get_api_resources_batch"]
