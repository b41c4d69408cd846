"""The `specbridge` command as a user and CI run it: exit codes, what is printed where, what is written
(and what never is), --check drift detection, the project file, and no traceback on any input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from specbridge import cli, codes
from specbridge.commands import gen

PETS: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1.0.0"},
    "servers": [{"url": "https://pets.example.com/v1"}],
    "paths": {
        "/pets": {
            "get": {"operationId": "listPets", "tags": ["pets"],
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {
                        "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}}}},
            "post": {"operationId": "addPet", "tags": ["pets"],
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/Pet"}}}},
                     "responses": {"201": {"description": "created"}}},
        },
        "/owners/{id}": {
            "delete": {"operationId": "deleteOwner", "tags": ["owners"],
                       "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                       "responses": {"204": {"description": "gone"}}},
        },
    },
    "components": {"schemas": {"Pet": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "tag": {"type": "string"}}}}},
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "pets.json").write_text(json.dumps(PETS))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*argv: str) -> int:
    return cli.main(list(argv))


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_gen_writes_the_package_and_reports_on_stderr(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("gen", "specs/pets.json", "--name", "pets") == 0
    out, err = capsys.readouterr()
    assert out.strip() == "generated/pets: 3 tools"
    assert err.splitlines()[-1] == "specbridge gen: 1 package written, 3 tools; 0 errors, 0 warnings"
    written = files_of(project / "generated" / "pets")
    assert "src/pets_mcp/tools.json" in written and "specbridge.lock" in written
    lock = json.loads(written["specbridge.lock"])
    assert list(lock["sources"]) == ["../../specs/pets.json"]


def test_generating_twice_gives_identical_bytes(project: Path) -> None:
    assert run("gen", "specs/pets.json", "--name", "pets", "-o", "one") == 0
    first = files_of(project / "one")
    assert run("gen", "specs/pets.json", "--name", "pets", "-o", "one") == 0
    assert run("gen", "specs/pets.json", "--name", "pets", "-o", "two") == 0
    assert files_of(project / "one") == first == files_of(project / "two")


def test_check_finds_drift_and_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("gen", "specs/pets.json", "--name", "pets") == 0
    assert run("gen", "specs/pets.json", "--name", "pets", "--check") == 0
    readme = project / "generated" / "pets" / "README.md"
    readme.write_text("edited\n")
    capsys.readouterr()
    assert run("gen", "specs/pets.json", "--name", "pets", "--check") == 1
    out, err = capsys.readouterr()
    assert "generated/pets/README.md differs" in out
    assert "1 file differ" in err
    assert readme.read_text() == "edited\n"
    assert run("gen", "specs/pets.json", "--name", "pets", "--check", "-o", "elsewhere") == 1
    assert not (project / "elsewhere").exists()


def test_a_folder_that_is_not_ours_fails_without_being_touched(project: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    (project / "mine").mkdir()
    (project / "mine" / "data.txt").write_text("keep")
    assert run("gen", "specs/pets.json", "-o", "mine") == 1
    err = capsys.readouterr().err
    assert f"error[{codes.OUT_NOT_OURS}]" in err
    assert "0 packages written, 0 tools; 1 error" in err  # the summary counts the error it printed
    assert files_of(project / "mine") == {"data.txt": b"keep"}


def test_split_by_tag_writes_one_package_per_tag(project: Path) -> None:
    assert run("gen", "specs/pets.json", "--name", "pets", "--split-by", "tag", "-o", "out") == 0
    assert sorted(p.name for p in (project / "out").iterdir()) == ["pets_owners", "pets_pets"]
    assert run("gen", "specs/pets.json", "--name", "pets", "--split-by", "tag") == 0
    assert (project / "generated" / "pets" / "pets_owners" / "specbridge.lock").exists()


def test_strict_fails_on_warnings_and_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = json.loads(json.dumps(PETS))
    spec["components"]["schemas"]["Pet"]["properties"]["tag"]["pattern"] = "(?<=x)y"  # Rust regex refuses
    (project / "specs" / "warned.json").write_text(json.dumps(spec))
    assert run("gen", "specs/warned.json", "--name", "pets", "--strict") == 1
    err = capsys.readouterr().err
    assert f"warning[{codes.PATTERN_DROPPED}]" in err and f"error[{codes.STRICT_WARNINGS}]" in err
    assert not (project / "generated").exists()
    assert run("gen", "specs/warned.json", "--name", "pets") == 0


def test_input_that_is_no_spec_fails_with_a_diagnostic(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "other.yaml").write_text("hello: world\n")
    assert run("gen", "other.yaml") == 1
    assert f"error[{codes.SOURCE_UNKNOWN}] other.yaml#" in capsys.readouterr().err
    (project / "broken.json").write_text("{not json")
    assert run("gen", "broken.json") == 1
    assert run("gen", "missing.json") == 1
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["gen", "--bogus"], ["gen", "--name", "x"], ["gen", "a", "--max-operations", "0"],
                                  ["inspect"], []])
def test_usage_errors_exit_2(project: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*argv) == 2
    assert capsys.readouterr().err


def test_an_internal_error_is_one_line_and_exit_3(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(gen, "generate", broken)
    monkeypatch.delenv("SPECBRIDGE_DEBUG", raising=False)
    assert run("gen", "specs/pets.json") == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" in err and "report" in err and "Traceback" not in err
    monkeypatch.setenv("SPECBRIDGE_DEBUG", "1")
    assert run("gen", "specs/pets.json") == 3
    assert "Traceback" in capsys.readouterr().err


def test_the_project_file_generates_and_checks_every_connector(project: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    (project / "specbridge.yaml").write_text(
        "connectors:\n  - source: specs/pets.json\n    name: pets\n  - source: specs/pets.json\n"
        "    name: zoo\n    out: elsewhere/zoo\n    include: ['listPets']\n")
    assert run("gen") == 0
    assert (project / "generated" / "pets" / "specbridge.lock").exists()
    assert json.loads((project / "elsewhere" / "zoo" / "src" / "zoo_mcp" / "tools.json").read_text())[0]["name"] \
        == "zoo_list_pets"
    assert run("gen", "--check") == 0
    (project / "elsewhere" / "zoo" / "src" / "zoo_mcp" / "tools.py").write_text("# drift\n")
    capsys.readouterr()
    assert run("gen", "--check") == 1
    assert capsys.readouterr().out.strip() == "elsewhere/zoo/src/zoo_mcp/tools.py differs from what specbridge gen " \
                                              "would write"


def test_without_a_project_file_gen_says_what_is_missing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("gen") == 1
    assert "no SOURCE given and no specbridge.yaml" in capsys.readouterr().err
    assert run("gen", "--check") == 1
    err = capsys.readouterr().err
    assert "no SOURCE given and no specbridge.yaml" in err
    assert "nothing checked, no package could be generated; 1 error" in err and "up to date" not in err


def test_inspect_shows_tools_and_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("inspect", "specs/pets.json", "--name", "pets") == 0
    out = capsys.readouterr().out
    assert "pets: 3 tools" in out
    assert "pets_delete_owner" in out and "DELETE" in out and "destructive" in out
    assert run("inspect", "specs/pets.json", "--name", "pets", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    tools = report["connectors"][0]["tools"]
    assert [tool["name"] for tool in tools] == ["pets_list_pets", "pets_add_pet", "pets_delete_owner"]
    assert tools[0]["annotations"]["readOnlyHint"] is True
    assert isinstance(report["diagnostics"], list)
    assert sorted(p.name for p in project.iterdir()) == ["specs"]
    assert run("inspect", "missing.json") == 1


def test_the_console_script_runs(project: Path) -> None:
    script = Path(sys.executable).parent / "specbridge"
    completed = subprocess.run([str(script), "gen", "specs/pets.json", "--check"], cwd=project, capture_output=True,
                               text=True, timeout=120, check=False)
    assert completed.returncode == 1
    assert "generated/pets/README.md differs" in completed.stdout
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize("name", ["../../evil", "/etc/evil", "class", "日本語", "x\"); import os #", ""])
def test_hostile_names_stay_inside_out_and_make_identifiers(project: Path, name: str) -> None:
    assert run("gen", "specs/pets.json", "--name", name, "-o", "out/pkg") == 0
    everything = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
    assert all(path.startswith(("out/pkg/", "specs/")) for path in everything)
    (package,) = (project / "out" / "pkg" / "src").iterdir()
    assert package.name.isidentifier() and package.name.isascii() and package.name.endswith("_mcp")


def test_a_usage_error_shows_the_help_of_the_subcommand_it_was_made_in(project: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run("gen", "--bogus") == 2
    err = capsys.readouterr().err
    assert "Usage: specbridge gen [OPTIONS] [SOURCE]" in err and "No such option '--bogus'" in err
    assert "--registry-namespace NAMESPACE" in err and "Usage: specbridge [OPTIONS] COMMAND" not in err
    assert run("registry", "search") == 2
    assert "Usage: specbridge registry search [OPTIONS] TEXT" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--version"], ["gen", "--version"], ["registry", "show", "--version"],
                                  ["bundle", "--version"]])
def test_every_command_says_its_version(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from specbridge import __version__

    assert run(*argv) == 0
    assert capsys.readouterr().out == f"specbridge {__version__}\n"


def test_the_completion_script_completes_subcommands_and_options() -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "specbridge"), "completion", "bash"],
                          capture_output=True, text=True, check=True, timeout=60)
    assert "_SPECBRIDGE_COMPLETE=bash_complete" in done.stdout and "complete " in done.stdout
    # What the script asks the command for when the user presses tab after `specbridge g`:
    env = {**os.environ, "_SPECBRIDGE_COMPLETE": "bash_complete", "COMP_WORDS": "specbridge g", "COMP_CWORD": "1"}
    completed = subprocess.run([str(Path(sys.executable).parent / "specbridge")], env=env, capture_output=True,
                               text=True, check=False, timeout=60)
    assert set(completed.stdout.split()) >= {"plain,gen", "plain,gateway"}
    env.update(COMP_WORDS="specbridge gen --reg", COMP_CWORD="2")
    completed = subprocess.run([str(Path(sys.executable).parent / "specbridge")], env=env, capture_output=True,
                               text=True, check=False, timeout=60)
    assert "plain,--registry-namespace" in completed.stdout.split()
def test_inspect_shows_the_auth_each_tool_sends(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {**PETS, "security": [], "components": {**PETS["components"], "securitySchemes": {
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"}}}}
    spec["paths"] = {**PETS["paths"], "/owners/{id}": {"delete": {
        **PETS["paths"]["/owners/{id}"]["delete"], "security": [{"key": []}, {}]}}}
    (project / "specs" / "pets.json").write_text(json.dumps(spec))
    (project / "specs" / "shop.json").write_text(json.dumps({
        "type": "rest", "name": "pets", "openapi": "pets.json",
        "auth": {"type": "basic", "username": "admin", "password": "vault:password"},
        "operations": [{"name": "listPets", "auth": "none"}]}))
    assert run("inspect", "specs/shop.json") == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert lines["pets_list_pets"].endswith("auth: none")
    assert lines["pets_add_pet"].endswith("auth: basic")
    assert lines["pets_delete_owner"].endswith("auth: key+basic | none")
    assert run("inspect", "specs/shop.json", "--json") == 0
    tools = json.loads(capsys.readouterr().out)["connectors"][0]["tools"]
    assert [tool["auth"] for tool in tools] == [[], [["basic"]], [["key", "basic"], []]]


def test_inspect_json_into_a_closed_pipe_is_not_an_internal_error(project: Path) -> None:
    script = Path(sys.executable).parent / "specbridge"
    big = {**PETS, "paths": {f"/p{index}": PETS["paths"]["/pets"] for index in range(400)}}
    (project / "specs" / "big.json").write_text(json.dumps(big))
    # `head -c 1` as a process that reads one byte and leaves: the rest of the output meets a closed pipe.
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert reader.stdin is not None
    completed = subprocess.run([str(script), "inspect", "specs/big.json", "--json", "--max-operations", "900"],
                               cwd=project, stdout=reader.stdin, stderr=subprocess.PIPE, text=True, timeout=120,
                               check=False)
    reader.stdin.close()
    reader.wait(timeout=30)
    assert "internal error" not in completed.stderr and "Traceback" not in completed.stderr, completed.stderr
    assert completed.returncode == 1


def test_split_by_tag_writes_the_packages_that_fit(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {**PETS, "paths": {**PETS["paths"], **{f"/pets/{index}": {"get": {
        "operationId": f"pet{index}", "tags": ["pets"], "responses": {"200": {"description": "ok"}}}}
        for index in range(3)}}}
    (project / "specs" / "pets.json").write_text(json.dumps(spec))
    assert run("gen", "specs/pets.json", "--name", "pets", "--split-by", "tag", "--max-operations", "2") == 0
    err = capsys.readouterr().err
    assert sorted(p.name for p in (project / "generated" / "pets").iterdir()) == [
        "pets_owners", "pets_pets", "pets_pets_0_1", "pets_pets_2"]
    assert "3 packages written" not in err and "4 packages written" in err
