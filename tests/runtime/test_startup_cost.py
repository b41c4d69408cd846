"""What the start-up savings must not cost a user: importing the runtime leaves the process's garbage
collector as it found it (the pause covers the import only), and a server of fixed tools does not load the
WebSocket client or the search index before it is asked for them. Each check runs in a fresh interpreter, so
nothing imported by the test session hides what the import itself does."""

import subprocess
import sys

import pytest

from tests.runtime.conftest import SBFIXTURE_SRC


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(SBFIXTURE_SRC), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("enabled", [True, False])
def test_importing_the_runtime_keeps_the_hosts_gc_setting(enabled):
    before = "" if enabled else "gc.disable(); "
    shown = _python(f"import gc; {before}import specbridge_runtime; print(gc.isenabled())")
    assert shown == str(enabled)


def test_a_generated_package_starts_without_websocket_or_search_support():
    unwanted = ("wsproto", "specbridge_runtime._mechanisms.websocket", "specbridge_runtime._mechanisms.search",
                "specbridge_runtime._providers.search")
    shown = _python("import sys, sbfixture_mcp.connector, specbridge_runtime._commands.serve; "
                    f"print(sorted(m for m in sys.modules if m.startswith({unwanted!r})))")
    assert shown == "[]"


def test_the_search_provider_is_still_a_public_name():
    shown = _python("from specbridge_runtime import SearchProvider; print(SearchProvider.__name__)")
    assert shown == "SearchProvider"
