"""The constraints of a scalar, list or map schema as a `Constrained` type node: the pydantic `Field`
constraints it validates (finite numbers and counts only), its format and the keywords only advertised."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from specbridge.normalize.model_ir import Constrained, ConstraintName, DictOf, ListOf, Scalar, TypeNode
from specbridge.normalize.schema_shapes import is_number

# Kept in the advertised schema though not validated: how to write the value (file content is base64).
_ADVERTISED_KEYWORDS = ("contentEncoding", "contentMediaType")


def constrained(base: Scalar | ListOf | DictOf, schema: Mapping[str, Any]) -> tuple[TypeNode, str | None]:
    """`base` with the schema's constraints and format; and the schema's pattern when it had to be dropped."""
    constraints: list[tuple[ConstraintName, object]] = []
    dropped = None
    if base == Scalar("str"):
        constraints += [("min_length", schema.get("minLength")), ("max_length", schema.get("maxLength"))]
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            if pattern_compiles(pattern):
                constraints.append(("pattern", pattern))
            else:
                dropped = pattern
    elif isinstance(base, Scalar):
        constraints += _bounds(schema)
    elif isinstance(base, ListOf):
        constraints += [("min_length", schema.get("minItems")), ("max_length", schema.get("maxItems"))]
    else:
        constraints += [("min_length", schema.get("minProperties")), ("max_length", schema.get("maxProperties"))]
    kept = tuple((name, value) for name, value in constraints
                 if _valid_constraint(name, value) and isinstance(value, int | float | str))
    text_format = schema.get("format")
    text_format = text_format if isinstance(text_format, str) and text_format and isinstance(base, Scalar) \
        else None
    advertised = tuple((key, schema[key]) for key in _ADVERTISED_KEYWORDS
                       if base == Scalar("str") and isinstance(schema.get(key), str) and schema[key])
    if not (kept or text_format or advertised):
        return base, dropped
    return Constrained(base, kept, text_format, advertised), dropped


@cache
def pattern_compiles(pattern: str) -> bool:
    """True when both Python's `re` and pydantic's (Rust) regex engine accept `pattern`."""
    try:
        re.compile(pattern)
        TypeAdapter(Annotated[str, Field(pattern=pattern)])
    except Exception:  # any failure to compile means: drop the pattern
        return False
    return True


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _valid_constraint(name: str, value: object) -> bool:
    if name in ("min_length", "max_length"):
        return _count(value)
    if name == "pattern":
        return isinstance(value, str)
    return is_number(value)


# (inclusive keyword, exclusive keyword, inclusive constraint, exclusive constraint)
_BOUNDS: tuple[tuple[str, str, ConstraintName, ConstraintName], ...] = (
    ("minimum", "exclusiveMinimum", "ge", "gt"), ("maximum", "exclusiveMaximum", "le", "lt"))


def _bounds(schema: Mapping[str, Any]) -> Sequence[tuple[ConstraintName, object]]:
    bounds: list[tuple[ConstraintName, object]] = []
    for keyword, exclusive_keyword, inclusive, exclusive in _BOUNDS:
        flag = schema.get(exclusive_keyword)
        if flag is True:  # OpenAPI 3.0: a flag on minimum/maximum
            bounds.append((exclusive, schema.get(keyword)))
        else:
            bounds.append((inclusive, schema.get(keyword)))
            if is_number(flag):
                bounds.append((exclusive, flag))
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int | float) and not isinstance(multiple, bool) and multiple > 0:
        bounds.append(("multiple_of", multiple))
    return bounds
