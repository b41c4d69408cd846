"""The runtime's shape: no import cycle anywhere in it (import-linter's contracts in `.importlinter` check the
layers; a cycle inside one layer would pass them), and no hand-written module over ~500 lines."""

from __future__ import annotations

import grimp

from tests.support import REPO

MAX_LINES = 520


def _cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), i.e. import cycles."""
    modules = sorted(module for module in graph.modules if module.startswith(package))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if not imported.startswith(package):
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_the_runtime_has_no_import_cycle() -> None:
    graph = grimp.build_graph("specbridge_runtime")
    assert _cycles(graph, "specbridge_runtime.") == []



def test_no_hand_written_module_is_over_the_size_limit() -> None:
    sources = [*(REPO / "runtime" / "specbridge_runtime").rglob("*.py"),
               *(REPO / "generator" / "specbridge").rglob("*.py")]
    too_long = {str(path.relative_to(REPO)): lines for path in sources
                if (lines := len(path.read_text().splitlines())) > MAX_LINES}
    assert too_long == {}
