"""The REST call path: validation before anything is sent, the seams (gate, auth, retry, audit), and upstream
faults (streamed size limit, timeout, refused connection, broken protocol) that always become error results."""

import asyncio
import dataclasses
import gzip
import tracemalloc
from contextlib import asynccontextmanager

import httpx2
import pytest
from specbridge_runtime import (
    CallRecord,
    Limits,
    NotAuthenticated,
    OperationLimits,
    OperationNotFound,
    RestPackage,
    RestProvider,
)
from specbridge_runtime._assembly.defaults import NeverRetry, UnlimitedGate, no_credentials
from specbridge_runtime._core.clock import SYSTEM_CLOCK
from specbridge_runtime._mechanisms.audit import NoAudit
from specbridge_runtime.testing import ManualClock, provider_for

from tests.support import free_port

MB = 1024 * 1024


class RecordingAudit:
    def __init__(self):
        self.records: list[CallRecord] = []

    def record(self, call):
        self.records.append(call)


def _real_provider(package, base_url, *, limits=None, audit=None, clock=SYSTEM_CLOCK):
    return RestProvider(package, environ={"SBFIXTURE_BASE_URL": base_url}, gate=UnlimitedGate(),
                        auth_for=no_credentials, retry=NeverRetry(), audit=audit or NoAudit(), limits=limits,
                        clock=clock)


async def test_invalid_arguments_name_the_fields_and_send_nothing(package, upstream):
    provider = provider_for(package, upstream)
    result = await provider.call_tool("sbfixture_post_json", {"name": 5, "count": -1, "extra": 1})
    assert result.is_error
    text = result.content[0].text
    assert "`name`: Input should be a valid string" in text
    assert "`count`: Input should be greater than or equal to 0" in text
    assert "`extra`" in text
    assert "no request was sent" in text
    assert upstream.requests == []


async def test_a_nested_field_is_named_by_its_path(package, upstream):
    result = await provider_for(package, upstream).call_tool(
        "sbfixture_post_form", {"name": "n", "items": [{"price": "1", "quantity": "many"}]})
    assert "`items.0.quantity`" in result.content[0].text


async def test_an_unknown_tool_is_operation_not_found_and_audited(package, upstream):
    audit = RecordingAudit()
    with pytest.raises(OperationNotFound, match="sbfixture_nope"):
        await provider_for(package, upstream, audit=audit).call_tool("sbfixture_nope", {})
    assert [(record.tool, record.status) for record in audit.records] == [("sbfixture_nope", "operation_not_found")]


async def test_a_call_sends_the_request_and_is_audited_without_argument_values(package, upstream):
    upstream.route("POST", "/anything/json", json={"created": True}, status=201)
    audit = RecordingAudit()
    result = await provider_for(package, upstream, audit=audit).call_tool(
        "sbfixture_post_json", {"name": "secret-name", "count": 2})
    assert result.structured_content == {"created": True}
    request = upstream.last_request
    assert request.method == "POST" and request.url.path == "/api/anything/json"
    assert request.content == b'{"name":"secret-name","count":2}'
    assert request.headers["X-Static"] == "static-value" and "X-Secret" not in request.headers
    [record] = audit.records
    assert (record.connector, record.tool, record.status, record.http_status) == (
        "sbfixture", "sbfixture_post_json", "ok", 201)
    assert record.bytes_out == len(request.content) and record.bytes_in == len(b'{"created":true}')
    assert record.arguments is None and "secret-name" not in repr(record)
    assert len(record.arguments_hash) == 64 and record.retries == 0


async def test_error_statuses_are_audited_by_status(package, upstream):
    upstream.route("GET", "/status/{code}", status=404, json={"message": "Not Found"})
    audit = RecordingAudit()
    result = await provider_for(package, upstream, audit=audit).call_tool("sbfixture_status", {"code": 404})
    assert result.is_error and "HTTP 404" in result.content[0].text
    assert audit.records[0].status == "http_404"


