"""Jupyter Server (PyPI): its token sent as a bearer token (and, for `check`, as an API key in the
`Authorization` header with Jupyter's own `token ` prefix), resources created with 201 and a `Location`
header, file paths as path parameters, checkpoints. The package is generated from the Swagger 2.0 document
the server serves at `/api/spec.yaml`, and driven only through its tools. Jupyter's contents API has neither
paging nor preconditions: Kinto's test covers both, Prefect's paging in bodies."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.realapis.conftest import BIN, RealApi, fetch_spec, generate, measure, proxied, structured, text_of
from tests.support import free_port, serving

pytestmark = pytest.mark.e2e

TOKEN = "jupyter-test-token-4f1c"


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealApi]:
    folder = tmp_path_factory.mktemp("jupyter")
    root = folder / "root"
    root.mkdir()
    port = free_port()
    # Its own runtime, data and config folders: nothing of the machine's Jupyter setup is read or written.
    env = {**os.environ, **{f"JUPYTER_{kind}_DIR": str(folder / kind.lower())
                            for kind in ("RUNTIME", "DATA", "CONFIG")}}
    command = [str(BIN / "jupyter-server"), f"--IdentityProvider.token={TOKEN}", f"--port={port}", "--no-browser",
               "--allow-root", "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0"]
    with serving(command, port, env=env, cwd=folder, timeout=60), proxied(f"http://127.0.0.1:{port}") as proxy:
        spec = fetch_spec(f"http://127.0.0.1:{port}/api/spec.yaml", folder / "jupyter-api.yaml",
                          Authorization=f"token {TOKEN}")
        package = generate({
            "type": "rest", "name": "jupyter", "openapi": str(spec), "base_url": proxy.url,
            # The spec declares no security scheme; the definition's auth applies to every operation.
            "auth": {"type": "bearer", "token": "env:JUPYTER_TEST_TOKEN"},
        }, folder)
        yield RealApi(proxy, package, folder, {"JUPYTER_TEST_TOKEN": TOKEN})


async def test_files_are_created_read_checkpointed_restored_and_deleted(jupyter: RealApi) -> None:
    mark = jupyter.proxy.mark()
    async with jupyter.client() as client:
        folder = structured(await client.call_tool("jupyter_post_api_contents_path", {"path": "", "type": "directory"}))
        assert folder["type"] == "directory"
        # The new resource's address reaches the agent from the Location header.
        assert folder["_response"]["status"] == 201
        assert folder["_response"]["headers"]["location"].startswith("/api/contents/")
        renamed = structured(await client.call_tool("jupyter_patch_api_contents_path", {
            "path": folder["path"], "body_path": "notes"}))
        assert renamed["path"] == "notes"

        created = structured(await client.call_tool("jupyter_put_api_contents_path", {
            "path": "notes/todo.txt", "type": "file", "format": "text", "content": "buy milk"}))
        assert created["_response"]["status"] == 201 and created["path"] == "notes/todo.txt"
        listing = structured(await client.call_tool("jupyter_get_api_contents_path", {"path": "notes"}))
        assert [entry["name"] for entry in listing["content"]] == ["todo.txt"]

        checkpoint = structured(await client.call_tool("jupyter_post_api_contents_path_checkpoints",
                                                       {"path": "notes/todo.txt"}))
        assert checkpoint["_response"]["headers"]["location"].endswith(checkpoint["id"])
        changed = structured(await client.call_tool("jupyter_put_api_contents_path", {
            "path": "notes/todo.txt", "type": "file", "format": "text", "content": "buy oat milk"}))
        assert changed["_response"]["status"] == 200
        restored = await client.call_tool("jupyter_post_api_contents_path_checkpoints_checkpoint_id", {
            "path": "notes/todo.txt", "checkpoint_id": checkpoint["id"]})
        assert not restored.is_error, text_of(restored)
        read = structured(await client.call_tool("jupyter_get_api_contents_path", {
            "path": "notes/todo.txt", "type": "file", "format": "text"}))
        assert read["content"] == "buy milk"

        deleted = await client.call_tool("jupyter_delete_api_contents_path", {"path": "notes/todo.txt"})
        assert not deleted.is_error, text_of(deleted)
        gone = await client.call_tool("jupyter_get_api_contents_path", {"path": "notes/todo.txt"})
        assert gone.is_error and "HTTP 404" in text_of(gone)
        assert "Response: file or directory '/notes/todo.txt' does not exist" in text_of(gone), text_of(gone)

    sent = jupyter.proxy.since(mark)
    assert sent and all(request.headers.get("authorization") == f"Bearer {TOKEN}" for request in sent)
    assert all(request.headers.get("user-agent", "").startswith("jupyter-mcp/") for request in sent)
    writes = [(request.method, request.path) for request in sent if request.method in ("PUT", "PATCH", "DELETE")]
    # A file path stays one path parameter: its "/" is sent encoded, and Jupyter reads it as the path.
    assert writes == [("PATCH", "/api/contents/Untitled%20Folder"), ("PUT", "/api/contents/notes%2Ftodo.txt"),
                      ("PUT", "/api/contents/notes%2Ftodo.txt"), ("DELETE", "/api/contents/notes%2Ftodo.txt")]
    put = next(request for request in sent if request.method == "PUT")
    assert put.headers["content-type"] == "application/json"
    assert b'"content":"buy milk"' in put.body and b'"format":"text"' in put.body


def check(jupyter: RealApi, definition_auth: dict[str, str] | None, token: str) -> subprocess.CompletedProcess[str]:
    """`jupyter_probe-mcp check` of a package whose only operation is one Jupyter guards with its login page."""
    folder = jupyter.home / f"probe-{'auth' if definition_auth else 'none'}"
    folder.mkdir(exist_ok=True)
    spec = jupyter.home / "jupyter-api.yaml"
    definition: dict[str, object] = {"type": "rest", "name": "jupyter_probe", "openapi": str(spec),
                                     "base_url": jupyter.proxy.url, "include": ["/api/spec.yaml"]}
    if definition_auth:
        definition["auth"] = definition_auth
    package = generate(definition, folder)
    return subprocess.run([str(package.script), "check"], capture_output=True, text=True, timeout=120, check=False,
                          env=package.env(folder, JUPYTER_TEST_TOKEN=token))


def test_check_tells_a_redirect_to_the_login_page_from_a_working_connection(jupyter: RealApi) -> None:
    auth = {"type": "api_key", "location": "header", "param_name": "Authorization", "prefix": "token ",
            "key": "env:JUPYTER_TEST_TOKEN"}
    good = check(jupyter, auth, TOKEN)
    assert good.returncode == 0 and "Connection OK" in good.stdout, good.stdout + good.stderr

    wrong = check(jupyter, auth, "not-the-token")
    assert wrong.returncode == 1
    assert "Connection OK" not in wrong.stdout + wrong.stderr
    assert "redirected to /login" in wrong.stderr and "credentials sent were not accepted" in wrong.stderr

    none = check(jupyter, None, TOKEN)
    assert none.returncode == 1
    assert "no credentials were sent" in none.stderr and "refused" not in none.stderr, none.stderr


def test_measurements(jupyter: RealApi) -> None:
    figures = measure(jupyter.package)
    print("jupyter", figures)
    assert figures["tools"] == 32

