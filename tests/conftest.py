"""Session fixtures shared by all test areas: the real-world specs and real servers (httpbin from PyPI)
started on 127.0.0.1, waited for and stopped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import HTTPBIN_SERVER, SHARED_SPECS, free_port, serving


@pytest.fixture(scope="session")
def shared_specs() -> Path:
    if not (SHARED_SPECS / "MANIFEST.json").exists():
        pytest.fail(f"the shared real-world specs are not at {SHARED_SPECS} (set SPECBRIDGE_SHARED)")
    return SHARED_SPECS


@pytest.fixture(scope="session")
def httpbin_url() -> Iterator[str]:
    """httpbin (PyPI) on 127.0.0.1, for the whole session."""
    port = free_port()
    with serving([sys.executable, "-c", HTTPBIN_SERVER, str(port)], port):
        yield f"http://127.0.0.1:{port}"
