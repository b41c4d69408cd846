"""Problems in the input are values: a level, a stable code, a message and a JSON pointer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Level(str, Enum):  # noqa: UP042 - StrEnum would change str(level), which callers may format
    ERROR = "error"  # this input (or this operation) cannot be generated
    WARNING = "warning"  # generated, but something was dropped, changed or guessed
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    level: Level
    code: str  # e.g. "SB101"; stable, documented in README's diagnostics table
    message: str
    location: str = ""  # JSON pointer into the source, e.g. "#/paths/~1pets/get"
    source: str = ""  # the file or URL the pointer is relative to

    def render(self) -> str:
        where = f"{self.source}{self.location}" if self.source or self.location else "<input>"
        return f"{self.level.value}[{self.code}] {where}: {self.message}"


def pointer(*parts: str | int) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "#/" + "/".join(escaped) if parts else "#"


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.level is Level.ERROR for d in diagnostics)
