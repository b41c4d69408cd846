"""The one switch between the runtime's own I/O paths and the libraries' stock ones: `SPECBRIDGE_FAST_IO`
(`1`, the default, or `0`). On: a REST provider's HTTP connections are asyncio protocols (`http.py`) and
stdio is served on the event loop's pipes (`stdio.py`); off: httpx2's own transport and the SDK's stdio
wrappers. Both paths are tested; `benchmarks/bench_calls.py` measures one against the other."""

from __future__ import annotations

from collections.abc import Mapping

FAST_IO_ENV = "SPECBRIDGE_FAST_IO"


def fast_io(environ: Mapping[str, str]) -> bool:
    return environ.get(FAST_IO_ENV, "1").strip() != "0"
