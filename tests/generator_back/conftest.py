"""Hand-made IR values for the back of the generator (models, schemas, render, write), so these tests do not
depend on the front's parsing; and helpers to run what the generator emits."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from specbridge.ir import Argument, RestConnector, RestTool
from specbridge.models import ModelsSource, emit_models
from specbridge.schemas import _loaded
from specbridge_runtime import Body, ConnectorSpec, Param


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
