"""Tools whose spec has neither summary nor description get one written from method, path and arguments."""

from __future__ import annotations

import pytest
from specbridge.ir import Argument
from specbridge.normalize.describe import synthesized_description, synthesized_title

from tests.generator_front.support import connector, oas3, op


@pytest.mark.parametrize(("method", "path", "phrase"), [
    ("GET", "/flows/{id}", "read a flow by id"),
    ("GET", "/flows", "list flows"),
    ("POST", "/flows", "create a flow"),
    ("POST", "/flows/{id}/run", "run a flow"),
    ("DELETE", "/2010-04-01/Accounts/{AccountSid}/Addresses/{Sid}.json", "delete an address by sid"),
    ("POST", "/2010-04-01/Accounts/{AccountSid}/Addresses.json", "create an address for an account"),
    ("GET", "/users/{user_id}/categories", "list the categories of a user"),
    ("PATCH", "/users/{user_id}/status", "update the status of a user"),
    ("POST", "/search", "call search"),
    ("GET", "/", "list the root resource"),
    ("GET", "/{id}", "read an item by id"),
])
def test_phrases_from_method_and_path(method: str, path: str, phrase: str) -> None:
    assert synthesized_description(method, path, []) == f"{method} {path}: {phrase}."
    assert synthesized_title(method, path) == phrase[:1].upper() + phrase[1:]


def test_arguments_are_listed_required_first_as_given_and_bounded() -> None:
    arguments = [Argument("id", {}, True, "path"), *(Argument(f"q{n}", {}, False, "query") for n in range(9))]
    text = synthesized_description("GET", "/flows/{id}", arguments)
    assert text == ("GET /flows/{id}: read a flow by id. Arguments: id (required), q0, q1, q2, q3, q4, q5, q6 "
                    "and 2 more.")


def test_spec_text_wins_and_every_tool_has_a_description() -> None:
    document = oas3({"/flows/{id}": {
        "get": op(operationId="read_flow_flows__id__get", parameters=[
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}]),
        "delete": op(summary="Remove it")}})
    read, delete = connector(document).tools
    assert (read.title, read.description) == ("Read a flow by id",
                                              "GET /flows/{id}: read a flow by id. Arguments: id (required).")
    assert (delete.title, delete.description) == ("Remove it", "Remove it")
