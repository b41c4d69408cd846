"""Collects normalization diagnostics; repeated schema findings are reported once with a count.

A diagnostic's source follows from its pointer: pointers into keys only a connector definition has
(`#/operations/...`, `#/auth`, ...) refer to the definition file, all others to the OpenAPI document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from specbridge.diagnostics import Diagnostic, Level

_DEFINITION_KEYS = frozenset({"operations", "auth", "tool_names", "limits", "headers", "include", "exclude",
                              "base_url"})


@dataclass
class _Repeated:
    level: Level
    code: str
    message: str
    first: str
    count: int = 0


@dataclass
class Reporter:
    source: str
    definition_source: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _repeated: dict[tuple[str, str], _Repeated] = field(default_factory=dict)

    def add(self, level: Level, code: str, message: str, location: str = "") -> None:
        self.diagnostics.append(Diagnostic(level, code, message, location, self._source(location)))

    def repeated(self, level: Level, code: str, message: str, location: str) -> None:
        """A finding that may occur thousands of times (a dropped keyword): one diagnostic per message."""
        entry = self._repeated.setdefault((code, message), _Repeated(level, code, message, location))
        entry.count += 1

    def finish(self) -> tuple[Diagnostic, ...]:
        summaries = [
            Diagnostic(entry.level, entry.code,
                       entry.message if entry.count == 1 else f"{entry.message} ({entry.count} places; first here)",
                       entry.first, self._source(entry.first))
            for entry in self._repeated.values()
        ]
        return (*self.diagnostics, *summaries)

    def _source(self, location: str) -> str:
        first = location[2:].split("/", 1)[0] if location.startswith("#/") else ""
        return self.definition_source if first in _DEFINITION_KEYS and self.definition_source else self.source
