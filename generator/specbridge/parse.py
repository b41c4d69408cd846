"""Bytes to JSON-like data: JSON through `json`, YAML through PyYAML's safe loader (C-accelerated when
available). The text is untrusted, so nesting and YAML alias expansion are bounded, YAML-only values
(timestamps, binary, non-string keys) come out as JSON values, and every problem is a diagnostic with
the line and column the parser reports."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from specbridge import codes
from specbridge.diagnostics import Diagnostic, Level

# A YAML document whose aliases expand to more nodes than this is refused (a "billion laughs" bomb).
MAX_YAML_NODES = 10_000_000
# libyaml composes recursively in C and crashes on very deep nesting; deeper-looking text goes to the
# pure-Python loader, which raises RecursionError instead.
_C_LOADER_MAX_NESTING = 1000

_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEEP_INDENT = " " * _C_LOADER_MAX_NESTING
_NESTED_ENTRIES = re.compile(r"[-?][ \t]+[-?][ \t]+[-?][ \t]")  # `- - - x`: sequences nested on one line
_DEEP_NESTED_ENTRIES = re.compile(r"(?:[-?][ \t]+){200,}")
_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s\[\]{},]")


@dataclass(frozen=True, slots=True)
class Parsed:
    data: Any
    diagnostics: tuple[Diagnostic, ...] = ()


def _json_key(key: object) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return json.dumps(key)
    return str(key)


def _construct_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


def _stringify_keys(mapping: dict[Any, Any]) -> dict[str, Any]:
    # YAML reads `200:` as an int key and `2024-01-01:` as a date; JSON documents only have string keys.
    if all(isinstance(key, str) for key in mapping):
        return mapping
    return {_json_key(key): value for key, value in mapping.items()}


class _PyLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        return _stringify_keys(super().construct_mapping(node, deep))


_LOADERS: list[type[yaml.SafeLoader]] = [_PyLoader]
if hasattr(yaml, "CSafeLoader"):

    class _CLoader(yaml.CSafeLoader):
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            return _stringify_keys(super().construct_mapping(node, deep))

    _LOADERS.insert(0, _CLoader)  # type: ignore[arg-type]

for _loader in _LOADERS:
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
    _loader.add_constructor("tag:yaml.org,2002:binary", _construct_text)


def parse_text(raw: bytes, *, source: str, json_hint: bool) -> Parsed:
    """Parse one file's bytes. `json_hint`: the name says JSON (then only JSON is tried)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return _fail(codes.NOT_UTF8, f"not UTF-8 text (invalid byte at offset {error.start})", source)
    if json_hint or text.lstrip().startswith("{"):
        parsed = _parse_json(text, source)
        if json_hint or parsed.data is not None:
            return parsed
        yaml_parsed = _parse_yaml(text, source)
        return yaml_parsed if yaml_parsed.data is not None else parsed
    return _parse_yaml(text, source)


def _fail(code: str, message: str, source: str) -> Parsed:
    return Parsed(None, (Diagnostic(Level.ERROR, code, message, "", source),))


def _parse_json(text: str, source: str) -> Parsed:
    try:
        return Parsed(json.loads(text))
    except json.JSONDecodeError as error:
        return _fail(codes.SYNTAX, f"JSON syntax error at line {error.lineno}, column {error.colno}: {error.msg}",
                     source)
    except RecursionError:
        return _fail(codes.TOO_COMPLEX, "JSON nests too deeply", source)
    except ValueError as error:  # e.g. an integer with more digits than Python converts
        return _fail(codes.SYNTAX, f"JSON value error: {error}", source)


def _parse_yaml(text: str, source: str) -> Parsed:
    loader_class = _LOADERS[0] if not _looks_deep(text) else _PyLoader
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Parsed(None, (Diagnostic(Level.ERROR, codes.SYNTAX, "the file is empty", "", source),))
        if _ANCHOR.search(text) and _expanded_size(node, {}) > MAX_YAML_NODES:
            return _fail(codes.TOO_COMPLEX,
                         f"YAML aliases expand to more than {MAX_YAML_NODES:,} nodes (an alias bomb?)", source)
        return Parsed(loader.construct_document(node))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = error.problem or error.context or "invalid YAML"
        return _fail(codes.SYNTAX, f"YAML syntax error{where}: {problem}", source)
    except yaml.YAMLError as error:
        return _fail(codes.SYNTAX, f"YAML error: {error}", source)
    except RecursionError:
        return _fail(codes.TOO_COMPLEX, "YAML nests too deeply", source)
    except ValueError as error:
        return _fail(codes.SYNTAX, f"YAML value error: {error}", source)
    finally:
        loader.dispose()


def _looks_deep(text: str) -> bool:
    if _DEEP_INDENT in text or (_NESTED_ENTRIES.search(text) and _DEEP_NESTED_ENTRIES.search(text)):
        return True
    depth = 0
    for bracket in _NOT_BRACKET.sub("", text):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        if depth > _C_LOADER_MAX_NESTING:
            return True
    return False


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes the document has once aliases are expanded (aliases share node objects, hence the memo)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            size += _expanded_size(key, memo) + _expanded_size(value, memo)
            if size > MAX_YAML_NODES:
                break
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            size += _expanded_size(item, memo)
            if size > MAX_YAML_NODES:
                break
    memo[id(node)] = size
    return size
