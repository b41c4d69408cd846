"""Kinto (PyPI) with its memory backend: HTTP basic auth, pagination by a `Next-Page` response header (the
token travels only there), optimistic concurrency with `ETag`/`If-Match`. The package is generated from
the Swagger 2.0 document Kinto serves at `/v1/__api__`, and driven only through its tools."""

from __future__ import annotations

import base64
import re
import tomllib
from collections.abc import Iterator

import pytest
from specbridge_runtime import __version__ as runtime_version

from tests.realapis.conftest import (
    BIN,
    RealApi,
    fetch_spec,
    generate,
    measure,
    proxied,
    structured,
    text_of,
)
from tests.support import free_port, serving

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
KINTO_INI = """
[app:main]
use = egg:kinto
kinto.storage_backend = kinto.core.storage.memory
kinto.cache_backend = kinto.core.cache.memory
kinto.permission_backend = kinto.core.permission.memory
kinto.userid_hmac_secret = only-for-this-test
multiauth.policies = basicauth
kinto.bucket_create_principals = system.Authenticated
kinto.paginate_by = 100

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = %(http_port)s

[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = plain
[logger_root]
level = ERROR
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = plain
[formatter_plain]
format = %(message)s
"""


@pytest.fixture(scope="module")
def kinto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealApi]:
    folder = tmp_path_factory.mktemp("kinto")
    (folder / "kinto.ini").write_text(KINTO_INI)
    port = free_port()
    with serving([str(BIN / "kinto"), "start", "--ini", str(folder / "kinto.ini"), "--port", str(port)], port,
                 cwd=folder, timeout=60), proxied(f"http://127.0.0.1:{port}") as proxy:
        spec = fetch_spec(f"http://127.0.0.1:{port}/v1/__api__", folder / "kinto-openapi.json")
        package = generate({
            "type": "rest", "name": "kinto", "openapi": str(spec), "base_url": f"{proxy.url}/v1",
            # The spec names its scheme `basicauth`; the definition supplies the credentials for it.
            "auth": {"type": "basic", "name": "basicauth", "username": "alice", "password": "env:KINTO_SECRET"},
        }, folder)
        yield RealApi(proxy, package, folder, {"KINTO_SECRET": PASSWORD})


async def test_a_collection_is_created_paged_updated_with_if_match_and_deleted(kinto: RealApi) -> None:
    mark = kinto.proxy.mark()
    async with kinto.client() as client:
        structured(await client.call_tool("kinto_create_bucket", {"data": {"id": "shop"}}))
        structured(await client.call_tool("kinto_create_collection", {"bucket_id": "shop", "data": {"id": "items"}}))
        where = {"bucket_id": "shop", "collection_id": "items"}
        for number in range(5):
            created = structured(await client.call_tool("kinto_create_record", {
                **where, "data": {"id": f"item-{number}", "name": f"Item {number}", "price": number * 10}}))
            assert created["data"]["id"] == f"item-{number}"
            assert created["_response"]["headers"]["etag"].strip('"').isdigit()

        # Page through two records at a time: the next page's token is only in the Next-Page header.
        seen: list[str] = []
        arguments: dict[str, object] = {**where, "_limit": 2, "_sort": ["id"]}
        for _ in range(5):
            page = structured(await client.call_tool("kinto_get_records", arguments))
            seen += [record["id"] for record in page["data"]]
            response = page["_response"]
            following = response.get("next_arguments")
            if not following:
                assert "next" not in response.get("links", {})
                break
            assert response["links"]["next"].startswith(kinto.proxy.url)
            arguments = {**where, **following}
        assert seen == [f"item-{number}" for number in range(5)]

        # Read, then update with the ETag the read showed; an update with a stale ETag is refused.
        record = structured(await client.call_tool("kinto_get_record", {**where, "id": "item-3"}))
        etag = record["_response"]["headers"]["etag"]
        updated = structured(await client.call_tool("kinto_update_record", {
            **where, "id": "item-3", "If-Match": etag, "data": {"name": "Item three", "price": 35}}))
        assert updated["data"]["price"] == 35
        assert updated["_response"]["headers"]["etag"] != etag
        stale = await client.call_tool("kinto_update_record", {
            **where, "id": "item-3", "If-Match": etag, "data": {"name": "lost update"}})
        assert stale.is_error
        assert "HTTP 412" in text_of(stale)
        # Kinto's JSON error keeps its message first.
        assert re.search(r"Response: \{\"message\": \"Resource was modified meanwhile", text_of(stale)), text_of(stale)

        deleted = structured(await client.call_tool("kinto_delete_record", {**where, "id": "item-3"}))
        assert deleted["data"]["deleted"] is True
        gone = await client.call_tool("kinto_get_record", {**where, "id": "item-3"})
        assert gone.is_error and "HTTP 404" in text_of(gone)

    sent = kinto.proxy.since(mark)
    credentials = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    assert sent and all(request.headers.get("authorization") == credentials for request in sent)
    # The installed package's version and the runtime's, on every request.
    version = tomllib.loads((kinto.package.source / "pyproject.toml").read_text())["project"]["version"]
    assert {request.headers.get("user-agent") for request in sent} == {
        f"kinto-mcp/{version} specbridge-runtime/{runtime_version}"}
    pages = [request for request in sent if request.method == "GET" and request.path.endswith("/records")]
    assert len(pages) == 3 and pages[0].param("_token") is None
    assert all(request.param("_token") for request in pages[1:]) and all(r.param("_limit") == "2" for r in pages)
    conditional = [request for request in sent if request.method == "PUT"]
    assert [request.headers.get("if-match") for request in conditional] == [etag, etag]
    assert [request.status for request in conditional] == [200, 412]
    assert b'"price":35' in conditional[0].body
    assert [request.path for request in sent if request.method == "DELETE"] == [
        "/v1/buckets/shop/collections/items/records/item-3"]


async def test_a_missing_password_sends_nothing_and_another_user_is_refused(kinto: RealApi) -> None:
    mark = kinto.proxy.mark()
    async with kinto.client() as client:
        structured(await client.call_tool("kinto_create_bucket", {"data": {"id": "private"}}))
    async with RealApi(kinto.proxy, kinto.package, kinto.home, {"KINTO_SECRET": ""}).client() as client:
        missing = await client.call_tool("kinto_get_bucket", {"id": "private"})
    assert missing.is_error and "KINTO_SECRET" in text_of(missing), text_of(missing)
    assert len(kinto.proxy.since(mark)) == 1, "nothing is sent without the password"
    # Kinto's basic auth takes any password as another user, who may not read alice's bucket.
    async with RealApi(kinto.proxy, kinto.package, kinto.home, {"KINTO_SECRET": "someone else"}).client() as client:
        other = await client.call_tool("kinto_get_bucket", {"id": "private"})
    assert other.is_error and "HTTP 403" in text_of(other)
    assert 'Response: {"message": "' in text_of(other), text_of(other)


def test_measurements(kinto: RealApi, record_property: pytest.RecordProperty) -> None:
    figures = measure(kinto.package)
    record_property("kinto", figures)
    print("kinto", figures)
    assert figures["tools"] == 36
