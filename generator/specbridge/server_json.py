"""server.json, the MCP Registry's description of a server (schema 2025-12-11), as pydantic models.

Lenient on purpose: fields the schema added later, or that a publisher invented, are ignored; the legacy
`status` is read when present. Field names follow the JSON (camelCase) through aliases.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from specbridge import codes
from specbridge.diagnostics import Diagnostic, Level, pointer
from specbridge.environment import EnvVar

SCHEMA_VERSION = "2025-12-11"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
VERSION_PLACEHOLDER = "VERSION"


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class Input(_Model):
    description: str = ""
    is_required: bool = False
    is_secret: bool = False
    format: str = "string"
    value: str | None = None
    default: str | None = None
    placeholder: str | None = None
    choices: tuple[str, ...] = ()


class InputWithVariables(Input):
    variables: dict[str, Input] = Field(default_factory=dict)


class KeyValueInput(InputWithVariables):
    """A header or an environment variable."""

    name: str


class Argument(InputWithVariables):
    """A positional argument (`value` or only a `valueHint`) or a named one (`--flag value`)."""

    type: str = "positional"
    name: str | None = None
    value_hint: str | None = None
    is_repeated: bool = False


class Transport(_Model):
    type: str
    url: str | None = None
    headers: tuple[KeyValueInput, ...] = ()
    variables: dict[str, Input] = Field(default_factory=dict)  # remotes only: the URL's {variables}


class Package(_Model):
    registry_type: str
    identifier: str
    transport: Transport
    version: str | None = None
    registry_base_url: str | None = None
    runtime_hint: str | None = None
    runtime_arguments: tuple[Argument, ...] = ()
    package_arguments: tuple[Argument, ...] = ()
    environment_variables: tuple[KeyValueInput, ...] = ()


class Repository(_Model):
    url: str = ""
    source: str = ""
    subfolder: str | None = None


class ServerDetail(_Model):
    name: str
    description: str = ""
    version: str
    title: str | None = None
    website_url: str | None = None
    repository: Repository | None = None
    packages: tuple[Package, ...] = ()
    remotes: tuple[Transport, ...] = ()
    status: str | None = None  # legacy: since 2025-10 the registry's status lives in `_meta`


class ServerResponse(_Model):
    """One entry of the registry API: the server.json and the registry's metadata about it."""

    server: ServerDetail
    meta: dict[str, Any] = Field(default_factory=dict, alias="_meta")

    @property
    def registry_status(self) -> str:
        official = self.meta.get("io.modelcontextprotocol.registry/official", {})
        status = official.get("status") if isinstance(official, dict) else None
        return str(status or self.server.status or "active")

    @property
    def is_latest(self) -> bool:
        official = self.meta.get("io.modelcontextprotocol.registry/official", {})
        return bool(official.get("isLatest", True)) if isinstance(official, dict) else True


def expand_placeholders(document: Any, version: str, source: str) -> tuple[Any, tuple[Diagnostic, ...]]:
    """The document with `${VERSION}` (left by publishers' CI templates) replaced by `version`; any other
    `${NAME}` is kept and reported, since nothing says what it stands for."""
    problems: list[Diagnostic] = []

    def replace(text: str, where: tuple[str | int, ...]) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(1) == VERSION_PLACEHOLDER:
                return version
            problems.append(Diagnostic(Level.WARNING, codes.REGISTRY_PLACEHOLDER,
                                       f"placeholder {match.group(0)} is not resolved", pointer(*where), source))
            return match.group(0)

        return PLACEHOLDER.sub(one, text)

    return _map_strings(document, replace, ()), tuple(problems)


def _map_strings(value: Any, replace: Callable[[str, tuple[str | int, ...]], str], where: tuple[str | int, ...]) -> Any:
    if isinstance(value, str):
        return replace(value, where)
    if isinstance(value, list):
        return [_map_strings(item, replace, (*where, index)) for index, item in enumerate(value)]
    if isinstance(value, dict):
        return {key: _map_strings(item, replace, (*where, key)) for key, item in value.items()}
    return value


# --- writing: the server.json of a generated package ------------------------------------------------------

SCHEMA_URL = f"https://static.modelcontextprotocol.io/schemas/{SCHEMA_VERSION}/server.schema.json"
_TEXT_LIMIT = 100  # the schema's maxLength of title and description


def package_server_json(*, namespace: str, distribution: str, version: str, title: str, description: str,
                        environment: Sequence[EnvVar]) -> dict[str, Any]:
    """The registry entry of a generated package: a `pypi` package run over stdio (`uvx <distribution>`),
    with the environment variables it reads."""
    variables = []
    for variable in environment:
        entry: dict[str, Any] = {"name": variable.name, "description": variable.description}
        if variable.required:
            entry["isRequired"] = True
        if variable.secret:
            entry["isSecret"] = True
        if variable.default is not None:
            entry["default"] = variable.default
        variables.append(entry)
    package: dict[str, Any] = {
        "registryType": "pypi", "registryBaseUrl": "https://pypi.org", "identifier": distribution,
        "version": version, "runtimeHint": "uvx", "transport": {"type": "stdio"},
    }
    if variables:
        package["environmentVariables"] = variables
    return {
        "$schema": SCHEMA_URL,
        "name": f"{namespace}/{distribution}",
        "title": _fit(title) or distribution,
        "description": _fit(description) or f"MCP server {distribution}",
        "version": version,
        "packages": [package],
    }


def _fit(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _TEXT_LIMIT else line[: _TEXT_LIMIT - 1].rstrip() + "…"
