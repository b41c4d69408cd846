"""Session fixtures shared by all test areas: the real-world specs and real servers (httpbin from PyPI)
started on 127.0.0.1, waited for and stopped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import HTTPBIN_SERVER, SHARED, SHARED_SPECS, free_port, serving

CORPUS_PRESENT = (SHARED_SPECS / "MANIFEST.json").exists()
CORPUS_ABSENT = (f"the real-world corpus is absent ({SHARED}: ../shared beside the clone, or set SPECBRIDGE_SHARED); "
                 "the tests marked `corpus` read it and are skipped")


def pytest_report_header() -> str:
    return f"real-world corpus: {SHARED}" if CORPUS_PRESENT else CORPUS_ABSENT


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CORPUS_PRESENT:
        return
    for item in items:
        if item.get_closest_marker("corpus"):
            item.add_marker(pytest.mark.skip(reason=CORPUS_ABSENT))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CORPUS_PRESENT:
        terminalreporter.write_line(CORPUS_ABSENT, yellow=True)


@pytest.fixture(scope="session")
def shared_specs() -> Path:
    if not CORPUS_PRESENT:
        pytest.skip(CORPUS_ABSENT)
    return SHARED_SPECS


@pytest.fixture(scope="session")
def httpbin_url() -> Iterator[str]:
    """httpbin (PyPI) on 127.0.0.1, for the whole session."""
    port = free_port()
    with serving([sys.executable, "-c", HTTPBIN_SERVER, str(port)], port):
        yield f"http://127.0.0.1:{port}"
