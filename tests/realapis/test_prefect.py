"""Prefect's server (PyPI, FastAPI) on SQLite: HTTP basic auth from its `PREFECT_SERVER_API_AUTH_STRING`,
page-number pagination in request and response bodies (`page`/`limit` -> `results`/`pages`), 204 answers,
FastAPI's `{"detail": ...}` errors. The package is generated from the OpenAPI 3.1 document the server
serves at `/api/openapi.json` (188 operations), and driven only through its tools, found by their titles
(the spec's summaries) so that a change of tool naming does not change what is tested."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import mcp_types as types
import pytest
from mcp import Client

from tests.realapis.conftest import BIN, RealApi, fetch_spec, generate, measure, proxied, structured, text_of
from tests.support import free_port, serving

# Prefect's server migrates its database before it listens: the first test also waits for that.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

PASSWORD = "prefect-test-password"


@pytest.fixture(scope="module")
def prefect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealApi]:
    folder = tmp_path_factory.mktemp("prefect")
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(folder / "home"), "PREFECT_SERVER_API_AUTH_STRING": f"admin:{PASSWORD}",
           "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{folder / 'prefect.db'}",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_UI_ENABLED": "false",
           "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "ERROR"}
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    # Prefect migrates its database before it listens: tens of seconds on a busy machine.
    with serving(command, port, env=env, cwd=folder, timeout=180), proxied(f"http://127.0.0.1:{port}") as proxy:
        credentials = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        spec = fetch_spec(f"http://127.0.0.1:{port}/api/openapi.json", folder / "prefect-openapi.json",
                          Authorization=f"Basic {credentials}")
        package = generate({
            "type": "rest", "name": "prefect", "openapi": str(spec), "base_url": f"{proxy.url}/api",
            "limits": {"timeout_s": 60},
            "auth": {"type": "basic", "username": "admin", "password": "env:PREFECT_TEST_PASSWORD"},
        }, folder, "--max-operations", "400")
        yield RealApi(proxy, package, folder, {"PREFECT_TEST_PASSWORD": PASSWORD})


async def titled(client: Client) -> dict[str, types.Tool]:
    return {tool.title or tool.name: tool for tool in (await client.list_tools()).tools}


async def test_flows_are_created_paged_updated_and_deleted(prefect: RealApi) -> None:
    mark = prefect.proxy.mark()
    async with prefect.client() as client:
        tools = await titled(client)
        create, paginate, read, update, delete = (tools[title].name for title in (
            "Create Flow", "Paginate Flows", "Read Flow", "Update Flow", "Delete Flow"))
        ids = {}
        for number in range(5):
            flow = structured(await client.call_tool(create, {"name": f"etl-{number}", "tags": ["nightly"]}))
            ids[flow["name"]] = flow["id"]

        names: list[str] = []
        page_number, pages = 1, None
        while pages is None or page_number <= pages:
            page = structured(await client.call_tool(paginate, {"page": page_number, "limit": 2,
                                                                "sort": "NAME_ASC"}))
            assert page["page"] == page_number and page["count"] == 5
            pages = page["pages"]
            names += [flow["name"] for flow in page["results"]]
            page_number += 1
        assert names == [f"etl-{number}" for number in range(5)] and pages == 3

        flow_id = ids["etl-2"]
        updated = await client.call_tool(update, {"id": flow_id, "tags": ["nightly", "urgent"]})
        assert not updated.is_error, text_of(updated)
        assert structured(await client.call_tool(read, {"id": flow_id}))["tags"] == ["nightly", "urgent"]

        refused = await client.call_tool(paginate, {"page": 1, "limit": "many"})
        assert refused.is_error and "`limit`" in text_of(refused) and "no request was sent" in text_of(refused)

        deleted = await client.call_tool(delete, {"id": flow_id})
        assert not deleted.is_error, text_of(deleted)
        gone = await client.call_tool(read, {"id": flow_id})
        assert gone.is_error and "HTTP 404" in text_of(gone)
        assert 'Response: {"detail": "Flow not found"}' in text_of(gone), text_of(gone)

    sent = prefect.proxy.since(mark)
    credentials = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    assert sent and all(request.headers.get("authorization") == credentials for request in sent)
    assert all(request.headers.get("user-agent", "").startswith("prefect-mcp/") for request in sent)
    paged = [request for request in sent if request.path == "/api/flows/paginate"]
    assert [request.body.count(b'"limit":2') for request in paged] == [1, 1, 1]
    assert [b'"page":%d' % number in request.body for number, request in enumerate(paged, 1)] == [True] * 3
    assert [(request.method, request.path, request.status) for request in sent if request.method in ("PATCH", "DELETE")
            ] == [("PATCH", f"/api/flows/{flow_id}", 204), ("DELETE", f"/api/flows/{flow_id}", 204)]
    assert len(sent) == 5 + 3 + 1 + 1 + 1 + 1  # creates, pages, update, read, delete, read; nothing for the refusal


def test_measurements(prefect: RealApi) -> None:
    figures = measure(prefect.package)
    print("prefect", figures)
    assert figures["tools"] == 188
