"""How far a long run has got, as values the pipeline hands to whoever listens (only the CLI prints).

The pipeline calls `stage` when a stage is done (with counts) and `step` inside the one long stage, the
input schemas computed from the models (one per tool: Kubernetes' 661 take most of a run). `SILENT`
listens to nothing; the CLI's `TerminalProgress` draws a line per stage and a bar on a terminal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TextIO


class Progress(Protocol):
    def stage(self, name: str, detail: str) -> None:
        """Stage `name` is done; `detail` says what it made (`661 operations -> 661 tools`)."""
        ...

    def step(self, name: str, done: int, total: int) -> None:
        """Stage `name` has done `done` of `total` items."""
        ...


class _Silent:
    def stage(self, name: str, detail: str) -> None:
        return None

    def step(self, name: str, done: int, total: int) -> None:
        return None


SILENT: Progress = _Silent()
_BAR = 30


class TerminalProgress:
    """A line per stage with its counts and time, and a bar redrawn in place for long stages. Meant for a
    terminal: the CLI uses it only when stderr is one. `clock` is injectable so tests need no real time."""

    def __init__(self, stream: TextIO, *, prefix: str = "specbridge", clock: Callable[[], float] = time.monotonic,
                 min_total: int = 20) -> None:
        self.stream = stream
        self.prefix = prefix
        self.clock = clock
        self.min_total = min_total  # fewer items than this: no bar (it would only flicker)
        self._since = clock()
        self._bar_drawn = -1

    def stage(self, name: str, detail: str) -> None:
        now = self.clock()
        clear = "\r\x1b[2K" if self._bar_drawn >= 0 else ""
        self._bar_drawn = -1
        self.stream.write(f"{clear}{self.prefix}: {name:<9} {detail} ({now - self._since:.1f} s)\n")
        self.stream.flush()
        self._since = now

    def step(self, name: str, done: int, total: int) -> None:
        if total < self.min_total:
            return
        filled = done * _BAR // total
        if filled == self._bar_drawn and done != total:
            return  # redraw only when the bar grows
        self._bar_drawn = filled
        bar = "#" * filled + "." * (_BAR - filled)
        self.stream.write(f"\r{self.prefix}: {name:<9} [{bar}] {done}/{total}")
        self.stream.flush()
