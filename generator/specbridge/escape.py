"""The one way spec text reaches generated files: escaped into a literal, or made into a checked name.

Spec text is untrusted. Python source gets strings only as `py_literal(...)` (a `repr`, checked to read
back as the same value), and names only as `Identifier`s (`to_identifier`, `to_class_name`). README text
goes through `md_inline`/`md_block`, TOML strings through `toml_string`. Each result is a `str` subclass
saying what kind of text it is, so `render.py` can refuse anything unescaped in a template's context.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import json
import keyword
import re
import shlex
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence

from pydantic import BaseModel

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MAX_NAME = 64
_HASH_CHARS = 8


class Escaped(str):
    """Text already made safe for one kind of file; the only kind of text a template may receive."""

    __slots__ = ()


class PySource(Escaped):
    """A Python expression or statements built from literals and identifiers."""

    __slots__ = ()


class Markdown(Escaped):
    """Markdown whose spec-derived parts are escaped."""

    __slots__ = ()


class JsonText(Escaped):
    """A JSON document."""

    __slots__ = ()


class ShellText(Escaped):
    """A POSIX shell command line whose words are quoted."""

    __slots__ = ()


class TomlString(Escaped):
    """A TOML basic string, quotes included."""

    __slots__ = ()


class Identifier(Escaped):
    """An ASCII Python identifier that is not a keyword or soft keyword."""

    __slots__ = ()

    def __new__(cls, value: str) -> Identifier:
        if not is_identifier(value):
            raise ValueError(f"not a safe Python identifier: {value!r}")
        return super().__new__(cls, value)


def is_identifier(value: str) -> bool:
    return bool(_IDENTIFIER.match(value)) and not keyword.iskeyword(value) and not keyword.issoftkeyword(value)


# --- Python literals ---------------------------------------------------------------------------------


def is_literal_value(value: object) -> bool:
    """True for the JSON-like values `py_literal` can write (no NaN or infinity, string keys only)."""
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, tuple | list):
        return all(is_literal_value(item) for item in value)
    if isinstance(value, Mapping):
        return all(isinstance(key, str) and is_literal_value(item) for key, item in value.items())
    return False


def py_literal(value: object) -> PySource:
    """A Python literal that evaluates to exactly `value` (checked with `ast.literal_eval`).
    A mapping becomes a dict literal with its keys in the given order."""
    if not is_literal_value(value):
        raise ValueError(f"not a literal value: {value!r}")
    text = _literal(value)
    if not _same(ast.literal_eval(text), value):
        raise ValueError(f"literal does not round-trip: {value!r}")
    return PySource(text)


def _literal(value: object) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, tuple):
        items = [_literal(item) for item in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, str):
        # repr escapes quotes, backslashes, line breaks (U+2028 and U+0085 too), controls and surrogates.
        return repr(str(value))
    if value is None or isinstance(value, bool):
        return repr(value)
    return repr(int(value)) if isinstance(value, int) else repr(float(value))  # type: ignore[arg-type]


def _same(read: object, value: object) -> bool:
    """Equality that also compares kinds (True is not 1, a tuple is not a list; str subclasses are str)."""
    if isinstance(value, Mapping):
        return (
            isinstance(read, dict)
            and list(read) == list(value)
            and all(_same(read[key], item) for key, item in value.items())
        )
    if isinstance(value, tuple | list):
        return (
            isinstance(read, tuple | list)
            and isinstance(read, tuple) == isinstance(value, tuple)
            and len(read) == len(value)
            and all(_same(a, b) for a, b in zip(read, value, strict=True))
        )
    for kind in (bool, str, int, float):
        if isinstance(value, kind):
            return type(read) is kind and read == value
    return read is None and value is None


# --- names -------------------------------------------------------------------------------------------

# Names a generated model field must not take: what model annotations use (a field named `str` would
# shadow the type in the class body) and what pydantic's BaseModel defines.
FIELD_RESERVED = frozenset(
    {"str", "int", "float", "bool", "list", "dict", "None", "Any", "Annotated", "Literal", "Field"}
    | {name for name in dir(BaseModel) if not name.startswith("_")}
)
# Names a generated class must not take: what the models module imports or defines.
CLASS_RESERVED = frozenset(
    {"Any", "Annotated", "Literal", "Field", "BaseModel", "ConfigDict", "JsonValue"}
    | {name for name in dir(builtins) if name[:1].isupper()}
)


def _ascii_words(text: str) -> list[str]:
    """The ASCII alphanumeric words of `text`: accents dropped, camelCase and acronyms split."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", folded)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return re.findall(r"[A-Za-z0-9]+", spaced)


