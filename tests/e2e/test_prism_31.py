"""The project's OpenAPI 3.1 spec served by the Prism mock server (npm) with request validation on
(`--errors`: any violation is a 422): every generated tool called with valid arguments raises no
violation, and invalid arguments are refused before anything is sent."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client

from tests.e2e.conftest import InstalledPackage, generate_and_install
from tests.support import REPO, free_port, node_tool, serving

SPEC = "specs/notes-openapi-3.1.yaml"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()

VALID_CALLS: dict[str, dict[str, object]] = {
    "notes_list_notes": {"tag": ["work", "home"], "status": "draft", "limit": 5, "X-Request-Id": "r-1"},
    "notes_create_note": {"title": "Groceries", "body": "milk", "tags": ["home"], "priority": None,
                          "status": "published", "reminder": {"after_minutes": 30}},
    "notes_get_note": {"noteId": "n_1"},
    "notes_replace_note": {"noteId": "n_1", "title": "Groceries", "priority": 2,
                           "reminder": {"at": "2026-11-21T10:00:00Z"}},
    "notes_delete_note": {"noteId": "n_1"},
    "notes_attach_file": {"noteId": "n_1", "file": PNG, "caption": "receipt"},
    "notes_preview_note": {"noteId": "n_1"},
    "notes_search_notes": {"q": "milk", "filter": {"owner": "ann", "after": "2026-01-01"}, "ids": ["a", "b"]},
    "notes_create_folder_tree": {"name": "root", "children": [{"name": "a", "children": [{"name": "a1"}]}]},
    "notes_start_session": {"username": "ann", "remember": True},
}


@pytest.fixture(scope="module")
def notes_package(tmp_path_factory: pytest.TempPathFactory) -> InstalledPackage:
    return generate_and_install(SPEC, tmp_path_factory.mktemp("gen") / "notes", "notes", "--name", "notes")


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    command = [str(node_tool("prism")), "mock", str(REPO / SPEC), "--host", "127.0.0.1", "--port", str(port),
               "--errors"]
    with log.open("wb") as sink, serving(command, port, timeout=60, stdout=sink, stderr=subprocess.STDOUT):
        yield f"http://127.0.0.1:{port}", log


def violations(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if "VALIDATOR" in line and "passed the validation rules" not in line]


async def test_every_tool_passes_prism_validation(notes_package: InstalledPackage, prism: tuple[str, Path],
                                                 tmp_path: Path) -> None:
    url, log = prism
    params = notes_package.stdio(tmp_path, NOTES_BASE_URL=url, NOTES__BEARER_AUTH_TOKEN="prism-accepts-any-token")
    async with Client(params, cache=None) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools == set(VALID_CALLS)
        for name, arguments in VALID_CALLS.items():
            result = await client.call_tool(name, arguments)
            texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
            assert not result.is_error, (name, texts)
    assert violations(log) == []


async def test_invalid_arguments_never_reach_the_api(notes_package: InstalledPackage, prism: tuple[str, Path],
                                                     tmp_path: Path) -> None:
    url, log = prism
    before = log.read_text(errors="replace").count("Request received")
    params = notes_package.stdio(tmp_path, NOTES_BASE_URL=url, NOTES__BEARER_AUTH_TOKEN="t")
    bad_calls = {
        "notes_list_notes": ({"limit": 500}, "limit"),
        "notes_create_note": ({"title": ""}, "title"),
        "notes_get_note": ({"noteId": "no/slashes"}, "noteId"),
        "notes_search_notes": ({"q": "milk", "unknown": 1}, "unknown"),
    }
    async with Client(params, cache=None) as client:
        for name, (arguments, field) in bad_calls.items():
            result = await client.call_tool(name, arguments)
            text = " ".join(block.text for block in result.content if isinstance(block, types.TextContent))
            assert result.is_error and field in text, (name, text)
    assert log.read_text(errors="replace").count("Request received") == before
