"""A generated package as the runtime sees it. A REST package: its connector, its operations, the
precomputed tools/list answer (`tools.json`, read once) and its pydantic input models (imported on the first
call of each tool, only that tool's classes, so that a server with hundreds of tools answers tools/list and its
first call quickly). A wrapper package: its spec.

A package generated with `--tools dynamic` (`tools="dynamic"`) lists in `tools.json` only its direct tools;
every operation, with its description, input schema and the search index, is in `operations.json`, which
`SearchProvider` reads on its first search."""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from importlib import resources
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from .._core.collector import collector_paused
from .._core.descriptors import ConnectorSpec, Operation, WrapperSpec
from .._core.errors import InvalidArguments

if TYPE_CHECKING:  # the protocol models and pydantic are imported by the first use of `tools()` or a call
    import mcp_types as types
    from pydantic import BaseModel, ValidationError

TOOLS_FILE = "tools.json"
OPERATIONS_FILE = "operations.json"
ToolsMode = Literal["direct", "dynamic"]
MODELS_MODULE = "models"
_MAX_PROBLEMS = 10


class RestPackage:
    """`connector` and `operations` are the package's literals; `package` its import name
    (`__package__` of the generated `connector.py`), where `tools.json` and `models` live."""

    def __init__(self, connector: ConnectorSpec, operations: tuple[Operation, ...], package: str,
                 tools: ToolsMode = "direct") -> None:
        self.connector = connector
        self.operations = operations
        self.package = package
        self.tools_mode = tools
        self._catalog: dict[str, Any] | None = None
        self._operations = {operation.tool: operation for operation in operations}
        self._definitions: list[dict[str, Any]] | None = None
        self._tools: tuple[types.Tool, ...] | None = None
        self._with_output_schema: frozenset[str] | None = None
        self._arguments: dict[str, Mapping[str, Any]] | None = None
        self._models: ModuleType | None = None
        self._input_models: dict[str, type[BaseModel]] = {}

    @property
    def name(self) -> str:
        return self.connector.name

    def operation(self, tool: str) -> Operation | None:
        return self._operations.get(tool)

    def tools_json(self) -> bytes:
        """`tools.json` as it is: the tools/list entries, a JSON array."""
        return resources.files(self.package).joinpath(TOOLS_FILE).read_bytes()

    def definitions(self) -> list[dict[str, Any]]:
        """The tools/list entries of `tools.json`, as JSON objects."""
        if self._definitions is None:
            self._definitions = json.loads(self.tools_json())
        return self._definitions

    def catalog(self) -> dict[str, Any]:
        """`operations.json` of a dynamic package: `operations` (name, method, path, summary, description,
        inputSchema) and the search `index`."""
        if self._catalog is None:
            data = resources.files(self.package).joinpath(OPERATIONS_FILE).read_bytes()
            self._catalog = json.loads(data)
        return self._catalog

    def advertised_schemas(self) -> dict[str, Any]:
        """Each operation's advertised inputSchema: from `tools.json`, or `operations.json` when dynamic."""
        entries = self.catalog()["operations"] if self.tools_mode == "dynamic" else self.definitions()
        return {entry["name"]: entry["inputSchema"] for entry in entries}

    def tools(self) -> tuple[types.Tool, ...]:
        if self._tools is None:
            import mcp_types as types

            self._tools = tuple(types.Tool.model_validate(definition) for definition in self.definitions())
        return self._tools

    def has_output_schema(self, tool: str) -> bool:
        if self._with_output_schema is None:
            self._with_output_schema = frozenset(
                definition["name"] for definition in self.definitions() if definition.get("outputSchema") is not None)
        return tool in self._with_output_schema

    def argument_schemas(self, tool: str) -> Mapping[str, Any]:
        """The advertised JSON Schema of each of `tool`'s arguments, by name (`inputSchema.properties`)."""
        if self._arguments is None:
            self._arguments = {str(definition.get("name")): definition.get("inputSchema", {}).get("properties") or {}
                               for definition in self.definitions()}
        return self._arguments.get(tool, {})

    def input_model(self, operation: Operation) -> type[BaseModel]:
        """The operation's input class, imported on its first use: from a `models` package (PEP 562), only
        the modules of the classes it uses; from the single `models.py` of an older package, every class."""
        model = self._input_models.get(operation.input_model)
        if model is not None:
            return model
        from pydantic import BaseModel

        with collector_paused():  # many long-lived classes at once: about a fifth less CPU
            if self._models is None:
                self._models = importlib.import_module(f"{self.package}.{MODELS_MODULE}")
            found = getattr(self._models, operation.input_model, None)
        if not (isinstance(found, type) and issubclass(found, BaseModel)):
            raise TypeError(f"{self.package}.{MODELS_MODULE} has no pydantic model {operation.input_model!r}")
        self._input_models[operation.input_model] = found
        return found

    def validate(self, operation: Operation, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments, validated by the operation's input model and dumped as the request builder reads
        them (keys are argument names, only the arguments given). Raises `InvalidArguments` naming every
        field at fault (never its value)."""
        from pydantic import ValidationError

        model = self.input_model(operation)
        try:
            instance = model.model_validate(arguments)
        except ValidationError as error:
            raise InvalidArguments(f"invalid arguments for {operation.tool}: {describe_problems(error)}") from None
        return instance.model_dump(mode="json", by_alias=True, exclude_unset=True)


def describe_problems(error: ValidationError) -> str:
    problems = [f"`{'.'.join(str(part) for part in problem['loc']) or '(arguments)'}`: {problem['msg']}"
                for problem in error.errors(include_url=False, include_input=False)]
    more = len(problems) - _MAX_PROBLEMS
    shown = "; ".join(problems[:_MAX_PROBLEMS])
    return shown + (f"; and {more} more" if more > 0 else "")


class WrapperPackage:
    """A generated wrapper package as the runtime sees it: `run_cli(PACKAGE)` serves it (the assembly
    builds its `WrapperProvider`), and a gateway finds it through the `specbridge.connectors` entry point."""

    def __init__(self, connector: WrapperSpec) -> None:
        self.connector = connector

    @property
    def name(self) -> str:
        return self.connector.name
