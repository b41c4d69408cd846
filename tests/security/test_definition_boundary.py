"""Boundary 5: a definition served over HTTP (a real server on 127.0.0.1) may refer only to its own origin:
its `openapi` pointing at a local file or another host is refused (SB205) and nothing of that file or host
reaches the output; URLs are shown and locked without userinfo or query; `--spec-header` sends its header
(from the environment) to the spec's origin only, never through a redirect to another host."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.security.conftest import Peer, PeerFactory, assert_absent, everything_written, gen

pytestmark = pytest.mark.timeout(180)

LOCAL_CANARY = "canary-local-file-content-4f3e2d1c0b"
URL_TOKEN = "canary-url-token-9a8b7c6d5e"
SPEC_TOKEN = "spec-token-0123456789abcdef"
SPEC = {"openapi": "3.0.3", "info": {"title": "Served", "version": "1.0.0"},
        "servers": [{"url": "http://127.0.0.1:9"}],
        "paths": {"/ping": {"get": {"operationId": "ping", "responses": {"200": {"description": "ok"}}}}}}


def serve_definition(tmp_path: Path, peers: PeerFactory, openapi: str) -> Peer:
    folder = tmp_path / "served"
    folder.mkdir(exist_ok=True)
    (folder / "def.json").write_text(json.dumps({"type": "rest", "name": "served", "openapi": openapi}))
    (folder / "spec.json").write_text(json.dumps(SPEC))
    return peers("upstream", folder=folder)


@pytest.fixture
def local_spec(tmp_path: Path) -> Path:
    path = tmp_path / "local.json"
    path.write_text(json.dumps({**SPEC, "info": {"title": LOCAL_CANARY, "version": "1.0.0"}}))
    return path


@pytest.mark.parametrize("where", ["absolute", "file-url", "other-host"])
def test_a_served_definition_cannot_reach_a_local_file_or_another_host(tmp_path: Path, peers: PeerFactory,
                                                                       local_spec: Path, where: str) -> None:
    other = peers("upstream", folder=local_spec.parent)
    openapi = {"absolute": str(local_spec), "file-url": local_spec.as_uri(),
               "other-host": f"{other.url}/files/{local_spec.name}"}[where]
    served = serve_definition(tmp_path, peers, openapi)
    out = tmp_path / "out"
    done = gen(f"http://user:{URL_TOKEN}@127.0.0.1:{served.url.rsplit(':', 1)[1]}/files/def.json?token={URL_TOKEN}",
               "-o", str(out), cwd=tmp_path)
    assert done.returncode == 1
    if where == "absolute":  # a path on the definition's own origin, asked of it (and not found there)
        assert f"error[SB101] {served.url}{local_spec}: HTTP 404" in done.stderr
    else:
        assert "error[SB205]" in done.stderr and "#/openapi: a definition read from http://127.0.0.1:" in done.stderr
    assert other.requests() == []
    assert not out.exists()
    assert_absent([LOCAL_CANARY, URL_TOKEN], output=done.stdout + done.stderr, **everything_written(tmp_path / "out"))


def test_a_served_definition_may_use_its_own_origin_and_the_lock_has_no_token(tmp_path: Path,
                                                                              peers: PeerFactory) -> None:
    served = serve_definition(tmp_path, peers, "/files/spec.json")  # a path on the definition's origin
    out = tmp_path / "out"
    done = gen(f"{served.url}/files/def.json?token={URL_TOKEN}", "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lock = json.loads((out / "specbridge.lock").read_text())
    assert f"{served.url}/files/def.json" in lock["sources"] and f"{served.url}/files/spec.json" in lock["sources"]
    assert_absent([URL_TOKEN], output=done.stdout + done.stderr, **everything_written(out))


def test_spec_header_goes_to_the_spec_origin_only(tmp_path: Path, peers: PeerFactory) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "spec.json").write_text(json.dumps(SPEC))
    home, elsewhere = peers("upstream", folder=folder), peers("upstream", folder=folder)
    environ = {"PATH": os.environ["PATH"], "SPEC_TOKEN": SPEC_TOKEN, "SPECBRIDGE_HOME": str(tmp_path / "home")}
    direct = gen(f"{home.url}/files/spec.json", "--name", "direct", "-o", str(tmp_path / "direct"),
                 "--spec-header", "Authorization: env:SPEC_TOKEN", cwd=tmp_path, env=environ)
    assert direct.returncode == 0, direct.stderr
    assert home.headers()[0]["authorization"] == SPEC_TOKEN

    redirected = gen(f"{home.url}/redirect?to={elsewhere.url}/files/spec.json", "--name", "moved", "-o",
                     str(tmp_path / "moved"), "--spec-header", "Authorization: env:SPEC_TOKEN", cwd=tmp_path,
                     env=environ)
    assert redirected.returncode == 0, redirected.stderr
    assert home.headers()[1]["authorization"] == SPEC_TOKEN  # asked of the spec's origin, which redirected
    assert elsewhere.requests() and all("authorization" not in headers for headers in elsewhere.headers())
    assert_absent([SPEC_TOKEN], output=direct.stderr + redirected.stderr,
                  **everything_written(tmp_path / "direct", tmp_path / "moved"))

    plain = gen(f"{home.url}/files/spec.json", "--spec-header", f"Authorization: {SPEC_TOKEN}", cwd=tmp_path,
                env=environ)
    assert plain.returncode == 2 and "must be env:VAR, vault:NAME or enc:" in plain.stderr
    reserved = gen(f"{home.url}/files/spec.json", "--spec-header", "Authorization: env:SPECBRIDGE_MASTER_KEY",
                   "-o", str(tmp_path / "reserved"), cwd=tmp_path, env={**environ, "SPECBRIDGE_MASTER_KEY": "x" * 44})
    assert reserved.returncode == 1 and "own secret" in reserved.stderr
