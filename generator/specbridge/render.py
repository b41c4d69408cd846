"""render: the files of an emitted REST package, as text, from the IR and the generated models.

Templates are layout only. Everything they show is computed here and reaches them already escaped
(`escape.py`'s `Escaped` kinds, or numbers); `render_template` refuses any other value, so spec text cannot
reach a generated file unescaped by accident.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import jinja2
from specbridge_runtime import contract
from specbridge_runtime.contract import (
    ENC_PREFIX,
    ENV_PREFIX,
    VAULT_PREFIX,
    base_url_variable,
    env_prefix,
    fallback_env_name,
    runtime_requirement,
)

from .clients import client_context
from .environment import EnvVar, rest_environment
from .escape import (
    Escaped,
    Identifier,
    JsonText,
    Markdown,
    PySource,
    json_line,
    json_text,
    md_code,
    md_inline,
    md_prose,
    md_prose_inline,
    py_literal,
    toml_string,
)
from .ir import RestConnector, RestTool
from .models import ModelsSource
from .options import DEFAULT_NAMESPACE
from .schemas import InputSchemas
from .search_index import OPERATIONS_FILE, operations_json
from .server_json import package_server_json
from .templates_path import templates_dir

_CONNECTOR_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
# The models use `Field(exclude_if=...)`, new in pydantic 2.12.
MODELS_REQUIREMENT = "pydantic>=2.12,<3"
_SUMMARY_CHARS = 160
MODELS_PACKAGE = "models"
TemplateValue = Escaped | int | bool | Sequence["TemplateValue"] | Mapping[str, "TemplateValue"]


@cache
def _environment() -> jinja2.Environment:
    # Not HTML: no autoescape; every value was escaped for its kind of file before (escape.py).
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(name: str, context: Mapping[str, TemplateValue]) -> str:
    """Render `templates/<name>` with `context`, whose values must all be escaped text (or numbers)."""
    for key, value in context.items():
        _check_escaped(key, value)
    return _environment().get_template(name).render(context)


def _check_escaped(key: str, value: object) -> None:
    if isinstance(value, Escaped | int | bool):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_escaped(key, item)
        return
    if isinstance(value, Mapping):
        for item in value.values():
            _check_escaped(key, item)
        return
    raise TypeError(f"template value {key!r} is not escaped: {type(value).__name__}")


def package_version(api_version: str) -> str:
    """A PEP 440 release for the package from the API's version (`2023-08-16` -> `2023.8.16`)."""
    match = re.match(r"\s*v?(\d+(?:[.-]\d+)*)", api_version)
    if match is None:
        return "0.1.0"
    return ".".join(str(int(part)) for part in re.split(r"[.-]", match.group(1))[:4])


def render_package(connector: RestConnector, models: ModelsSource, schemas: InputSchemas, *,
                   generator_version: str, runtime_version: str,
                   registry_namespace: str = DEFAULT_NAMESPACE) -> dict[str, str]:
    """Every file of the package except `specbridge.lock` (see `write.lock_file`): relative path -> text.
    Python files are not formatted yet (see `format.py`)."""
    name = connector.spec.name
    if not _CONNECTOR_NAME.match(name):
        raise ValueError(f"connector name {name!r} is not a snake_case name")
    package = Identifier(f"{name}_mcp")
    distribution = f"{name}-mcp"
    tools = [tool for tool in connector.tools if tool.name in schemas.schemas]
    source_dir = f"src/{package}"
    dynamic = connector.tools_mode == "dynamic"
    common: dict[str, TemplateValue] = {"package": package, "package_name": py_literal(str(package)),
                                        "dynamic": dynamic}
    environment = rest_environment(connector.spec)
    files = {
        "pyproject.toml": pyproject(name, connector.spec.version, f"MCP server for {connector.spec.title or name}",
                                    [runtime_requirement(runtime_version), MODELS_REQUIREMENT]),
        "README.md": _readme(connector, tools, environment, generator_version=generator_version,
                             runtime_requirement=runtime_requirement(runtime_version)),
        f"{source_dir}/__init__.py": render_template("rest/__init__.py.jinja", {
            "runtime_version": py_literal(runtime_version), "distribution": py_literal(distribution),
        }),
        f"{source_dir}/__main__.py": render_template("rest/__main__.py.jinja", {}),
        f"{source_dir}/py.typed": "",
        f"{source_dir}/connector.py": _connector_module(connector, common),
        f"{source_dir}/tools.py": _tools_module(tools, models),
        **_models_package(f"{source_dir}/{MODELS_PACKAGE}", models),
        f"{source_dir}/tools.json": tools_json([tool for tool in tools if tool.listed], schemas),
        "tests/test_contract.py": _contract_test(connector, schemas, common),
        "server.json": server_json(name, connector.spec.version, connector.spec.title or name,
                                   connector.spec.description, environment, registry_namespace),
    }
    if dynamic:
        files[f"{source_dir}/{OPERATIONS_FILE}"] = operations_json(tools, schemas)
    return files


