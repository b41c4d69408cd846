"""Helpers every test area may import (`from tests.support import ...`): where the real-world specs and
npm peers are, free ports, waiting for and stopping servers, test packages generated from their definitions."""

from __future__ import annotations

import atexit
import bisect
import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from subprocess import Popen
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SPECBRIDGE_SHARED", REPO.parent / "shared"))
SHARED_SPECS = SHARED / "specs"
NODE_BIN = REPO / "node_modules" / ".bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def busiest_second(arrivals: list[float]) -> int:
    """The most arrivals within any one second (a sliding window starting at each arrival): how a rate limit
    is checked against the upstream's own clock, whatever the speed of the machine."""
    ordered = sorted(arrivals)
    return max(bisect.bisect_right(ordered, start + 1.0) - index for index, start in enumerate(ordered))


def wait_for_port(port: int, *, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def serving(command: Sequence[str], port: int, *, timeout: float = 30.0, **popen: Any) -> Iterator[Popen[bytes]]:
    """A server started with `command`, waited for on 127.0.0.1:`port`, and stopped afterwards. Its output is
    discarded unless `stdout`/`stderr` say otherwise."""
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.DEVNULL)
    process: Popen[bytes] = subprocess.Popen(list(command), **popen)
    try:
        wait_for_port(port, timeout=timeout, process=process)
        yield process
    finally:
        stop(process)


def generated_package(definition: Path, *, on_path: bool = True) -> Path:
    """A test package made from its definition by `specbridge gen` (the generator's own command, in-process),
    so the runtime's tests run the shape the generator really emits, put on sys.path unless `on_path` is
    false; its source folder (for PYTHONPATH). Made once per test process, in a temporary folder removed at
    exit."""
    out = _GENERATED.get(definition)
    if out is None:
        from specbridge import cli

        root = Path(tempfile.mkdtemp(prefix=f"specbridge-{definition.stem}-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        out = root / definition.stem
        said = io.StringIO()
        with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
            code = cli.main(["gen", str(definition), "-o", str(out)])
        if code != 0:
            raise RuntimeError(f"specbridge gen {definition} failed with exit code {code}:\n{said.getvalue()}")
        _GENERATED[definition] = out
        if on_path:
            sys.path.insert(0, str(out / "src"))
    return out / "src"



def installed_package(definition: Path) -> Path:
    """The package of `definition` (see `generated_package`) installed with pip into a folder of its own, as
    an environment would hold it (its dist-info and entry points included); that folder, for PYTHONPATH."""
    site = generated_package(definition).parent / "site"
    if not site.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                        "--disable-pip-version-check", "--target", str(site), str(site.parent)],
                       check=True, capture_output=True)
    return site


_GENERATED: dict[Path, Path] = {}


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` served on 127.0.0.1 (a port the OS chooses) in a thread; its base URL, then stopped."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def node_tool(name: str) -> Path:
    path = NODE_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run scripts/setup.sh (npm ci) first")
    return path


# httpbin (PyPI) served on 127.0.0.1 at the port given as the first argument.
HTTPBIN_SERVER = (
    "import logging, sys\n"
    "logging.disable(logging.WARNING)\n"
    "from werkzeug.serving import run_simple\n"
    "import httpbin\n"
    "run_simple('127.0.0.1', int(sys.argv[1]), httpbin.app, threaded=True)\n"
)
