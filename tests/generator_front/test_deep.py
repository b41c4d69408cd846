"""--deep: openapi-spec-validator finds defects the fast checks miss, maps them to diagnostics with a
location, and reads no file and no URL a spec points at, whatever the spec says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from specbridge import cli, codes
from specbridge.deep import deep_validate
from specbridge.diagnostics import Level
from specbridge.options import GenOptions
from specbridge.pipeline import inspect
from specbridge.validate import validate_openapi

from tests.generator_front.conftest import SpecServer
from tests.generator_front.support import oas3

# Valid for the fast checks; a JSON Schema `items` written as a list (as Slack's spec does) and a
# `required` list naming a property twice (as OpenAI's does) are defects only the deep check sees.
DEFECTIVE = oas3({"/things": {"get": {"operationId": "listThings", "responses": {"200": {
    "description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Things"}}}}}}}},
    components={"schemas": {"Things": {"type": "array", "items": [{"type": "string"}]},
                            "Thing": {"type": "object", "required": ["id", "id"],
                                      "properties": {"id": {"type": "string"}}}}})


def with_schema_ref(ref: str) -> dict[str, Any]:
    return oas3({"/things": {"get": {"operationId": "listThings", "responses": {"200": {
        "description": "ok", "content": {"application/json": {"schema": {"$ref": ref}}}}}}}})


def test_a_defect_only_the_deep_check_finds_is_reported_where_it_is() -> None:
    assert validate_openapi(DEFECTIVE, "spec.json") == ()
    findings = deep_validate(DEFECTIVE, "spec.json")
    assert findings and all(d.code == codes.DEEP_FINDING and d.level is Level.WARNING for d in findings)
    located = {d.location: d.message for d in findings}
    assert "#/components/schemas/Things" in located
    # Checks of parts report paths relative to the part; the judged value is found in the document.
    assert "is not of type 'object'" in located["#/components/schemas/Things/items"]
    assert "non-unique" in located["#/components/schemas/Thing/required"]


def test_a_valid_document_has_no_deep_findings() -> None:
    valid = oas3({"/things": {"get": {"operationId": "listThings", "responses": {"200": {"description": "ok"}}}}})
    assert deep_validate(valid, "spec.json") == ()


def test_the_deep_check_reads_no_loopback_url(spec_server: SpecServer) -> None:
    spec_server.files["/thing.json"] = json.dumps({"type": "string"}).encode()
    (finding,) = deep_validate(with_schema_ref(f"{spec_server.url}/thing.json"), "spec.json")
    assert finding.code == codes.DEEP_FAILED and "refused" in finding.message
    assert spec_server.requests == []


@pytest.mark.parametrize("relative", [True, False])
def test_the_deep_check_reads_no_local_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: bool) -> None:
    # Were it read, this schema's invalid `type` would be a finding; instead the read is refused.
    (tmp_path / "secret.json").write_text(json.dumps({"type": 12}))
    monkeypatch.chdir(tmp_path)
    ref = "secret.json" if relative else (tmp_path / "secret.json").as_uri()
    (finding,) = deep_validate(with_schema_ref(ref), str(tmp_path / "spec.json"))
    assert finding.code == codes.DEEP_FAILED and "refused" in finding.message


def test_inspect_deep_reports_findings_and_refuses_refs_an_overlay_brought_in(
        tmp_path: Path, spec_server: SpecServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.json").write_text(json.dumps(DEFECTIVE))
    assert cli.main(["inspect", "spec.json"]) == 0
    assert codes.DEEP_FINDING not in capsys.readouterr().err  # the fast checks stay the default
    assert cli.main(["inspect", "spec.json", "--deep"]) == 0
    assert f"warning[{codes.DEEP_FINDING}] spec.json#/components/schemas/Things" in capsys.readouterr().err
    # An external $ref the loader never bundled (here added by an overlay) is not read by the deep check.
    spec_server.files["/x.json"] = b'{"type": "string"}'
    (tmp_path / "ref.json").write_text(json.dumps({
        "overlay": "1.0.0", "info": {"title": "t", "version": "1"},
        "actions": [{"target": "$.components.schemas", "update": {"Remote": {"$ref": f"{spec_server.url}/x.json"}}}],
    }))
    result = inspect("spec.json", GenOptions(deep=True, overlays=("ref.json",)), cwd=tmp_path)
    assert codes.DEEP_FAILED in {d.code for d in result.diagnostics}
    assert result.connectors  # generation goes on
    assert spec_server.requests == []


def test_a_failure_of_the_validator_itself_is_a_diagnostic(monkeypatch: pytest.MonkeyPatch) -> None:
    from openapi_spec_validator.validation import validators

    def crash(self: object) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(validators.SpecValidator, "iter_errors", crash)
    (finding,) = deep_validate(DEFECTIVE, "spec.json")
    assert finding.code == codes.DEEP_FAILED and "RecursionError" in finding.message
