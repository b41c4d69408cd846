"""The cyclic garbage collector, paused while an import makes many long-lived objects (the mcp SDK, a
package's hundreds of input models): it would otherwise scan them over and over while they are made."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector for the block; it is left as it was (a host may have disabled it itself)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
