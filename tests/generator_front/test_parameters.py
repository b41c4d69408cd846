"""Parameters: locations, styles, merging, ignored headers, and argument names that never collide."""

from __future__ import annotations

from specbridge import codes
from specbridge.diagnostics import Level
from specbridge_runtime.contract import BodyField, Param

from tests.generator_front.support import messages, normalize, oas3, op, swagger2, tool


def p(name: str, location: str, **fields: object) -> dict[str, object]:
    return {"name": name, "in": location, "schema": {"type": "string"}, **fields}


def test_locations_styles_and_content() -> None:
    built = tool(oas3({"/items/{id}": {"get": op(parameters=[
        p("id", "path", required=True, style="label"),
        p("tags", "query", schema={"type": "array", "items": {"type": "string"}}, style="pipeDelimited",
          explode=False),
        p("filter", "query", schema={"type": "object"}, style="deepObject", explode=True, allowReserved=True),
        p("X-Trace", "header"),
        p("session", "cookie"),
        {"name": "where", "in": "query", "content": {"application/json": {"schema": {"type": "object"}}}},
    ])}}))
    assert built.params == (
        Param("id", "id", "path", "label"),
        Param("tags", "tags", "query", "pipeDelimited", False),
        Param("filter", "filter", "query", "deepObject", True, True),
        Param("where", "where", "query", content_type="application/json"),
        Param("X-Trace", "X-Trace", "header"),
        Param("session", "session", "cookie"),
    )
    assert [(a.name, a.source, a.required) for a in built.arguments] == [
        ("id", "path", True), ("tags", "query", False), ("filter", "query", False), ("where", "query", False),
        ("X-Trace", "header", False), ("session", "cookie", False)]
    assert built.arguments[3].schema == {"type": "object"}


def test_path_level_parameters_merge_and_the_operation_overrides() -> None:
    built = tool(oas3({"/items/{id}": {
        "parameters": [p("id", "path", required=True, description="shared"), p("lang", "query")],
        "get": op(parameters=[p("id", "path", required=True, description="own", schema={"type": "integer"})]),
    }}))
    assert [(a.name, a.description, a.schema) for a in built.arguments] == [
        ("id", "own", {"type": "integer"}), ("lang", "", {"type": "string"})]


def test_parameter_refs_and_descriptions() -> None:
    built = tool(oas3({"/items": {"get": op(parameters=[{"$ref": "#/components/parameters/limit"}])}},
                      components={"parameters": {"limit": p("limit", "query", description="How many\x07 items",
                                                           example=10, deprecated=True)}}))
    (argument,) = built.arguments
    assert argument.description == "How many items"
    assert argument.schema == {"type": "string", "examples": [10], "deprecated": True}


def test_accept_content_type_and_authorization_headers_are_ignored() -> None:
    result = normalize(oas3({"/a": {"get": op(parameters=[p("Accept", "header"), p("content-type", "header"),
                                                          p("Authorization", "header"), p("X-Keep", "header")])}}))
    (built,) = result.connectors[0].tools
    assert [a.name for a in built.arguments] == ["X-Keep"]
    ignored = [d for d in result.diagnostics if d.code == codes.IGNORED_HEADER]
    assert [d.level for d in ignored] == [Level.INFO] * 3


