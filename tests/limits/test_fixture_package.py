"""The fault API package, generated at test time, keeps the emitted-package contract: tools.json advertises
what the models validate, and every operation has its model (the checks generated packages ship)."""

from __future__ import annotations

from specbridge_runtime.testing import assert_schemas_match_models, assert_tools_match_operations

from tests.limits.conftest import PACKAGE


def test_tools_json_matches_the_models() -> None:
    assert_tools_match_operations(PACKAGE)
    assert_schemas_match_models(PACKAGE)
