"""server.json: every committed package's entry validates against the MCP Registry's schema (the copy the
generator ships, checked equal to the registry material in ../shared when it is there), names the
variables the server reads, and `specbridge registry show` reads it back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from specbridge import cli

from tests.support import REPO, SHARED

GENERATED = sorted(path for path in (REPO / "generated").iterdir() if (path / "pyproject.toml").exists())
SCHEMA = json.loads((REPO / "generator" / "specbridge" / "server.schema.json").read_text())


def test_the_shipped_schema_is_the_registry_s() -> None:
    original = SHARED / "registry" / "server.schema.2025-12-11.json"
    if not original.exists():
        pytest.skip(f"the registry material is not at {original} (set SPECBRIDGE_SHARED)")
    assert json.loads(original.read_text()) == SCHEMA


@pytest.mark.parametrize("package", GENERATED, ids=lambda path: path.name)
def test_every_generated_server_json_is_valid(package: Path) -> None:
    document = json.loads((package / "server.json").read_text())
    errors = list(Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER).iter_errors(document))
    assert not errors, [error.message for error in errors]
    [entry] = document["packages"]
    assert entry["registryType"] == "pypi" and entry["identifier"] == f"{package.name}-mcp"
    assert entry["transport"] == {"type": "stdio"}


def test_credentials_are_secret_and_named_as_the_server_reads_them() -> None:
    document = json.loads((REPO / "generated" / "shopify" / "server.json").read_text())
    variables = {variable["name"]: variable for variable in document["packages"][0]["environmentVariables"]}
    assert variables["SHOPIFY__TOKEN"]["isSecret"] is True and variables["SHOPIFY__TOKEN"]["isRequired"] is True
    assert "isSecret" not in variables["SHOPIFY_BASE_URL"]
    assert variables["SHOPIFY_BASE_URL"]["default"] == "https://store.myshopify.com/api/2024-01"


def test_registry_show_reads_a_server_json_back(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["registry", "show", str(REPO / "generated" / "shopify" / "server.json")]) == 0
    out, err = capsys.readouterr()
    assert "local.specbridge/shopify-mcp" in out and "SHOPIFY__TOKEN (required, secret)" in out
    assert "is valid" in err


def test_registry_show_says_where_a_server_json_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = json.loads((REPO / "generated" / "shopify" / "server.json").read_text())
    document["name"] = "no-slash"
    document["packages"][0]["environmentVariables"][0]["isSecret"] = "yes"
    broken = tmp_path / "server.json"
    broken.write_text(json.dumps(document))
    assert cli.main(["registry", "show", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "error[SB703]" in err and "#/name" in err and "#/packages/0/environmentVariables/0/isSecret" in err
    assert "Traceback" not in err


def test_gen_names_the_server_in_the_namespace_given(tmp_path: Path) -> None:
    out = tmp_path / "shop"
    assert cli.main(["gen", str(REPO / "specs" / "shopify.json"), "-o", str(out),
                     "--registry-namespace", "io.github.acme"]) == 0
    assert json.loads((out / "server.json").read_text())["name"] == "io.github.acme/shopify-mcp"
