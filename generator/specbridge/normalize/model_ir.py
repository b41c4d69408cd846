"""The typed model IR: what normalize makes of a REST connector's input schemas, and all the models emitter
needs to print `models.py` (after openapi-python-client's and betterproto2's compilers: decide once, on
types, then print).

A `ModelSet` holds one input class per tool and every class those reach. A `ModelClass` is a pydantic class
(`closed`: unknown keys are refused), a `ModelField` one attribute of it: its Python name, the name on the
wire, its type, whether it is required and, when not, the default it advertises (`None`: absent means "not
sent"). A type is a tree of frozen nodes, each meaning exactly one thing:

- `Scalar(kind)`: `str`, `int`, `float`, `bool`, `Any` (any JSON value, null included) or `None` (null only);
- `ListOf(item)`: a JSON array of `item`s; `DictOf(value)`: a JSON object whose values are `value`s;
- `UnionOf(members)`: one of two or more members; flat (no member is a union), without duplicates, never
  holding `Any`, and null-accepting exactly when `NONE` is its last member;
- `LiteralOf(values)`: one of the listed strings, integers or booleans;
- `Reference(name)`: the generated class `name` (possibly defined later: recursive schemas);
- `Constrained(base, ...)`: `base` (a scalar, list or dict) with validated constraints (pydantic `Field`
  keywords such as `min_length` or `ge`, with finite values), a `format` the runtime checks when it knows it
  (`specbridge_runtime.modeling.Format`), and keywords only advertised (`contentEncoding`, the
  `description` of an object left open to keep a tool's input schema within its budget, ...).

Every string in the IR is still untrusted spec text: the emitter writes it through `escape.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from specbridge.diagnostics import Diagnostic
from specbridge.escape import Identifier

ScalarKind = Literal["str", "int", "float", "bool", "Any", "None"]
ConstraintName = Literal["min_length", "max_length", "pattern", "ge", "gt", "le", "lt", "multiple_of"]


@dataclass(frozen=True, slots=True)
class Scalar:
    kind: ScalarKind


@dataclass(frozen=True, slots=True)
class ListOf:
    item: TypeNode


@dataclass(frozen=True, slots=True)
class DictOf:
    value: TypeNode


@dataclass(frozen=True, slots=True)
class UnionOf:
    members: tuple[TypeNode, ...]


@dataclass(frozen=True, slots=True)
class LiteralOf:
    values: tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Reference:
    name: Identifier


@dataclass(frozen=True, slots=True)
class Constrained:
    base: Scalar | ListOf | DictOf
    constraints: tuple[tuple[ConstraintName, int | float | str], ...] = ()
    format: str | None = None
    advertised: tuple[tuple[str, str], ...] = ()  # extra JSON Schema keywords, not validated


TypeNode = Scalar | ListOf | DictOf | UnionOf | LiteralOf | Reference | Constrained

ANY = Scalar("Any")
NONE = Scalar("None")


@dataclass(frozen=True, slots=True)
class Default:
    value: object  # a literal JSON value that fits the field's type


@dataclass(frozen=True, slots=True)
class ModelField:
    name: Identifier
    wire_name: str
    type: TypeNode
    required: bool
    default: Default | None = None  # only for optional fields
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ModelClass:
    name: Identifier
    fields: tuple[ModelField, ...]
    closed: bool
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ModelSet:
    classes: tuple[ModelClass, ...]
    input_models: Mapping[str, Identifier]  # tool name -> its input class
    diagnostics: tuple[Diagnostic, ...] = ()


def accepts_null(node: TypeNode) -> bool:
    return node in (ANY, NONE) or (isinstance(node, UnionOf) and node.members[-1] == NONE)


def union(nodes: Iterable[TypeNode]) -> TypeNode:
    """One type accepting what any of `nodes` accepts: `Any` absorbs the rest, nested unions are flattened,
    duplicates dropped, null goes last."""
    members: list[TypeNode] = []
    nullable = False
    for node in nodes:
        if node == ANY:
            return ANY
        for member in node.members if isinstance(node, UnionOf) else (node,):
            if member == NONE:
                nullable = True
            elif member not in members:
                members.append(member)
    if nullable:
        members.append(NONE)
    if not members:
        return NONE
    return members[0] if len(members) == 1 else UnionOf(tuple(members))


def nullable(node: TypeNode) -> TypeNode:
    return union((node, NONE))


def walk(node: TypeNode) -> Iterator[TypeNode]:
    """`node` and every node inside it (iteratively: types can be deep)."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        if isinstance(current, ListOf):
            pending.append(current.item)
        elif isinstance(current, DictOf):
            pending.append(current.value)
        elif isinstance(current, UnionOf):
            pending.extend(current.members)
        elif isinstance(current, Constrained):
            pending.append(current.base)


def references(node: TypeNode) -> frozenset[str]:
    """The generated classes a type names."""
    return frozenset(current.name for current in walk(node) if isinstance(current, Reference))
