"""A model set's classes in modules, so that a tool's first call imports only the classes its input uses:
the classes reached from exactly the same tools' inputs make one module. Most are one tool's own (its input
class and the objects nested in it: the module is named after the input class); the others are shared by
several tools (named after their first class). Every module is private (`_get_account_input`): users import
the classes from the package. Imports never go round in a circle: a class used by another is reached by every
tool reaching that one, so a module imports only from modules of classes more tools reach, and two classes
using each other (a recursive schema) are reached by the same tools, so they are in the same module."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from specbridge.escape import Identifier, to_identifier
from specbridge.normalize.model_ir import ModelClass, ModelSet, references


@dataclass(frozen=True, slots=True)
class ModelGroup:
    module: Identifier
    classes: tuple[ModelClass, ...]  # in the model set's order
    imports: Mapping[str, tuple[str, ...]]  # module -> the classes used from it, sorted


def model_groups(built: ModelSet) -> tuple[ModelGroup, ...]:
    """The modules of `built`'s classes, in the order of their first class."""
    uses: dict[str, list[str]] = {
        model.name: sorted(set().union(*(references(f.type) for f in model.fields))) for model in built.classes
    }
    tools = _reaching_tools(uses, built.input_models)
    members: dict[frozenset[str], list[ModelClass]] = {}
    for model in built.classes:
        members.setdefault(tools[model.name], []).append(model)
    inputs = set(built.input_models.values())
    used_names: set[str] = set()
    module_of: dict[str, Identifier] = {}
    for classes in members.values():
        named_after = next((model for model in classes if model.name in inputs), classes[0])
        # Private modules: which classes share one follows the spec; the public names are the package's.
        module = Identifier("_" + to_identifier(named_after.name, used=used_names, reserved=frozenset()))
        module_of.update((model.name, module) for model in classes)
    groups = []
    for classes in members.values():
        module = module_of[classes[0].name]
        imports: dict[str, set[str]] = {}
        for model in classes:
            for name in uses[model.name]:
                if name in module_of and module_of[name] != module:
                    imports.setdefault(module_of[name], set()).add(name)
        groups.append(ModelGroup(module, tuple(classes), {key: tuple(sorted(value)) for key, value in imports.items()}))
    return tuple(groups)


def _reaching_tools(uses: Mapping[str, Iterable[str]], input_models: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """Each class -> the tools whose input reaches it (iteratively: reference chains can be long)."""
    reached: dict[str, set[str]] = {name: set() for name in uses}
    for tool, root in input_models.items():
        pending = [root]
        while pending:
            name = pending.pop()
            if name in reached and tool not in reached[name]:
                reached[name].add(tool)
                pending.extend(uses[name])
    return {name: frozenset(found) for name, found in reached.items()}
