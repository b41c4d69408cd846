"""Spec text reaches generated files only escaped: literals read back as the same value, names are safe
identifiers, README and TOML text cannot break out of their place."""

from __future__ import annotations

import ast
import keyword
import tomllib

import pytest
from specbridge.escape import (
    Identifier,
    is_identifier,
    md_code,
    md_inline,
    md_json,
    md_prose,
    md_prose_inline,
    py_literal,
    sh_words,
    to_class_name,
    to_identifier,
    toml_string,
)

HOSTILE = [
    "",
    "plain",
    "quote ' and \" and both '\"",
    "triple ''' and \"\"\" quotes",
    "back\\slash at the end\\",
    "new\nline and \r\n and \r",
    "nul \x00 byte, bell \x07, escape \x1b[31m",
    "line\u2028separator\u2029paragraph\x85next",
    "{{ jinja }} {% if x %}{% endif %} {# comment #}",
    '"); import os; os.system("x")#',
    "'''); import os #",
    "\\N{LATIN SMALL LETTER A} \\x41 \\u0041",
    "unicode: héllo — 日本語 🐍 \u202e reversed",
    "lone surrogate \ud800 here",
    "f'{__import__(\"os\")}'",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_string_literal_is_one_expression_reading_back_the_same_text(text: str) -> None:
    literal = py_literal(text)
    tree = ast.parse(f"x = {literal}\n")
    assert len(tree.body) == 1
    assigned = tree.body[0]
    assert isinstance(assigned, ast.Assign) and isinstance(assigned.value, ast.Constant)
    assert assigned.value.value == text
    assert "\n" not in literal and "\r" not in literal and "\u2028" not in literal


@pytest.mark.parametrize("value", [
    None, True, False, 0, -1, 10**30, 1.5, -0.25, 1e300, [], (), ("a",), ["a", 1, None, True],
    {"k": [1, {"n": None}], "x\"y": "z"}, (("a", "b"), ("c", "d")),
])
def test_literals_of_json_like_values_read_back_with_the_same_types(value: object) -> None:
    read = ast.literal_eval(py_literal(value))
    assert read == value
    assert type(read) is type(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {1: "int key"}, object(), {"k": {1, 2}}])
def test_values_without_a_literal_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="not a literal"):
        py_literal(value)


def test_booleans_stay_booleans_inside_containers() -> None:
    assert py_literal([True, 1]) == "[True, 1]"
    assert py_literal(("only",)) == "('only',)"


@pytest.mark.parametrize(("text", "expected"), [
    ("userId", "user_id"),
    ("HTTPServer", "http_server"),
    ("class", "class_"),
    ("match", "match_"),
    ("_private", "private"),
    ("2fa", "value_2fa"),
    ("", "value"),
    ("../../etc/passwd", "etc_passwd"),
    ("héllo wörld", "hello_world"),
    ("日本語", "value"),
    ("model_dump", "model_dump_"),
    ("json", "json_"),
    ("str", "str_"),
    ("x\"); import os #", "x_import_os"),
])
def test_identifiers_are_safe_snake_case(text: str, expected: str) -> None:
    assert to_identifier(text, used=set()) == expected


def test_identifiers_are_unique_and_deterministic() -> None:
    names = ["a-b", "a_b", "A B", "a.b"]
    used: set[str] = set()
    first = [to_identifier(name, used=used) for name in names]
    used_again: set[str] = set()
    second = [to_identifier(name, used=used_again) for name in names]
    assert first == second == ["a_b", "a_b_2", "a_b_3", "a_b_4"]
    assert used == set(first)


def test_long_names_are_shortened_with_a_hash_of_the_whole_name() -> None:
    first = to_identifier("x" * 200 + "a", used=set())
    second = to_identifier("x" * 200 + "b", used=set())
    assert len(first) <= 64 and len(second) <= 64
    assert first != second


@pytest.mark.parametrize(("text", "expected"), [
    ("pet", "Pet"), ("pet-owner.v2", "PetOwnerV2"), ("2x", "Model2x"), ("", "Model"), ("Exception", "ExceptionModel"),
    ("BaseModel", "BaseModelModel"), ("../../x", "X"), ("Any", "AnyModel"), ("none", "NoneModel"),
    ("true", "TrueModel"),
])
def test_class_names_are_pascal_case_and_never_shadow_what_models_use(text: str, expected: str) -> None:
    assert to_class_name(text, used=set()) == expected


