"""The tools' advertised input schemas, computed from the generated models themselves.

The generated `models.py` runs here in a module of its own, and each tool's `inputSchema` is its input
model's `model_json_schema(by_alias=True, mode="validation")` (the models' `_advertised` hook drops titles
that only repeat names). So what `tools.json` advertises is exactly what the server validates.
"""

from __future__ import annotations

import hashlib
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from . import codes
from .diagnostics import Diagnostic, Level
from .models import ModelsSource


@dataclass(frozen=True, slots=True)
class InputSchemas:
    schemas: Mapping[str, dict[str, Any]]  # tool name -> inputSchema
    failed: tuple[str, ...] = ()  # tools whose model could not be built (each has an error diagnostic)
    diagnostics: tuple[Diagnostic, ...] = ()
    # A tool and arguments its model accepts, for the package's own test call (None: no simple one).
    sample: tuple[str, dict[str, Any]] | None = None


def input_schemas(models: ModelsSource, *, sample_order: Sequence[str] = (), source: str = "",
                  on_schema: Callable[[], None] | None = None) -> InputSchemas:
    """Each tool's inputSchema, from `models.source` executed in an isolated module; and the first tool of
    `sample_order` that simple arguments satisfy. `on_schema` is called after each tool (progress)."""
    schemas: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    diagnostics: list[Diagnostic] = []
    with _loaded(models.source) as module:
        classes = {tool: _model(module, class_name) for tool, class_name in models.input_models.items()}
        for tool, model in classes.items():
            try:
                schemas[tool] = model.model_json_schema(by_alias=True, mode="validation")
            except Exception as error:  # a schema pydantic cannot build: drop the tool, keep the rest
                failed.append(tool)
                cause = str(error).splitlines()[0][:200] if str(error) else ""
                message = f"tool {tool!r} dropped: its input model cannot be built ({type(error).__name__}: {cause})"
                diagnostics.append(Diagnostic(Level.ERROR, codes.MODEL_UNBUILDABLE, message, "", source))
            if on_schema is not None:
                on_schema()
        sample = next(
            ((tool, arguments) for tool in sample_order if tool in schemas
             for arguments in [_simple_arguments(schemas[tool])]
             if arguments is not None and _accepts(classes[tool], arguments)),
            None,
        )
    return InputSchemas(schemas, tuple(failed), tuple(diagnostics), sample)


def _model(module: types.ModuleType, class_name: str) -> type[BaseModel]:
    model = getattr(module, class_name)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{class_name} in the generated models is not a model")
    return model


def _accepts(model: type[BaseModel], arguments: Mapping[str, Any]) -> bool:
    try:
        model.model_validate(arguments)
    except ValidationError:
        return False
    return True


def _simple_arguments(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """Plain values for the required arguments of an input schema, or None when one needs more than a
    plain value (an object, a pattern, a reference)."""
    properties = schema.get("properties", {})
    arguments: dict[str, Any] = {}
    for name in schema.get("required", []):
        value = _simple_value(properties.get(name, {}))
        if value is None:
            return None
        arguments[name] = value
    return arguments


def _simple_value(schema: Mapping[str, Any]) -> object:
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if "pattern" in schema or "$ref" in schema or "format" in schema:
        return None
    plain: dict[str, object] = {
        "string": "x" * max(1, int(schema.get("minLength", 1))), "integer": max(1, int(schema.get("minimum", 1))),
        "boolean": True, "number": float(max(1, schema.get("minimum", 1))),
    }
    return plain.get(str(schema.get("type")))


@contextmanager
def _loaded(source: str) -> Iterator[types.ModuleType]:
    """`source` as a module registered under a private name while in use (pydantic resolves the models'
    forward references through `sys.modules`)."""
    name = "_specbridge_models_" + hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    module = types.ModuleType(name)
    module.__file__ = f"<generated {name}>"
    sys.modules[name] = module
    try:
        exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102  # our own generated source
        yield module
    finally:
        del sys.modules[name]