def server_json(name: str, version: str, title: str, description: str, environment: Sequence[EnvVar],
                namespace: str) -> JsonText:
    """The package's entry for the MCP Registry (`server.json`)."""
    return json_text(package_server_json(namespace=namespace, distribution=f"{name}-mcp",
                                         version=package_version(version), title=title, description=description,
                                         environment=environment))


def pyproject(name: str, version: str, description: str, dependencies: Sequence[str]) -> str:
    """The package's pyproject.toml: distribution `<name>-mcp`, its `<name>-mcp` command and its
    `specbridge.connectors` entry point (REST and wrapper packages alike)."""
    package = f"{name}_mcp"
    distribution = f"{name}-mcp"
    return render_template("rest/pyproject.toml.jinja", {
        "distribution": toml_string(distribution),
        "version": toml_string(package_version(version)),
        "description": toml_string(_one_line(description, 200)),
        "dependencies": [toml_string(dependency) for dependency in dependencies],
        "script": toml_string(distribution),
        "script_target": toml_string(f"{package}.connector:main"),
        "entry_point_name": toml_string(name),
        "entry_point": toml_string(f"{package}.connector:PACKAGE"),
        "package_folder": toml_string(f"src/{package}"),
        "package_name": toml_string(package),
    })


# --- Python modules ----------------------------------------------------------------------------------