def _shortened(name: str, original: str) -> str:
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    return f"{name[: _MAX_NAME - _HASH_CHARS - 1].rstrip('_')}_{digest}"


def _unique(name: str, used: set[str], separator: str) -> Identifier:
    candidate, number = name, 1
    while candidate in used:
        number += 1
        candidate = f"{name}{separator}{number}"
    used.add(candidate)
    return Identifier(candidate)


def to_identifier(
    text: str, *, used: set[str], reserved: frozenset[str] = FIELD_RESERVED, fallback: str = "value"
) -> Identifier:
    """A snake_case identifier for `text`, not in `used` (the result is added to it), not a keyword, not in
    `reserved`. Deterministic: the same texts in the same order give the same names."""
    name = "_".join(word.lower() for word in _ascii_words(text)) or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    name = _shortened(name, text)
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in reserved:
        name += "_"
    return _unique(name, used, "_")


def to_class_name(text: str, *, used: set[str], suffix: str = "", fallback: str = "Model") -> Identifier:
    """A PascalCase class name for `text` (plus `suffix`), not in `used` (the result is added to it)."""
    name = "".join(word[0].upper() + word[1:] for word in _ascii_words(text)) or fallback
    if name[0].isdigit():
        name = fallback + name
    name = _shortened(name + suffix, text + suffix)
    if name in CLASS_RESERVED:
        name += fallback
    return _unique(name, used, "")


# --- README (markdown) and TOML --------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}<>|~&!#])")
# What starts a block when it starts a line: a list item, a quote or a setext heading underline.
_MD_LINE_START = re.compile(r"^(\s*\d*)([-+=>.)])")


def _printable(text: str) -> str:
    """Text with control characters, line/paragraph separators and lone surrogates made spaces."""
    return "".join(
        " " if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") else char for char in text
    )


def md_inline(text: str) -> Markdown:
    """One line of markdown showing `text` literally (fit for a table cell or a heading)."""
    return Markdown(_MD_SPECIAL.sub(r"\\\1", " ".join(_printable(text).split())))


def md_prose(text: str) -> Markdown:
    """Spec prose as markdown, kept as written (links, emphasis, lists, line breaks, code blocks) except
    what could inject HTML (`<` outside code), run a script from a link, or leave a code block open and so
    swallow the rest of the file (an unclosed fence is closed)."""
    lines = _printable_lines(text).split("\n")
    kept: list[str] = []
    fence: str | None = None  # the opening fence while inside a fenced code block
    for line in lines:
        if fence is not None:
            kept.append(line)
            marker = _FENCE.match(line)
            if marker and marker.group(2)[0] == fence[0] and len(marker.group(2)) >= len(fence) \
                    and not marker.group(3).strip():
                fence = None
            continue
        marker = _FENCE.match(line)
        if marker:
            fence = marker.group(2)
            # Only the info string is prose (a backtick fence's info string may not hold backticks).
            kept.append(marker.group(1) + fence + _outside_code(marker.group(3)))
            continue
        kept.append(_LINK_DEFINITION.sub(r"\1\\[", _outside_code(line)))
    if fence is not None:
        kept.append(fence)
    return Markdown("\n".join(kept).strip("\n"))


