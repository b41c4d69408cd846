"""Hand-made IR values for the back of the generator (models, schemas, render, write), so these tests do not
depend on the front's parsing; and helpers to run what the generator emits."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from specbridge import cli
from specbridge.ir import Argument, RestConnector, RestTool
from specbridge.models import ModelsSource, emit_models
from specbridge.schemas import _loaded
from specbridge_runtime import Body, ConnectorSpec, Param
from specbridge_runtime.testing import MockUpstream, connect, provider_for


def make_tool(name: str, *arguments: Argument, method: str = "POST", path: str = "/things",
              params: tuple[Param, ...] = (), body: Body | None = None, description: str = "",
              output_schema: Mapping[str, Any] | None = None, connector: str = "demo") -> RestTool:
    return RestTool(
        name=f"{connector}_{name}", operation_id=name, method=method, path=path,  # type: ignore[arg-type]
        title=name.replace("_", " "), description=description, arguments=arguments, params=params, body=body,
        output_schema=output_schema, location=f"#/paths/{path.replace('/', '~1')}/{method.lower()}",
    )


def arg(name: str, schema: Mapping[str, Any], required: bool = False, source: str = "query",
        description: str = "") -> Argument:
    return Argument(name=name, schema=schema, required=required, source=source,  # type: ignore[arg-type]
                    description=description)


def make_connector(*tools: RestTool, components: Mapping[str, Any] | None = None, name: str = "demo",
                   title: str = "Demo", description: str = "", **spec: Any) -> RestConnector:
    return RestConnector(
        spec=ConnectorSpec(name=name, title=title, version="1.0", description=description,
                           base_url="https://api.example.com", **spec),
        tools=tools, components=components or {}, sources=("specs/demo.json",),
    )


def one_tool_connector(*arguments: Argument, components: Mapping[str, Any] | None = None) -> RestConnector:
    return make_connector(make_tool("do", *arguments), components=components)


@pytest.fixture
def run_models() -> Iterator[Any]:
    """Emit the models of a connector and run them; yields a function returning (ModelsSource, module)."""
    contexts = []

    def run(connector: RestConnector) -> tuple[ModelsSource, types.ModuleType]:
        emitted = emit_models(connector)
        context = _loaded(emitted.source)
        contexts.append(context)
        return emitted, context.__enter__()

    yield run
    for context in reversed(contexts):
        context.__exit__(None, None, None)


def run_tool(tool: str, *arguments: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """A tool of this interpreter's environment (`python -m <tool>`), as CI runs it."""
    return subprocess.run([sys.executable, "-m", tool, *arguments], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def operation(operation_id: str, *, parameters: list[dict[str, Any]] | None = None,
              body: dict[str, Any] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"operationId": operation_id, "responses": {"200": {"description": "ok"}}}
    if parameters:
        found["parameters"] = parameters
    if body is not None:
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return found


def spec(title: str, paths: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": title, "version": "1"},
            "servers": [{"url": "https://api.example.com"}], "paths": paths}


def query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema}


class Generated:
    """A package generated from a spec file by `specbridge gen`, importable, with what gen printed."""

    def __init__(self, name: str, printed: str, exit_code: int) -> None:
        self.name = name
        self.printed = printed
        self.exit_code = exit_code

    @property
    def package(self) -> Any:
        return importlib.import_module(f"{self.name}_mcp.connector").PACKAGE

    async def call(self, tool: str, arguments: dict[str, Any]) -> tuple[Any, MockUpstream]:
        upstream = MockUpstream()
        upstream.route("GET", "/{any}", json={"ok": True})
        upstream.route("POST", "/{any}", json={"ok": True})
        async with connect(provider_for(self.package, upstream)) as client:
            result = await client.call_tool(f"{self.name}_{tool}", arguments)
        return result, upstream


@pytest.fixture
def gen(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Writes a spec (a dict, or text with a suffix), runs `specbridge gen` on it and imports the result."""
    names: list[str] = []

    def run(document: dict[str, Any] | str, suffix: str = ".json") -> Generated:
        name = f"gen{len(names)}"
        path = tmp_path / f"{name}{suffix}"
        path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
        out = tmp_path / name
        exit_code = cli.main(["gen", str(path), "--name", name, "-o", str(out)])
        printed = capsys.readouterr()
        monkeypatch.syspath_prepend(str(out / "src"))
        importlib.invalidate_caches()
        names.append(name)
        return Generated(name, printed.out + printed.err, exit_code)

    yield run
    for module in [m for m in sys.modules if any(m.startswith(f"{name}_mcp") for name in names)]:
        del sys.modules[module]
