"""Fixtures of the runtime tests: the package `sbfixture`, generated from `specs/sbfixture.json` when the
tests start (so it is always the shape `specbridge gen` emits), and a mock upstream for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import generated_package

SBFIXTURE_SRC = generated_package(Path(__file__).parent / "specs" / "sbfixture.json")

from sbfixture_mcp.connector import PACKAGE  # noqa: E402
from specbridge_runtime import RestPackage  # noqa: E402
from specbridge_runtime.testing import MockUpstream  # noqa: E402


@pytest.fixture
def package() -> RestPackage:
    return PACKAGE


@pytest.fixture
def upstream() -> MockUpstream:
    return MockUpstream()
