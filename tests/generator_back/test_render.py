"""Rendered packages: spec text anywhere (titles, descriptions, paths, names, auth) reaches the files only
escaped; each Python file holds exactly the statements the layout says; formatting is deterministic."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import tomllib
from pathlib import Path

import pytest
from specbridge.escape import Markdown
from specbridge.format import FormatError, format_python
from specbridge.ir import RestConnector
from specbridge.pipeline import rest_packages
from specbridge.render import package_version, render_template
from specbridge.write import LOCK
from specbridge_runtime import AuthScheme, Body, Param
from specbridge_runtime import __version__ as runtime_version
from specbridge_runtime.contract import runtime_requirement

from tests.generator_back.conftest import arg, make_connector, make_tool

EVIL = '"""\'\'\'"); import os; os.system("x")#\n\x00\u2028{{ config }}{% raw %}\\ <script>|`'


def hostile_connector(name: str = "demo") -> RestConnector:
    get = make_tool("get_thing", arg(EVIL, {"type": "string", "description": EVIL}, required=True, source="path"),
                    method="GET", path=f"/things/{{{EVIL}}}", description=EVIL, connector=name,
                    params=(Param(arg=EVIL, name=EVIL, location="path"),),
                    output_schema={"type": "object", "properties": {EVIL: {"description": EVIL}}})
    post = make_tool("make_thing", arg("body", {"type": "object", "properties": {EVIL: {"type": "string"}}}),
                     path="/things", description=EVIL, connector=name, body=Body(media_type=EVIL, arg="body"))
    return make_connector(get, post, name=name, title=EVIL, description=EVIL,
                          auth=(AuthScheme(name=EVIL, type="bearer", secrets=(("token", f"vault:{EVIL}"),)),),
                          headers=((EVIL, EVIL),))


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    packages, diagnostics = rest_packages([hostile_connector()], [Path("/tmp/out/demo")],
                                          (("specs/demo.json", "0" * 64),), Path("/tmp"))
    assert not [d for d in diagnostics if d.level.value == "error"]
    return packages[0].files


