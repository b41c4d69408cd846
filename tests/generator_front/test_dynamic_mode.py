"""`tools: dynamic` in normalize: every operation not excluded is kept, `include` only chooses the operations
also listed as direct tools, and the per-connector limit counts those."""

from __future__ import annotations

from typing import Any

from specbridge import codes

from tests.generator_front.support import connector, normalize, oas3, op


def many(count: int) -> dict[str, Any]:
    return oas3({f"/things{n}": {"get": op(operationId=f"getThing{n}"), "delete": op(operationId=f"dropThing{n}")}
                 for n in range(count)})


def test_every_operation_is_kept_and_only_included_ones_are_listed() -> None:
    built = connector(many(80), tools="dynamic", include=("getThing1*",), exclude=("dropThing7*",))
    assert built.tools_mode == "dynamic"
    assert len(built.tools) == 160 - 11  # dropThing7, dropThing70..79 are excluded
    assert sorted(tool.operation_id for tool in built.listed_tools) == sorted(
        ["getThing1", *(f"getThing1{n}" for n in range(10))])


def test_the_limit_counts_direct_tools_not_operations() -> None:
    assert connector(many(80), tools="dynamic").listed_tools == ()  # 160 operations, 3 tools: within 100
    too_many = normalize(many(80), tools="dynamic", include=("getThing*",), max_operations=50)
    assert not too_many.connectors
    (error,) = [d for d in too_many.diagnostics if d.code == codes.TOO_MANY_OPERATIONS]
    assert "80 direct tools" in error.message


def test_the_definition_chooses_dynamic_and_an_include_matching_nothing_is_a_warning() -> None:
    result = normalize(many(3), {"type": "rest", "name": "test", "openapi": "spec.json", "tools": "dynamic",
                                 "include": ["nothing*"]})
    (built,) = result.connectors
    assert built.tools_mode == "dynamic" and len(built.tools) == 6 and built.listed_tools == ()
    assert codes.DEFINITION_MISMATCH in {d.code for d in result.diagnostics}
