"""Fixtures of the runtime tests: the handwritten fixture package (the shape `specbridge gen` emits) and a
mock upstream for it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))

from sbfixture_mcp.connector import PACKAGE  # noqa: E402
from specbridge_runtime import RestPackage  # noqa: E402
from specbridge_runtime.testing import MockUpstream  # noqa: E402


@pytest.fixture
def package() -> RestPackage:
    return PACKAGE


@pytest.fixture
def upstream() -> MockUpstream:
    return MockUpstream()