def md_prose_inline(text: str) -> Markdown:
    """Spec prose as markdown on one line, for a table cell: what `md_prose` keeps, except line breaks
    (spaces) and `|`, which would end the cell (escaped even in code spans, as GFM tables require)."""
    line = " ".join(_printable(text).split())
    return Markdown(_outside_code(line).replace("|", "\\|"))


_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_CODE_SPAN = re.compile(r"(`+)(?:[^`]|(?!\1)`+)*?\1(?!`)")
# A link destination is kept when it is a web or mail address or has no scheme at all (relative, #anchor);
# anything else (javascript:, data:, an entity that may decode to one) has its link syntax broken.
_SAFE_DESTINATION = r"(?:https?://|mailto:|[^\s:&()<>\\]*+(?:[\s)]|$))"
_UNSAFE_LINK = re.compile(r"\]\((?!\s*+(?:\\?<)?" + _SAFE_DESTINATION + ")", re.IGNORECASE)
_LINK_DEFINITION = re.compile(r"^( {0,3})\[(?=[^\]]*\]:(?!\s*+(?:\\?<)?" + _SAFE_DESTINATION + "))",
                              re.IGNORECASE)


def _printable_lines(text: str) -> str:
    """`_printable`, but line breaks (any convention) kept as `\\n` and tabs kept."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    return "\n".join(_printable(line.replace("\t", "    ")) for line in normalized.split("\n"))


def _outside_code(text: str) -> str:
    """`text` with `<` escaped (no raw HTML, no autolink) and script links broken, outside code spans."""
    parts: list[str] = []
    position = 0
    for span in _CODE_SPAN.finditer(text):
        parts.append(_neutralize(text[position:span.start()]))
        parts.append(span.group(0))
        position = span.end()
    parts.append(_neutralize(text[position:]))
    return "".join(parts)


def _neutralize(text: str) -> str:
    return _UNSAFE_LINK.sub(r"]\\(", text.replace("<", "\\<"))


def md_code(text: str, *, in_table: bool = False) -> Markdown:
    """An inline code span showing `text` literally (its fence is longer than any run of backticks in it).
    In a table cell a `|` would end the cell even inside the span, so it is escaped there (GFM)."""
    content = " ".join(_printable(text).split())
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if content.startswith("`") or content.endswith("`") else ""
    if in_table:
        content = content.replace("|", "\\|")
    return Markdown(f"{fence}{padding}{content}{padding}{fence}")


def md_json(value: object) -> Markdown:
    """Pretty JSON for a fenced code block (which it cannot close)."""
    text = json.dumps(value, indent=2, ensure_ascii=True)
    if "```" in text:
        raise ValueError("JSON for a code block contains a fence")
    return Markdown(text)


def sh_words(words: Sequence[str]) -> ShellText:
    """A command line for a fenced `sh` block: each word quoted for a POSIX shell (and none can close the
    fence)."""
    text = shlex.join(_printable(word) for word in words)
    if "```" in text:
        raise ValueError("a command line for a code block contains a fence")
    return ShellText(text)


def json_text(value: object) -> JsonText:
    """A JSON file's text: indented, keys in the given order, one final line break."""
    return JsonText(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> TomlString:
    """A TOML basic string for `text` (lone surrogates, which UTF-8 cannot hold, become U+FFFD)."""
    parts = []
    for char in text:
        if char in _TOML_ESCAPES:
            parts.append(_TOML_ESCAPES[char])
        elif unicodedata.category(char) == "Cs":
            parts.append("\ufffd")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            parts.append(f"\\u{ord(char):04x}")
        else:
            parts.append(char)
    literal = '"' + "".join(parts) + '"'
    expected = "".join("\ufffd" if unicodedata.category(c) == "Cs" else c for c in text)
    if tomllib.loads(f"v = {literal}")["v"] != expected:
        raise ValueError(f"TOML string does not round-trip: {text!r}")
    return TomlString(literal)


def json_line(value: object) -> str:
    """`value` as compact JSON for a file of one entry per line (UTF-8; escaped only where it must be)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in the spec: only an escape can carry it
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text