def top_level(source: str) -> list[str]:
    """Each top-level statement as a short description."""
    described = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom):
            described.append(f"from {'.' * node.level}{node.module} import {','.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Import):
            described.append(f"import {','.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            described.append("assign " + ",".join(t.id for t in targets if isinstance(t, ast.Name)))
        elif isinstance(node, ast.FunctionDef):
            described.append(f"def {node.name}")
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            described.append("docstring")
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name):
            described.append(f"call {node.value.func.id}")
        else:
            described.append(type(node).__name__)
    return described


def called_names(source: str) -> set[str]:
    return {node.func.id for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}


def test_the_package_has_the_agreed_layout(files: dict[str, str]) -> None:
    assert sorted(files) == [
        "README.md", "pyproject.toml", "server.json", LOCK, "src/demo_mcp/__init__.py", "src/demo_mcp/__main__.py",
        "src/demo_mcp/connector.py", "src/demo_mcp/models/__init__.py", "src/demo_mcp/models/_get_thing_input.py",
        "src/demo_mcp/models/_make_thing_input.py", "src/demo_mcp/py.typed", "src/demo_mcp/tools.json",
        "src/demo_mcp/tools.py", "tests/test_contract.py",
    ]


def test_python_files_hold_only_the_layouts_statements(files: dict[str, str]) -> None:
    assert top_level(files["src/demo_mcp/__init__.py"]) == [
        "docstring", "from specbridge_runtime import require_runtime", "call require_runtime"]
    assert top_level(files["src/demo_mcp/__main__.py"]) == ["from .connector import main", "call main"]
    assert top_level(files["src/demo_mcp/connector.py"]) == [
        "docstring", "from specbridge_runtime import AuthScheme,ConnectorSpec,RestPackage,run_cli",
        "from .tools import OPERATIONS", "assign CONNECTOR", "assign PACKAGE", "def main"]
    assert top_level(files["src/demo_mcp/tools.py"]) == [
        "docstring", "from specbridge_runtime import Body,Operation,Param", "assign OPERATIONS"]
    assert top_level(files["src/demo_mcp/models/__init__.py"]) == [
        "docstring", "from typing import TYPE_CHECKING", "If"]
    assert called_names(files["src/demo_mcp/connector.py"]) == {"ConnectorSpec", "AuthScheme", "RestPackage", "run_cli"}
    assert called_names(files["src/demo_mcp/tools.py"]) == {"Operation", "Param", "Body"}


def test_spec_text_survives_as_data(files: dict[str, str]) -> None:
    namespace: dict[str, object] = {}
    tools_source = files["src/demo_mcp/tools.py"]
    exec(compile(tools_source, "tools.py", "exec"), namespace)
    operations = namespace["OPERATIONS"]
    assert isinstance(operations, tuple)
    assert operations[0].path == f"/things/{{{EVIL}}}"
    assert operations[0].params[0].name == EVIL
    assert operations[1].body.media_type == EVIL
    tools = json.loads(files["src/demo_mcp/tools.json"])
    assert tools[0]["description"] == EVIL
    assert EVIL in tools[0]["inputSchema"]["properties"]
    assert tools[0]["outputSchema"] == {"type": "object", "properties": {EVIL: {"description": EVIL}}}


def test_pyproject_is_valid_toml_with_the_agreed_entries(files: dict[str, str]) -> None:
    project = tomllib.loads(files["pyproject.toml"])["project"]
    assert project["name"] == "demo-mcp"
    assert project["scripts"] == {"demo-mcp": "demo_mcp.connector:main"}
    assert project["entry-points"]["specbridge.connectors"] == {"demo": "demo_mcp.connector:PACKAGE"}
    assert project["dependencies"] == [runtime_requirement(runtime_version), "pydantic>=2.12,<3"]
    assert "\n" not in project["description"]


def test_readme_keeps_spec_markdown_but_no_html_and_no_split_cell(files: dict[str, str]) -> None:
    readme = files["README.md"]
    outside_code = re.sub(r"(`+).*?\1", "", readme)
    assert "\\<script>" in outside_code and not re.search(r"(?<!\\)<script", outside_code)
    title = readme.splitlines()[0]
    assert title.startswith("# ") and "\\`" in title and "\\|" in title
    table = [line for line in readme.splitlines() if line.startswith("| `demo_")]
    assert len(table) == 2
    assert all(line.count("|") - line.count("\\|") == 6 for line in table)  # no cell was split
    assert "demo-mcp creds set" in readme and "DEMO_BASE_URL" in readme


def test_the_contract_test_calls_a_tool_with_arguments_its_model_accepts(files: dict[str, str]) -> None:
    test = files["tests/test_contract.py"]
    assert "def test_a_call_reaches_the_api" in test
    assert "MockUpstream" in test


def test_templates_refuse_unescaped_values() -> None:
    with pytest.raises(TypeError, match="not escaped"):
        render_template("rest/__main__.py.jinja", {"oops": "plain text"})
    with pytest.raises(TypeError, match="not escaped"):
        render_template("rest/__main__.py.jinja", {"oops": [Markdown("fine"), "plain"]})


def test_a_connector_name_that_is_not_snake_case_is_a_bug_not_a_package() -> None:
    with pytest.raises(ValueError, match="snake_case"):
        rest_packages([hostile_connector(name="../evil")], [Path("/tmp/x")], (), Path("/tmp"))


@pytest.mark.parametrize(("api", "package"), [("1.0.0", "1.0.0"), ("2023-08-16", "2023.8.16"), ("v3", "3"),
                                              ("beta", "0.1.0"), ("1.2.3-rc.1", "1.2.3")])
def test_package_versions_follow_the_api_version(api: str, package: str) -> None:
    assert package_version(api) == package


def test_generated_source_that_does_not_parse_is_a_bug_not_output() -> None:
    with pytest.raises(FormatError):
        format_python({"broken.py": "def (:\n"})


def test_formatting_is_one_batch_and_deterministic() -> None:
    sources = {"a/src/x_mcp/m.py": "import sys\nimport os\nfrom x_mcp import y\nz=( 1,2 )\n",
               "b/tests/t.py": "from x_mcp import y\nimport pytest\n"}
    formatted = format_python(sources, first_party=["x_mcp"])
    assert formatted == format_python(sources, first_party=["x_mcp"])
    assert formatted["a/src/x_mcp/m.py"] == "import os\nimport sys\n\nfrom x_mcp import y\n\nz = (1, 2)\n"
    assert formatted["b/tests/t.py"] == "import pytest\n\nfrom x_mcp import y\n"


def test_readme_says_an_oauth2_scheme_without_a_runnable_flow_takes_a_token_you_bring() -> None:
    connector = dataclasses.replace(make_connector(make_tool("get_thing", path="/things"), auth=(
        AuthScheme(name="petstore_auth", type="bearer", secrets=(("token", "vault:petstore_auth_token"),)),)),
        token_schemes=("petstore_auth",))
    packages, _diagnostics = rest_packages([connector], [Path("/tmp/out/demo")], (), Path("/tmp"))
    line = next(line for line in packages[0].files["README.md"].splitlines() if "petstore" in line)
    assert "OAuth2 access token you obtain from the provider yourself" in line
    assert "creds set petstore_auth_token" in line and "DEMO__PETSTORE_AUTH_TOKEN" in line
