"""Hand-written operations of a rest definition as drafts, and patches of imported operations."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from specbridge.definition import OperationConfig, ParameterConfig
from specbridge.diagnostics import pointer
from specbridge.normalize.drafts import BodyDraft, OperationDraft, ParameterDraft


def manual_operation(config: OperationConfig, index: int) -> OperationDraft:
    assert config.method is not None and config.path is not None
    where = pointer("operations", index)
    body = None
    if config.request_body is not None:
        body = BodyDraft(config.request_media_type, config.request_body, True, "", f"{where}/request_body")
    return OperationDraft(
        method=config.method, path=config.path, operation_id=config.name, summary=config.title,
        description=config.description, tags=tuple(config.tags),
        parameters=tuple(_parameter(parameter, f"{where}/parameters/{number}")
                         for number, parameter in enumerate(config.parameters)),
        body=body, response=config.response_schema, security=None, deprecated=config.deprecated,
        idempotent=config.idempotent, where=where, hand_written=True, auth=config.auth_override,
        auth_where=f"{where}/auth",
    )


def patched(draft: OperationDraft, config: OperationConfig, index: int) -> OperationDraft:
    """An imported operation with what a method-less, path-less operation entry of the same name sets."""
    given = config.model_fields_set
    changes: dict[str, Any] = {}
    if "title" in given:
        changes["summary"] = config.title
    if "description" in given:
        changes["description"] = config.description
    if "tags" in given:
        changes["tags"] = tuple(config.tags)
    if "idempotent" in given:
        changes["idempotent"] = config.idempotent
    if "deprecated" in given:
        changes["deprecated"] = config.deprecated
    if "response_schema" in given:
        changes["response"] = config.response_schema
    if "auth" in given:
        changes["auth"] = config.auth_override
        changes["auth_where"] = pointer("operations", index, "auth")
    return replace(draft, **changes)


def _parameter(config: ParameterConfig, where: str) -> ParameterDraft:
    schema: dict[str, Any]
    if config.schema_ is not None:
        schema = dict(config.schema_)
    else:
        schema = {"type": config.type}
        if config.format is not None:
            schema["format"] = config.format
        if config.enum is not None:
            schema["enum"] = config.enum
        if config.items is not None:
            schema["items"] = config.items
        if "default" in config.model_fields_set:
            schema["default"] = config.default
    return ParameterDraft(
        name=config.name, location=config.location, schema=schema,
        required=config.required or config.location == "path", description=config.description,
        style=config.style, explode=config.explode, where=where,
    )
