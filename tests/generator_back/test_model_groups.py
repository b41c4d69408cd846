"""The `models` package of a REST connector: each tool's own classes in a module of its own, classes several
tools use in modules those tools share, and importing one tool's input class loads only the modules it needs,
while every class stays a public name of `models`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

from specbridge.models import emit_models
from specbridge.pipeline import rest_packages

from tests.generator_back.conftest import arg, make_connector, make_tool
from tests.generator_back.test_models import HOSTILE_TEXT

ADDRESS = {"type": "object", "properties": {"city": {"type": "string"}}}
NODE = {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}
COMPONENTS: dict[str, Any] = {"Address": ADDRESS, "Node": NODE}


def shop() -> Any:
    """Three tools: `ship` and `bill` share `Address`; `ship` and `tree` share the recursive `Node`; `ship` has
    an inline object of its own; `ping` uses no class but its input."""
    ship = make_tool("ship", arg("to", {"$ref": "#/components/schemas/Address"}),
                     arg("parcel", {"type": "object", "properties": {"kg": {"type": "number"}}}),
                     arg("node", {"$ref": "#/components/schemas/Node"}))
    bill = make_tool("bill", arg("to", {"$ref": "#/components/schemas/Address"}))
    tree = make_tool("tree", arg("root", {"$ref": "#/components/schemas/Node"}))
    ping = make_tool("ping", arg("n", {"type": "integer"}))
    return make_connector(ship, bill, tree, ping, components=COMPONENTS)


def classes_of(source: str) -> list[str]:
    return [node.name for node in ast.parse(source).body if isinstance(node, ast.ClassDef)]


def relative_imports(source: str) -> dict[str, list[str]]:
    return {str(node.module): [alias.name for alias in node.names] for node in ast.parse(source).body
            if isinstance(node, ast.ImportFrom) and node.level == 1}


def test_a_tools_own_classes_share_its_module_and_shared_classes_have_their_own() -> None:
    emitted = emit_models(shop())
    modules = {module: classes_of(source) for module, source in emitted.modules.items()}
    assert modules == {
        "_ship_input": ["ShipParcel", "ShipInput"], "_address": ["Address"], "_node": ["Node"],
        "_bill_input": ["BillInput"], "_tree_input": ["TreeInput"], "_ping_input": ["PingInput"],
    }
    assert relative_imports(emitted.modules["_ship_input"]) == {"_address": ["Address"], "_node": ["Node"]}
    assert relative_imports(emitted.modules["_bill_input"]) == {"_address": ["Address"]}
    assert relative_imports(emitted.modules["_node"]) == {}  # its recursion stays inside the module
    assert emitted.exports == {name: module for module, names in modules.items() for name in names}


def test_module_names_are_private_identifiers_even_for_hostile_names() -> None:
    connector = make_connector(make_tool("do", arg("x", {"$ref": f"#/components/schemas/{HOSTILE_TEXT}"}),
                                         arg("y", {"$ref": f"#/components/schemas/{HOSTILE_TEXT}2"})),
                               make_tool("again", arg("x", {"$ref": f"#/components/schemas/{HOSTILE_TEXT}"})),
                               components={HOSTILE_TEXT: ADDRESS, f"{HOSTILE_TEXT}2": ADDRESS})
    modules = emit_models(connector).modules
    assert len(modules) == 3
    for module in modules:
        assert module.startswith("_") and not module.startswith("__") and module.isidentifier(), module


def test_grouping_twice_gives_the_same_modules() -> None:
    assert emit_models(shop()).modules == emit_models(shop()).modules


def _written(tmp_path: Path) -> Path:
    packages, diagnostics = rest_packages([shop()], [tmp_path / "demo"], (("specs/demo.json", "0" * 64),), tmp_path)
    assert not [d for d in diagnostics if d.level.value == "error"]
    for name, text in packages[0].files.items():
        path = tmp_path / "demo" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path / "demo" / "src"


def _run(src: Path, code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


LOADED = "sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('demo_mcp.models.'))"


def test_the_first_call_of_a_tool_imports_only_the_modules_of_its_classes(tmp_path: Path) -> None:
    src = _written(tmp_path)
    code = ("import sys\nfrom demo_mcp.connector import PACKAGE\n"
            f"print({LOADED})\n"
            "model = PACKAGE.input_model(PACKAGE.operation('demo_bill'))\n"
            f"print(model.__name__, {LOADED})\n"
            "print(model.model_validate({'to': {'city': 'Oslo'}}).to.city)\n"
            "PACKAGE.input_model(PACKAGE.operation('demo_ship'))\n"
            f"print({LOADED})")
    assert _run(src, code).splitlines() == [
        "[]", "BillInput ['_address', '_bill_input']", "Oslo", "['_address', '_bill_input', '_node', '_ship_input']"]


def test_every_class_is_a_public_name_of_models(tmp_path: Path) -> None:
    src = _written(tmp_path)
    code = ("import sys\nimport demo_mcp.models as models\nfrom demo_mcp.models import Address, ShipInput\n"
            "print(type(ShipInput.model_validate({'to': {'city': 'Oslo'}}).to) is Address)\n"
            "print(sorted(name for name in dir(models) if name[0].isupper() and name != 'TYPE_CHECKING'))\n"
            "try:\n    models.Nothing\nexcept AttributeError as error:\n    print(error)")
    assert _run(src, code).splitlines() == [
        "True", "['Address', 'BillInput', 'Node', 'PingInput', 'ShipInput', 'ShipParcel', 'TreeInput']",
        "module 'demo_mcp.models' has no attribute 'Nothing'"]