def test_every_name_made_is_an_identifier_and_not_a_keyword() -> None:
    for text in [*HOSTILE, *keyword.kwlist, *keyword.softkwlist]:
        for name in (to_identifier(text, used=set()), to_class_name(text, used=set())):
            assert is_identifier(name)
            assert name.isascii() and name.isidentifier() and not keyword.iskeyword(name)


def test_an_identifier_cannot_be_made_of_arbitrary_text() -> None:
    for bad in ["a b", "1a", "class", "x;y", "", "é"]:
        with pytest.raises(ValueError):
            Identifier(bad)


def test_markdown_inline_text_cannot_open_html_links_code_or_table_cells() -> None:
    text = md_inline("<script>alert(1)</script> [link](http://x) `code` | cell *em* _em_ &amp; ![img](x)\n# h")
    for raw in ("<", ">", "[", "]", "`", "|", "*", "_", "&", "!"):
        assert all(text[i - 1] == "\\" for i, char in enumerate(text) if char == raw)
    assert "\n" not in text


def test_spec_markdown_stays_markdown_with_its_lists_and_line_breaks() -> None:
    text = "See [https://swagger.io](https://swagger.io) for *more* - a great approach!\n\n- one\n- two\n1. first\n" \
           "line one\nline two"
    assert md_prose(text) == text


def test_spec_markdown_cannot_inject_html_or_script_links() -> None:
    text = md_prose('<img src=x onerror=alert(1)> <script>x</script> [a](javascript:alert(1)) [b]( JaVaScript:x)'
                    ' [c](&#106;avascript:x) [d](<data:text/html,x>) `<kept in code>`\n[e]: javascript:x\n'
                    "[ok](https://example.com/a?b=1&c=2) [rel](./page.md) [anchor](#x)")
    assert "<img" not in text.replace("\\<img", "") and "<script" not in text.replace("\\<script", "")
    for unsafe in ("[a]\\(javascript", "[b]\\( JaVaScript", "[c]\\(&#106;", "[d]\\(\\<data", "\\[e]: javascript"):
        assert unsafe in text
    for kept in ("`<kept in code>`", "[ok](https://example.com/a?b=1&c=2)", "[rel](./page.md)", "[anchor](#x)"):
        assert kept in text


def test_an_unclosed_code_fence_is_closed_and_a_closed_one_kept() -> None:
    assert md_prose("text\n```json\n{\"a\": \"<b>\"}\n```\nafter <i>") == \
        'text\n```json\n{"a": "<b>"}\n```\nafter \\<i>'
    assert md_prose("text\n~~~~\nnever closed\n~~~").endswith("~~~\n~~~~")


def test_markdown_in_a_table_cell_is_one_line_that_cannot_end_the_cell() -> None:
    text = md_prose_inline("a | b `x|y` <b>bold</b>\nnext [link](https://x.io)")
    assert text == "a \\| b `x\\|y` \\<b>bold\\</b> next [link](https://x.io)"


def test_shell_words_are_quoted_and_cannot_close_a_fence() -> None:
    assert sh_words(["claude", "--env", "A=<A> $(rm -rf ~)"]) == "claude --env 'A=<A> $(rm -rf ~)'"
    with pytest.raises(ValueError):
        sh_words(["a```"])


def test_code_spans_cannot_be_closed_early() -> None:
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"
    assert md_code("a|b", in_table=True) == "`a\\|b`"


def test_json_for_code_blocks_is_ascii() -> None:
    assert md_json({"a": "é"}) == '{\n  "a": "\\u00e9"\n}'


@pytest.mark.parametrize("text", [*HOSTILE, "del \x7f", 'a"b\\c'])
def test_toml_strings_read_back_the_same_text(text: str) -> None:
    expected = text.replace("\ud800", "\ufffd")
    literal = toml_string(text)
    assert tomllib.loads(f"key = {literal}\nother = 1\n") == {"key": expected, "other": 1}
