"""Parsing untrusted bytes: JSON through json, YAML safely, problems as diagnostics with positions."""

from __future__ import annotations

import json

from specbridge import codes
from specbridge.diagnostics import Level
from specbridge.parse import MAX_YAML_NODES, parse_text


def test_json_with_escaped_surrogate_pairs_is_read_by_json() -> None:
    # PyYAML rejects this escape (Twilio's spec has one); json reads it as the one character it is.
    parsed = parse_text(b'{"emoji": "\\ud83d\\udc4d"}', source="x.json", json_hint=True)
    assert parsed.diagnostics == ()
    assert parsed.data == {"emoji": "\U0001f44d"}


def test_json_content_without_json_name_is_read_as_json() -> None:
    parsed = parse_text(b'  {"a": "\\ud83d\\udc4d"}', source="spec", json_hint=False)
    assert parsed.data == {"a": "\U0001f44d"}


def test_yaml_flow_mapping_that_is_not_json_falls_back_to_yaml() -> None:
    parsed = parse_text(b"{a: 1, b: [x, y]}", source="spec.yaml", json_hint=False)
    assert parsed.data == {"a": 1, "b": ["x", "y"]}


def test_json_syntax_error_has_line_and_column() -> None:
    parsed = parse_text(b'{\n  "a": 1,\n}', source="x.json", json_hint=True)
    assert parsed.data is None
    (diagnostic,) = parsed.diagnostics
    assert (diagnostic.level, diagnostic.code, diagnostic.source) == (Level.ERROR, codes.SYNTAX, "x.json")
    assert "line 3, column 1" in diagnostic.message


def test_yaml_syntax_error_has_line_and_column() -> None:
    parsed = parse_text(b"openapi: 3.0.0\npaths:\n  /a: [1, 2\n", source="x.yaml", json_hint=False)
    (diagnostic,) = parsed.diagnostics
    assert diagnostic.code == codes.SYNTAX
    assert "line 4, column 1" in diagnostic.message


def test_yaml_only_values_come_out_as_json_values() -> None:
    parsed = parse_text(b"responses:\n  200: ok\ncreated: 2024-01-31\nwhen: 2024-01-31T10:00:00Z\n",
                        source="x.yaml", json_hint=False)
    assert parsed.data == {"responses": {"200": "ok"}, "created": "2024-01-31", "when": "2024-01-31T10:00:00Z"}
    json.dumps(parsed.data)


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    parsed = parse_text("\n".join(lines).encode(), source="bomb.yaml", json_hint=False)
    assert parsed.data is None
    (diagnostic,) = parsed.diagnostics
    assert diagnostic.code == codes.TOO_COMPLEX
    assert f"{MAX_YAML_NODES:,}" in diagnostic.message


def test_yaml_aliases_within_the_bound_are_read() -> None:
    parsed = parse_text(b"base: &b {type: string}\nother: *b\n", source="x.yaml", json_hint=False)
    assert parsed.data == {"base": {"type": "string"}, "other": {"type": "string"}}


def test_deep_nesting_is_a_diagnostic_not_a_crash() -> None:
    # libyaml would overflow the C stack on this; the pure-Python loader raises RecursionError instead.
    for text in ("[" * 100_000 + "]" * 100_000, "- " * 50_000 + "x"):
        parsed = parse_text(text.encode(), source="deep.yaml", json_hint=False)
        assert [d.code for d in parsed.diagnostics] == [codes.TOO_COMPLEX]
    parsed = parse_text(b"[" * 100_000 + b"]" * 100_000, source="deep.json", json_hint=True)
    assert [d.code for d in parsed.diagnostics] == [codes.TOO_COMPLEX]


def test_not_utf8_and_empty_input() -> None:
    assert [d.code for d in parse_text(b"\xff\xfe\x00a", source="x", json_hint=False).diagnostics] == [codes.NOT_UTF8]
    assert [d.code for d in parse_text(b"", source="x.yaml", json_hint=False).diagnostics] == [codes.SYNTAX]


def test_python_tags_are_not_executed() -> None:
    parsed = parse_text(b"a: !!python/object/apply:os.system ['echo hi']", source="x.yaml", json_hint=False)
    assert parsed.data is None
    assert [d.code for d in parsed.diagnostics] == [codes.SYNTAX]
