"""What the start-up savings must not cost a user: importing the runtime leaves the process's garbage
collector as it found it (the pause covers the import only), a server of fixed tools does not load the
WebSocket client or the search index before it is asked for them, and a REST package is imported and its
provider built (the gate, auth, retries, audit, credentials, metrics) without the libraries only a call or
another transport needs. Each check runs in a fresh interpreter, so nothing imported by the test session
hides what the import itself does."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime.conftest import SBFIXTURE_SRC
from tests.support import REPO

# Loaded by the first call (httpx2, pydantic input models, the protocol models of its result, the vault's
# cipher, anyio's waits), by HTTP transports (uvicorn, starlette, the SDK's server) or by `/metrics`.
NOT_AT_START = ("mcp", "mcp_types", "httpx2", "httpcore2", "pydantic", "pydantic_core", "uvicorn", "starlette",
                "sse_starlette", "anyio", "cryptography", "prometheus_client", "yaml", "importlib.metadata")
# Every committed package (each a REST package: a wrapper loads the SDK to reach its upstream) and the
# runtime's fixture, whose auth schemes, headers and base URLs differ.
PACKAGES = [SBFIXTURE_SRC, *sorted(REPO.glob("generated/*/src"))]


def _python(code: str, path: Path = SBFIXTURE_SRC, environ: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin", **(environ or {})})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("enabled", [True, False])
def test_importing_the_runtime_keeps_the_hosts_gc_setting(enabled):
    before = "" if enabled else "gc.disable(); "
    shown = _python(f"import gc; {before}import specbridge_runtime; print(gc.isenabled())")
    assert shown == str(enabled)


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_the_input_models_keeps_the_hosts_gc_setting(enabled):
    before = "" if enabled else "gc.disable(); "
    code = (f"import gc, sys; {before}from sbfixture_mcp.connector import PACKAGE\n"
            "loaded = 'sbfixture_mcp.models' in sys.modules\n"
            "PACKAGE.input_model(PACKAGE.operations[0])\n"
            "print(loaded, 'sbfixture_mcp.models' in sys.modules, gc.isenabled())")
    assert _python(code) == f"False True {enabled}"


@pytest.mark.parametrize("path", PACKAGES, ids=lambda path: path.parent.name)
def test_the_first_call_of_a_tool_imports_no_other_tools_input_module(path):
    """Each tool's input class is in a module of its own: loading the first tool's must not load another
    tool's (the classes several tools use are in modules of their own)."""
    name = next(path.glob("*_mcp")).name
    shown = _python(
        f"import importlib, json, sys\nfrom {name}.connector import PACKAGE\n"
        "models = importlib.import_module(PACKAGE.package + '.models')\n"
        "first, *others = PACKAGE.operations\n"
        "PACKAGE.input_model(first)\n"
        "mine = models._MODULES[first.input_model]\n"
        "theirs = {models._MODULES[o.input_model] for o in others} - {mine}\n"
        "loaded = {m.rsplit('.', 1)[1] for m in sys.modules if m.startswith(PACKAGE.package + '.models.')}\n"
        "print(json.dumps([mine in loaded, sorted(loaded & theirs), len(theirs) > 0]))", path)
    assert json.loads(shown) == [True, [], True]


def test_a_generated_package_starts_without_websocket_or_search_support():
    unwanted = ("wsproto", "specbridge_runtime._mechanisms.websocket", "specbridge_runtime._mechanisms.search",
                "specbridge_runtime._providers.search")
    shown = _python("import sys, sbfixture_mcp.connector, specbridge_runtime._commands.serve; "
                    f"print(sorted(m for m in sys.modules if m.startswith({unwanted!r})))")
    assert shown == "[]"


def test_the_search_provider_is_still_a_public_name():
    shown = _python("from specbridge_runtime import SearchProvider; print(SearchProvider.__name__)")
    assert shown == "SearchProvider"


def _not_at_start_after(code: str, path: Path = SBFIXTURE_SRC, environ: dict[str, str] | None = None) -> str:
    """Which of `NOT_AT_START` are imported once `code` has run."""
    shown = ("import sys\nprint(sorted({m if m.startswith('importlib.') else m.split('.')[0] for m in sys.modules}"
             f" & set({NOT_AT_START!r})))")
    return _python(f"{code}\n{shown}", path, environ)


@pytest.mark.parametrize("src", PACKAGES, ids=lambda src: src.parent.name)
def test_a_rest_package_is_imported_and_its_provider_built_without_call_or_transport_libraries(src, tmp_path):
    package = next(path.name for path in src.iterdir() if path.name.endswith("_mcp"))
    code = (f"import os, {package}.connector as connector\n"
            "from specbridge_runtime._assembly.connectors import build_provider\n"
            "provider = build_provider(connector.PACKAGE, os.environ)\n"
            "assert provider.base_url, provider.base_url")
    # Audited in SQLite (the default), the credentials in the vault of a home of its own.
    assert _not_at_start_after(code, src, {"SPECBRIDGE_HOME": str(tmp_path)}) == "[]"


def test_the_cli_and_its_commands_other_than_serve_import_none_of_them():
    # Every start builds every command's parser, so a command imports what its `run` needs only when it runs.
    commands = ("check", "creds", "login", "tools", "usage")
    code = "\n".join(["import specbridge_runtime._cli", *(f"import specbridge_runtime._commands.{name}"
                                                            for name in commands)])
    assert _not_at_start_after(code) == "[]"


@pytest.mark.parametrize("fast_io", ["1", "0"], ids=["fast-io", "stock-io"])
def test_a_rest_package_answers_its_first_tools_list_without_them(fast_io, tmp_path):
    """Over stdio a generated package answers initialize and tools/list with the runtime's lane: none of
    the libraries above is imported by then (anyio is: the provider's lifetime, shared with the SDK's server
    should the lane hand it a message). `SPECBRIDGE_FAST_IO=0` (the SDK's server) shows the check can fail.
    What the process imported is its `-X importtime` log up to the answer: it is killed once it answered."""
    requests = [{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]
    process = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "sbfixture_mcp", "serve"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={"PYTHONPATH": str(SBFIXTURE_SRC), "PATH": "/usr/bin:/bin",
                                    "SPECBRIDGE_HOME": str(tmp_path), "SPECBRIDGE_FAST_IO": fast_io,
                                    "SBFIXTURE_BASE_URL": "http://127.0.0.1:9"})
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(b"".join(json.dumps(request).encode() + b"\n" for request in requests))
        process.stdin.flush()
        answers = [json.loads(process.stdout.readline()) for _ in range(2)]
        assert [answer["id"] for answer in answers] == [1, 2] and answers[1]["result"]["tools"]
    finally:
        process.kill()
        _, log = process.communicate(timeout=60)
    imported = {line.split("|")[-1].strip() for line in log.decode().splitlines() if line.startswith("import time:")}
    loaded = sorted({name for name in imported if name.split(".")[0] in NOT_AT_START or name in NOT_AT_START}
                    - {"anyio", *(name for name in imported if name.startswith("anyio."))})
    if fast_io == "1":
        assert loaded == []
    else:
        assert {"mcp", "mcp_types", "pydantic"} <= set(loaded)