class TokenAuth:
    def __init__(self):
        self.token = "old"
        self.refreshes = 0

    async def apply(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"

    async def refresh(self):
        self.refreshes += 1
        self.token = "new"
        return True


async def test_auth_is_applied_and_refreshed_once_after_a_401(package, upstream):
    def handler(request):
        if request.headers["Authorization"] == "Bearer new":
            return httpx2.Response(200, json={"ok": True})
        return httpx2.Response(401, json={"error": "expired"})

    upstream.route("GET", "/headers", handler)
    auth = TokenAuth()
    audit = RecordingAudit()
    result = await provider_for(package, upstream, auth_for=lambda operation: auth, audit=audit).call_tool(
        "sbfixture_get_headers", {})
    assert result.structured_content == {"ok": True}
    assert auth.refreshes == 1 and len(upstream.requests) == 2
    assert audit.records[0].retries == 1


class RaisingAuth:
    def __init__(self, error):
        self.error = error

    async def apply(self, request):
        raise self.error

    async def refresh(self):
        return False


async def test_missing_credentials_are_a_not_authenticated_error(package, upstream):
    auth = RaisingAuth(NotAuthenticated("no token for sbfixture: set it with `sbfixture-mcp creds set token`"))
    audit = RecordingAudit()
    result = await provider_for(package, upstream, auth_for=lambda operation: auth, audit=audit).call_tool(
        "sbfixture_get_headers", {})
    assert result.is_error and "creds set" in result.content[0].text
    assert audit.records[0].status == "not_authenticated" and upstream.requests == []


async def test_the_retry_policy_decides_about_resending(package, upstream):
    answers = iter([httpx2.Response(503, text="busy"), httpx2.Response(200, json={"n": 1})])
    upstream.route("GET", "/headers", lambda request: next(answers))

    class RetryOnce:
        def __init__(self):
            self.calls = []

        def delay(self, attempt, response, error, idempotent, waited_s):
            self.calls.append((attempt, response.status_code, idempotent))
            return 0.01 if response.status_code == 503 else None

    retry = RetryOnce()
    result = await provider_for(package, upstream, retry=retry).call_tool("sbfixture_get_headers", {})
    assert result.structured_content == {"n": 1}
    assert retry.calls == [(0, 503, True), (1, 200, True)]


async def test_the_gate_is_held_around_the_upstream_call(package, upstream):
    events = []

    class Gate:
        @asynccontextmanager
        async def enter(self, tool):
            events.append(("enter", tool))
            yield
            events.append(("leave", tool))

    upstream.route("GET", "/headers", lambda request: events.append(("request",)) or httpx2.Response(200, json={}))
    await provider_for(package, upstream, gate=Gate()).call_tool("sbfixture_get_headers", {})
    assert events == [("enter", "sbfixture_get_headers"), ("request",), ("leave", "sbfixture_get_headers")]


async def test_without_a_base_url_calls_fail_saying_what_to_set(package):
    # a spec whose servers give only a relative URL: the package has no base URL of its own
    connector = dataclasses.replace(package.connector, base_url="/api", server_variables=())
    without = RestPackage(connector=connector, operations=package.operations, package=package.package)
    provider = RestProvider(without, environ={}, gate=UnlimitedGate(), auth_for=no_credentials, retry=NeverRetry(),
                            audit=NoAudit())
    assert provider.base_url is None
    result = await provider.call_tool("sbfixture_get_headers", {})
    assert result.is_error and "SBFIXTURE_BASE_URL" in result.content[0].text


@pytest.mark.parametrize(("error", "expected"), [
    (httpx2.RemoteProtocolError("peer closed connection"), "connection failed"),
    (httpx2.ReadError("reset"), "connection failed"),
    (httpx2.ReadTimeout("slow"), "timeout"),
])
async def test_transport_errors_become_error_results(package, upstream, error, expected):
    def handler(request):
        raise error

    upstream.route("GET", "/headers", handler)
    result = await provider_for(package, upstream).call_tool("sbfixture_get_headers", {})
    assert result.is_error and expected in result.content[0].text


async def test_a_body_that_cannot_be_decoded_is_an_invalid_response(package, upstream):
    upstream.route("GET", "/headers", content=b"not gzip at all",
                   headers={"content-encoding": "gzip", "content-type": "application/json"})
    result = await provider_for(package, upstream).call_tool("sbfixture_get_headers", {})
    assert result.is_error and "could not be decoded" in result.content[0].text


async def test_gzip_bodies_are_decoded(package, upstream):
    upstream.route("GET", "/headers", content=gzip.compress(b'{"zipped": true}'),
                   headers={"content-encoding": "gzip", "content-type": "application/json"})
    result = await provider_for(package, upstream).call_tool("sbfixture_get_headers", {})
    assert result.structured_content == {"zipped": True}


async def test_a_bug_in_a_seam_is_an_internal_error_result_not_a_crash(package, upstream):
    auth = RaisingAuth(RuntimeError("bug"))
    result = await provider_for(package, upstream, auth_for=lambda operation: auth).call_tool(
        "sbfixture_get_headers", {})
    assert result.is_error and "internal error" in result.content[0].text


# Real sockets on 127.0.0.1: an upstream that would stream 50 MB, one that never answers, none at all.

@asynccontextmanager
async def tcp_upstream(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), 5)


