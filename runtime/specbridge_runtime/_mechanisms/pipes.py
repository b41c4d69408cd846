"""The process's stdin and stdout as the event loop's own pipes, for the stdio transports (`stdio` for the
SDK's server, `stdio_lane` for the fast lane), without the SDK.

While serving, fds 0 and 1 are claimed (`claimed`): fd 0 reads the null device and fd 1 writes to stderr
(both restored after), so stray output of handlers and children misses the wire. Only pipes and sockets
are served this way (`pipes_apply`), which is how MCP clients start servers: asyncio cannot watch a regular
file, and making a terminal non-blocking would change it for every process sharing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import stat
import sys
from collections.abc import Callable, Iterator
from typing import TextIO


class LineSplitter:
    """Splits the bytes read from stdin into lines exactly as a text file with universal newlines does:
    `\\n`, `\\r\\n` and a lone `\\r` end lines. Lines are given without their line end."""

    def __init__(self) -> None:
        self._pending = bytearray()  # no line end in it, but maybe a `\r` last (a `\n` may follow)

    def feed(self, chunk: bytes) -> list[bytes]:
        pending = self._pending
        start = max(len(pending) - 1, 0)
        pending += chunk
        # Up to the last line end: a `\n`, or a `\r` that is not last (so no `\n` follows it).
        end = max(pending.rfind(b"\n", start), pending.rfind(b"\r", start, len(pending) - 1)) + 1
        if not end:
            return []
        lines = bytes(pending[:end])
        del pending[:end]
        return lines.splitlines()  # bytes split at \n, \r and \r\n only

    def end(self) -> tuple[list[bytes], bytes]:
        """When the input ended: the line a last `\\r` ended, and what came after the last line end."""
        last, self._pending = bytes(self._pending), bytearray()
        return ([last[:-1]], b"") if last.endswith(b"\r") else ([], last)


def line_text(line: bytes) -> str:
    """A line as a UTF-8 text file with replacement reads it, with its `\\n`."""
    return line.decode("utf-8", errors="replace") + "\n"


class OutputProtocol(asyncio.streams.FlowControlMixin):
    """Flow control for `drain`, and `closed`: done once the transport has written all it held and let go
    of the pipe (`StreamWriter.wait_closed` needs a reader's protocol). `on_pause(True/False)` hears when
    the client falls behind and catches up again."""

    def __init__(self, on_pause: Callable[[bool], None] | None = None) -> None:
        super().__init__()
        self.closed = asyncio.get_running_loop().create_future()
        self._on_pause = on_pause

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._on_pause is not None:
            self._on_pause(True)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._on_pause is not None:
            self._on_pause(False)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if not self.closed.done():
            self.closed.set_result(None)


def _is_pipe(fd: int, stream: TextIO) -> bool:
    """`stream` writes or reads `fd` (not replaced, as under a test runner) and `fd` is a pipe or socket."""
    try:
        if stream.buffer.fileno() != fd:
            return False
        return stat.S_ISFIFO(os.fstat(fd).st_mode) or stat.S_ISSOCK(os.fstat(fd).st_mode)
    except (AttributeError, OSError, ValueError):
        return False


def pipes_apply() -> bool:
    """Whether stdin and stdout are pipes or sockets the event loop can serve."""
    if sys.platform == "win32" or not (_is_pipe(0, sys.stdin) and _is_pipe(1, sys.stdout)):
        return False
    stdin, stdout = os.fstat(0), os.fstat(1)
    # One socket for both directions: the write transport would take incoming data for the peer closing.
    return (stdin.st_dev, stdin.st_ino) != (stdout.st_dev, stdout.st_ino)


def _dup_above_std(fd: int) -> int:
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


def _diversion(fd: int) -> int:
    """What `fd` points at while serving: the null device for stdin, stderr (else the null device) for stdout."""
    if fd == 0:
        return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return _dup_above_std(2)
    except OSError:
        return os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)


@contextlib.contextmanager
def claimed(fd: int) -> Iterator[int]:
    """Divert `fd` while serving; yields a private descriptor of the wire for the transport (which closes
    it). The wire is put back in blocking mode and on `fd` after."""
    saved = _dup_above_std(fd)
    try:
        wire = _dup_above_std(saved)
        try:
            diversion = _diversion(fd)
            try:
                os.dup2(diversion, fd)
            finally:
                os.close(diversion)
        except OSError:
            os.close(wire)
            raise
        try:
            yield wire
        finally:
            with contextlib.suppress(OSError):
                os.set_blocking(saved, True)  # asyncio made the shared file description non-blocking
            os.dup2(saved, fd)
    finally:
        os.close(saved)


@contextlib.contextmanager
def claimed_stdio() -> Iterator[tuple[int, int] | None]:
    """The wires of stdin and stdout, claimed (see `claimed`), or None when they cannot be served as pipes."""
    if not pipes_apply():
        yield None
        return
    with contextlib.ExitStack() as claims:
        try:
            wires = claims.enter_context(claimed(0)), claims.enter_context(claimed(1))
        except OSError:  # descriptors that cannot be duplicated or diverted: served in place by the SDK
            claims.close()
            wires = None
        yield wires
