"""Prometheus metrics of a server's calls, served at `GET /metrics` (prometheus-client's text format).

They are collected where the call path already reports: every audited `CallRecord` (calls by connector,
tool and status, latency per tool, retries) and the gate (calls in flight). One `Metrics` per process
state, with its own registry, so servers in one process (the tests) never share counters by accident.
prometheus-client is loaded with the first measurement or exposition, not by a server's start; what a
gate made before then shows (its connector's calls in flight, at 0) is added at that moment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING

from .._core.seams import AuditSink, CallGate, CallRecord

if TYPE_CHECKING:
    from prometheus_client import Gauge

_LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _Families:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.calls = Counter("specbridge_calls", "Tool calls, by connector, tool and status (ok or an error class)",
                             ("connector", "tool", "status"), registry=self.registry)
        self.latency = Histogram("specbridge_call_latency_seconds", "Latency of tool calls", ("connector", "tool"),
                                 buckets=_LATENCY_BUCKETS_S, registry=self.registry)
        self.retries = Counter("specbridge_retries", "Upstream requests sent again", ("connector",),
                               registry=self.registry)
        self.rate_waits = Histogram("specbridge_rate_limit_wait_seconds", "Waits for a token of a rate limit",
                                    ("connector",), buckets=_LATENCY_BUCKETS_S, registry=self.registry)
        self.token_refreshes = Counter("specbridge_token_refreshes", "OAuth tokens fetched unattended (refreshed)",
                                       ("connector", "scheme"), registry=self.registry)
        self.in_flight = Gauge("specbridge_calls_in_flight", "Calls holding a slot of the limit of calls in flight",
                               ("connector",), registry=self.registry)

    def gated(self, connector: str) -> None:
        self.rate_waits.labels(connector)
        self.in_flight.labels(connector)


class Metrics:
    def __init__(self) -> None:
        self._families: _Families | None = None
        self._gated: list[str] = []  # connectors whose gates were made before the families

    def _made(self) -> _Families:
        if self._families is None:
            families = _Families()
            for connector in self._gated:
                families.gated(connector)
            self._families = families
        return self._families

    def gated(self, connector: str) -> None:
        """`connector` has a gate: its calls in flight and waits for a token are shown (at 0) from now on."""
        if self._families is None:
            self._gated.append(connector)
        else:
            self._families.gated(connector)

    def in_flight(self, connector: str) -> Gauge:
        return self._made().in_flight.labels(connector)

    def waited(self, connector: str, seconds: float) -> None:
        self._made().rate_waits.labels(connector).observe(seconds)

    def token_refreshed(self, connector: str, scheme: str) -> None:
        self._made().token_refreshes.labels(connector, scheme).inc()

    def observe(self, call: CallRecord) -> None:
        families = self._made()
        families.calls.labels(call.connector, call.tool, call.status).inc()
        families.latency.labels(call.connector, call.tool).observe(call.latency_ms / 1000)
        if call.retries:
            families.retries.labels(call.connector).inc(call.retries)

    def text(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self._made().registry)


class MeasuredAudit:
    """An `AuditSink` that counts each record, then hands it to `audit`."""

    def __init__(self, audit: AuditSink, metrics: Metrics) -> None:
        self.audit = audit
        self.metrics = metrics

    def record(self, call: CallRecord) -> None:
        self.metrics.observe(call)
        self.audit.record(call)


class MeasuredGate:
    """A `CallGate` that counts the calls inside `gate`."""

    def __init__(self, gate: CallGate, connector: str, metrics: Metrics) -> None:
        self.gate = gate
        self._connector = connector
        self._metrics = metrics
        self._in_flight: Gauge | None = None
        metrics.gated(connector)

    def enter(self, tool: str) -> AbstractAsyncContextManager[None]:
        return self._enter(tool)

    async def pause(self, seconds: float) -> None:
        await self.gate.pause(seconds)

    @asynccontextmanager
    async def _enter(self, tool: str) -> AsyncIterator[None]:
        if self._in_flight is None:
            self._in_flight = self._metrics.in_flight(self._connector)
        in_flight = self._in_flight
        async with self.gate.enter(tool):
            in_flight.inc()
            try:
                yield
            finally:
                in_flight.dec()
