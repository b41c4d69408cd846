"""Fixtures of the runtime tests: the package `sbfixture`, generated from `specs/sbfixture.json` when the
tests start (so it is always the shape `specbridge gen` emits), and a mock upstream for it; for the tests of
the HTTP client, both values of its switch and an environment without proxies."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runtime.loopback import PROXY_VARIABLES
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


@pytest.fixture(params=[True, False], ids=["fast-io", "stock-io"])
def fast(request: pytest.FixtureRequest) -> bool:
    """`SPECBRIDGE_FAST_IO` on (the runtime's HTTP/1.1 client on httptools) or off (httpx2's own transport)."""
    return bool(request.param)


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy named by the environment (with one, every request goes through httpx2)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