async def _read_head(reader):
    while (await reader.readline()) not in (b"\r\n", b""):
        pass


async def test_the_size_limit_is_enforced_while_streaming(package):
    sent = []

    async def fifty_megabytes(reader, writer):
        await _read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        total = 0
        try:
            while total < 50 * MB:
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
                total += len(chunk)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sent.append(total)
            writer.close()

    audit = RecordingAudit()
    async with tcp_upstream(fifty_megabytes) as url:
        # A clock that stands still: the call ends by the size limit, never by its timeout.
        provider = _real_provider(package, url, limits=Limits(max_response_bytes=MB, timeout_s=30), audit=audit,
                                  clock=ManualClock(auto_advance=False))
        tracemalloc.start()
        try:
            result = await provider.call_tool("sbfixture_bytes", {"n": 1})
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        await provider.stop()
        for _ in range(100):
            if sent:
                break
            await asyncio.sleep(0.05)
    assert result.is_error and "larger than the limit of 1,048,576 bytes" in result.content[0].text
    assert audit.records[0].status == "response_too_large"
    assert peak < 8 * MB, f"peak traced memory {peak / MB:.1f} MB"
    assert sent and sent[0] < 20 * MB, f"the upstream got to send {sent[0] / MB:.1f} MB"


async def test_a_declared_length_over_the_limit_is_refused_before_reading(package):
    async def announces_fifty_megabytes(reader, writer):
        await _read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n{")
        await writer.drain()
        await asyncio.sleep(5)
        writer.close()

    async with tcp_upstream(announces_fifty_megabytes) as url:
        # A clock that stands still: the refusal cannot come from the timeout.
        provider = _real_provider(package, url, limits=Limits(max_response_bytes=MB, timeout_s=30),
                                  clock=ManualClock(auto_advance=False))
        result = await provider.call_tool("sbfixture_get_headers", {})
        await provider.stop()
    assert result.is_error and "larger than the limit" in result.content[0].text


async def test_a_silent_upstream_times_out(package):
    clock = ManualClock(auto_advance=False)

    async def never_answers(reader, writer):
        await _read_head(reader)
        clock.advance(0.5)  # the request arrived; half a second passes without an answer
        await asyncio.sleep(30)

    audit = RecordingAudit()
    async with tcp_upstream(never_answers) as url:
        limits = Limits(timeout_s=30, operations=(("sbfixture_get_headers", OperationLimits(timeout_s=0.5)),))
        provider = _real_provider(package, url, limits=limits, audit=audit, clock=clock)
        result = await provider.call_tool("sbfixture_get_headers", {})
        await provider.stop()
    assert result.is_error and "timeout" in result.content[0].text and "0.5 s" in result.content[0].text
    assert "splitting" in result.content[0].text
    assert audit.records[0].status == "timeout" and audit.records[0].latency_ms == 500


async def test_a_refused_connection_says_to_check_the_base_url(package):
    provider = _real_provider(package, f"http://127.0.0.1:{free_port()}")
    result = await provider.call_tool("sbfixture_get_headers", {})
    await provider.stop()
    text = result.content[0].text
    assert result.is_error and "connection failed" in text and "SBFIXTURE_BASE_URL" in text
    assert "Verify the endpoint URL" in text