def descriptor_source(value: object, used: set[str]) -> PySource:
    """Python source constructing `value`, a runtime descriptor (or a tuple of them, or a literal); fields
    left at their defaults are omitted. The descriptor classes used are added to `used`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if cls not in contract.DESCRIPTOR_CLASSES:
            raise TypeError(f"{cls.__name__} is not a runtime descriptor")
        used.add(cls.__name__)
        arguments = [
            f"{field.name}={descriptor_source(getattr(value, field.name), used)}"
            for field in dataclasses.fields(value)
            if not _is_default(field, getattr(value, field.name))
        ]
        return PySource(f"{Identifier(cls.__name__)}({', '.join(arguments)})")
    if isinstance(value, tuple) and _holds_descriptor(value):
        items = [descriptor_source(item, used) for item in value]
        return PySource("(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")")
    return py_literal(value)


def _holds_descriptor(value: object) -> bool:
    if isinstance(value, tuple):
        return any(_holds_descriptor(item) for item in value)
    return dataclasses.is_dataclass(value)


def _is_default(field: dataclasses.Field[Any], value: object) -> bool:
    if field.default is not dataclasses.MISSING:
        return type(value) is type(field.default) and bool(value == field.default)
    if field.default_factory is not dataclasses.MISSING:
        return bool(value == field.default_factory())
    return False


def _connector_module(connector: RestConnector, common: Mapping[str, TemplateValue]) -> str:
    used: set[str] = {"RestPackage", "run_cli"}
    spec = descriptor_source(connector.spec, used)
    return render_template("rest/connector.py.jinja", {
        **common, "connector": spec, "runtime_imports": [Identifier(n) for n in sorted(used)],
    })


def _models_package(folder: str, models: ModelsSource) -> dict[str, str]:
    """The `models` package: its classes in private modules (`ModelsSource.modules`), and an `__init__.py`
    that imports each on first use and names every class for type checkers."""
    by_module: dict[str, list[Identifier]] = {module: [] for module in models.modules}
    for name, module in sorted(models.exports.items()):
        by_module[module].append(Identifier(name))
    init = render_template("rest/models_init.py.jinja", {
        "imports": [(Identifier(module), names) for module, names in sorted(by_module.items())],
        "modules": py_literal(dict(sorted(models.exports.items()))),
    })
    return {f"{folder}/__init__.py": init, **{f"{folder}/{module}.py": text for module, text in models.modules.items()}}


def _tools_module(tools: Sequence[RestTool], models: ModelsSource) -> str:
    used: set[str] = {"Operation"}
    operations = [descriptor_source(operation(tool, models.input_models[tool.name]), used) for tool in tools]
    return render_template("rest/tools.py.jinja", {
        "operations": operations, "runtime_imports": [Identifier(n) for n in sorted(used)],
    })


def operation(tool: RestTool, input_model: str) -> contract.Operation:
    return contract.Operation(
        tool=tool.name, method=tool.method, path=tool.path, input_model=input_model, params=tool.params,
        body=tool.body, security=tool.security, idempotent=tool.idempotent, wrap_output=tool.wrap_output,
        query=tool.query, accept=tool.accept, response_headers=tool.response_headers,
    )


def _contract_test(connector: RestConnector, schemas: InputSchemas, common: Mapping[str, TemplateValue]) -> str:
    sample: dict[str, TemplateValue] = {}
    if schemas.sample is not None:
        tool_name, arguments = schemas.sample
        tool = next(tool for tool in connector.tools if tool.name == tool_name)
        sample = {
            "tool": py_literal(tool.name), "method": py_literal(tool.method), "path": py_literal(tool.path),
            "arguments": py_literal(arguments),
        }
    call_tool = py_literal(f"{connector.spec.name}_call_operation")
    return render_template("rest/test_contract.py.jinja", {**common, "sample": sample, "call_tool": call_tool})


# --- tools.json ------------------------------------------------------------------------------------------


def tool_annotations(tool: RestTool) -> dict[str, bool]:
    idempotent = tool.idempotent if tool.idempotent is not None else tool.idempotent_hint
    return {"readOnlyHint": tool.read_only, "destructiveHint": tool.destructive, "idempotentHint": idempotent,
            "openWorldHint": True}


def tools_json(tools: Sequence[RestTool], schemas: InputSchemas) -> str:
    """The tools/list entries, one tool per line (compact to load, readable in a diff)."""
    entries = []
    for tool in tools:
        entry: dict[str, Any] = {"name": tool.name}
        if tool.title:
            entry["title"] = tool.title
        if tool.description:
            entry["description"] = tool.description
        entry["inputSchema"] = schemas.schemas[tool.name]
        if tool.output_schema is not None:
            entry["outputSchema"] = tool.output_schema
        entry["annotations"] = tool_annotations(tool)
        entries.append(json_line(entry))
    return "[\n" + ",\n".join(entries) + "\n]\n"


# --- README ----------------------------------------------------------------------------------------------


def _one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _summary(tool: RestTool) -> str:
    text = tool.title or tool.description
    first = re.split(r"(?<=[.!?])\s|\n\s*\n", text.strip(), maxsplit=1)[0] if text.strip() else ""
    return _one_line(first, _SUMMARY_CHARS)


def _hints(tool: RestTool) -> str:
    flags = tool_annotations(tool)
    names = (("readOnlyHint", "read-only"), ("destructiveHint", "destructive"), ("idempotentHint", "idempotent"))
    return ", ".join(label for key, label in names if flags[key])


def _readme(connector: RestConnector, tools: Sequence[RestTool], environment: Sequence[EnvVar], *,
            generator_version: str, runtime_requirement: str) -> str:
    spec = connector.spec
    command = f"{spec.name}-mcp"
    rows = [
        Markdown(f"| {md_code(tool.name, in_table=True)} | {tool.method} | {md_code(tool.path, in_table=True)} | "
                 f"{_hints(tool)} | "
                 f"{md_prose_inline(_summary(tool))} |")
        for tool in tools
    ]
    skipped = [
        Markdown(f"| {md_inline(item.method.upper())} | {md_code(item.path, in_table=True)} | "
                 f"{md_inline(item.reason)} |")
        for item in connector.skipped
    ]
    limits = spec.limits
    return render_template("rest/README.md.jinja", {
        "title": md_inline(spec.title or spec.name),
        "description": md_prose(spec.description),
        "generator_version": md_inline(generator_version),
        "command": md_code(command),
        "command_text": Markdown(command),
        "tool_count": len(tools),
        "dynamic": connector.tools_mode == "dynamic",
        "direct_count": sum(tool.listed for tool in tools),
        "meta_tools": Markdown(", ".join(md_code(f"{spec.name}_{verb}")
                                         for verb in ("search_operations", "describe_operation", "call_operation"))),
        "tool_rows": rows,
        "skipped_rows": skipped,
        "base_url": md_inline(spec.base_url),
        "base_url_variable": Markdown(base_url_variable(spec)),
        "auth": _auth_lines(connector, command),
        **client_context(spec.name, environment, runtime_requirement),
        "limits": {"timeout": Markdown(f"{limits.timeout_s:g}"), "max_response_bytes": limits.max_response_bytes,
                   "concurrency": limits.concurrency, "rate": md_inline(limits.rate or "")},
        "env_prefix": Markdown(env_prefix(spec.name)),
    })


def _auth_lines(connector: RestConnector, command: str) -> list[Markdown]:
    """One markdown list item per credential the connector needs, saying how to provide it."""
    lines = []
    for scheme in connector.spec.auth:
        if scheme.type == "none":
            continue
        kind = ("an OAuth2 access token you obtain from the provider yourself: this server cannot run the "
                "scheme's flow" if scheme.name in connector.token_schemes else scheme.type)
        label = Markdown(f"**{md_inline(scheme.name)}** ({kind})")
        if scheme.type == "oauth2":
            lines.append(Markdown(f"- {label}: sign in with {md_code(f'{command} login')}."))
        for role, reference in scheme.secrets:
            line = secret_line(Markdown(f"{label}, {md_inline(role)}"), reference, command, connector.spec.name)
            if line is not None:
                lines.append(line)
    return lines


def secret_line(label: Markdown, reference: str, command: str, connector: str) -> Markdown | None:
    """A markdown list item saying how to provide the secret `reference` names (None for a plain value)."""
    if reference.startswith(VAULT_PREFIX):
        secret = reference.removeprefix(VAULT_PREFIX)
        fallback = fallback_env_name(connector, secret)
        return Markdown(f"- {label}: {md_code(f'{command} creds set {secret}')} (stored encrypted), or the "
                        f"environment variable {md_code(fallback)}.")
    if reference.startswith(ENV_PREFIX):
        return Markdown(f"- {label}: the environment variable {md_code(reference.removeprefix(ENV_PREFIX))}.")
    if reference.startswith(ENC_PREFIX):
        return Markdown(f"- {label}: encrypted in the definition; it opens with the master key "
                        "(`SPECBRIDGE_MASTER_KEY`).")
    return None