def test_names_colliding_across_locations_first_claimant_wins() -> None:
    document = oas3({"/users/{id}": {"post": op(
        parameters=[p("id", "query"), p("id", "path", required=True), p("id", "header"), p("id", "cookie"),
                    p("page[size]", "query"), p("page_size", "query")],
        requestBody={"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "name": {}}}}}},
    )}})
    built = tool(document)
    assert [(a.name, a.source) for a in built.arguments] == [
        ("id", "path"), ("query_id", "query"), ("page_size", "query"), ("query_page_size", "query"),
        ("header_id", "header"), ("cookie_id", "cookie"), ("body_id", "body"), ("name", "body")]
    assert [(param.arg, param.name) for param in built.params][2:4] == [("page_size", "page[size]"),
                                                                       ("query_page_size", "page_size")]
    assert built.body is not None
    assert built.body.fields == (BodyField(arg="body_id", prop="id"), BodyField(arg="name", prop="name"))
    assert tool(document) == built  # deterministic


def test_path_template_is_made_whole() -> None:
    result = normalize(oas3({"/a/{b}/{c}": {"get": op(parameters=[p("c", "path", required=True),
                                                                  p("stray", "path", required=True)])}}))
    (built,) = result.connectors[0].tools
    assert [(a.name, a.required) for a in built.arguments] == [("c", True), ("b", True)]
    assert any("{b} has no parameter" in message for message in messages(result.diagnostics, Level.WARNING))
    assert any("'stray' is not in the path" in message for message in messages(result.diagnostics, Level.WARNING))


def test_path_parameters_are_always_required() -> None:
    assert tool(oas3({"/a/{b}": {"get": op(parameters=[p("b", "path")])}})).arguments[0].required


def test_swagger2_collection_formats_become_styles() -> None:
    array = {"type": "array", "items": {"type": "string"}}
    built = tool(swagger2({"/a/{ids}": {"get": op(parameters=[
        {"name": "ids", "in": "path", "required": True, **array},
        {"name": "csv", "in": "query", **array},
        {"name": "multi", "in": "query", "collectionFormat": "multi", **array},
        {"name": "ssv", "in": "query", "collectionFormat": "ssv", **array},
        {"name": "pipes", "in": "query", "collectionFormat": "pipes", **array},
        {"name": "h", "in": "header", "collectionFormat": "csv", **array},
        {"name": "n", "in": "query", "type": "integer", "minimum": 1, "x-nullable": True},
    ])}}))
    assert [(param.name, param.style, param.explode) for param in built.params] == [
        ("ids", "simple", False), ("csv", "form", False), ("multi", "form", True), ("ssv", "spaceDelimited", False),
        ("pipes", "pipeDelimited", False), ("n", None, None), ("h", "simple", False)]
    assert built.arguments[5].schema == {"type": ["integer", "null"], "minimum": 1}
    assert built.arguments[1].schema == array


def test_a_collection_format_that_is_not_text_is_csv_with_a_warning() -> None:
    array = {"type": "array", "items": {"type": "string"}}
    result = normalize(swagger2({"/a": {"get": op(parameters=[
        {"name": "ids", "in": "query", "collectionFormat": {"a": 1}, **array}])}}))
    assert [(param.style, param.explode) for param in result.connectors[0].tools[0].params] == [("form", False)]
    assert any("collectionFormat {'a': 1}" in message for message in messages(result.diagnostics, Level.WARNING))


def test_invalid_style_falls_back_to_the_default_with_a_warning() -> None:
    result = normalize(oas3({"/a": {"get": op(parameters=[p("q", "query", style="matrix")])}}))
    assert result.connectors[0].tools[0].params[0].style is None
    assert any("style 'matrix'" in message for message in messages(result.diagnostics, Level.WARNING))


def test_unknown_location_skips_only_when_required() -> None:
    result = normalize(oas3({"/a": {"get": op(parameters=[p("x", "body")])},
                             "/b": {"get": op(parameters=[p("y", "body", required=True)])}}))
    built = result.connectors[0]
    assert [t.path for t in built.tools] == ["/a"]
    assert [(s.method, s.path) for s in built.skipped] == [("GET", "/b")]
    assert any(d.code == codes.OPERATION_SKIPPED and "GET /b" in d.message for d in result.diagnostics)


def test_a_path_key_with_a_query_or_fragment_suffix_is_its_plain_path_with_fixed_query_pairs() -> None:
    document = oas3({
        "/#Action=CreateGroup&Version=2010-05-08": {"post": op(operationId="CreateGroup", parameters=[
            p("Action", "query", required=True, schema={"type": "string", "enum": ["CreateGroup"]}),
            p("GroupName", "query", required=True)])},
        "/?Action=DeleteGroup": {"get": op(operationId="DeleteGroup")},
        "/GetComponent#componentArn": {"get": op(operationId="GetComponent", parameters=[
            p("componentArn", "query", required=True)])},
    })
    create, delete, component = (tool(document, name) for name in (
        "test_create_group", "test_delete_group", "test_get_component"))
    assert (create.path, create.query) == ("/", (("Action", "CreateGroup"), ("Version", "2010-05-08")))
    assert [a.name for a in create.arguments] == ["GroupName"]  # the key fixes Action: no argument for it
    assert (delete.path, delete.query) == ("/", (("Action", "DeleteGroup"),))
    assert (component.path, component.query) == ("/GetComponent", ())  # a bare name only told keys apart
    assert [a.name for a in component.arguments] == ["componentArn"]
    assert create.location == "#/paths/~1#Action=CreateGroup&Version=2010-05-08/post"
    anonymous = normalize(oas3({"/?Action=ListGroups": {"get": op()}, "/?Action=ListUsers": {"get": op()}}))
    assert [t.name for t in anonymous.connectors[0].tools] == ["test_get_list_groups", "test_get_list_users"]


def test_accept_lists_the_documented_success_media_types() -> None:
    def content(*types: str) -> dict[str, object]:
        return {"description": "ok", "content": {media_type: {"schema": {"type": "object"}} for media_type in types}}

    document = oas3({
        "/a": {"get": op(responses={"200": content("application/vnd.github+json", "application/json"),
                                    "206": content("application/json"), "404": content("application/problem+json")})},
        "/b": {"get": op(responses={"default": content("text/csv")})},
        "/c": {"get": op(responses={"200": content("*/*")})},
        "/d": {"delete": op(responses={"204": {"description": "gone"}})},
    })
    assert [t.accept for t in normalize(document).connectors[0].tools] == [
        "application/vnd.github+json, application/json", "text/csv", "", ""]
    swagger = swagger2({"/a": {"get": op()}, "/b": {"get": op(produces=["application/xml"])}},
                       produces=["application/json"])
    assert [t.accept for t in normalize(swagger).connectors[0].tools] == ["application/json", "application/xml"]
    unstated = swagger2({"/a": {"get": op(responses={"200": {"description": "ok", "schema": {"type": "object"}}})},
                         "/b": {"get": op()}})
    assert [t.accept for t in normalize(unstated).connectors[0].tools] == ["application/json", ""]
