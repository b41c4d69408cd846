"""Prometheus metrics of a server's calls, served at `GET /metrics` (prometheus-client's text format).

They are collected where the call path already reports: every audited `CallRecord` (calls by connector,
tool and status, latency per tool, retries) and the gate (calls in flight). One `Metrics` per process
state, with its own registry, so servers in one process (the tests) never share counters by accident.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .._core.seams import AuditSink, CallGate, CallRecord

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
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

    def observe(self, call: CallRecord) -> None:
        self.calls.labels(call.connector, call.tool, call.status).inc()
        self.latency.labels(call.connector, call.tool).observe(call.latency_ms / 1000)
        if call.retries:
            self.retries.labels(call.connector).inc(call.retries)

    def text(self) -> bytes:
        return generate_latest(self.registry)


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
        self._in_flight = metrics.in_flight.labels(connector)

    def enter(self, tool: str) -> AbstractAsyncContextManager[None]:
        return self._enter(tool)

    async def pause(self, seconds: float) -> None:
        await self.gate.pause(seconds)

    @asynccontextmanager
    async def _enter(self, tool: str) -> AsyncIterator[None]:
        async with self.gate.enter(tool):
            self._in_flight.inc()
            try:
                yield
            finally:
                self._in_flight.dec()
