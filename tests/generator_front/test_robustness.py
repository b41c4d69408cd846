"""Untrusted specs never crash the front: 400 seeded random corruptions of real specs (bounded, ~2 s) go
through validate and normalize and come out as diagnostics, never as exceptions."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import pytest
from specbridge.load import load_document
from specbridge.normalize import normalize_rest
from specbridge.options import GenOptions
from specbridge.validate import validate_openapi

from tests.support import REPO, SHARED_SPECS

SPECS = [(SHARED_SPECS, "petstore3-swagger-api.yaml"), (SHARED_SPECS, "oai-v2.0-uber.json"),
         (SHARED_SPECS, "readme-oas-examples-3.1-json-security.json"), (REPO / "specs", "notes-openapi-3.1.yaml"),
         (REPO / "specs", "inventory-swagger-2.0.json")]
ODD_VALUES: list[Any] = [
    None, 0, -1, 1.5, True, "", "x", "#/nope", "/", "{a}", "\x00", [], {}, [None], {"a": None},
    {"$ref": "#"}, {"$ref": 3}, {"$ref": "#/paths"}, {"$ref": "#/components/schemas/Nope"}, {"type": ["file", 3]},
    {"type": {}}, {"properties": []}, {"items": 3}, {"enum": {}}, {"in": {}, "name": {}}, {"required": [{}]},
    {"allOf": [3]}, {"content": {"application/json": 3}}, {"flows": {"implicit": 3}}, {"style": []},
    {"explode": "yes"}, {"pattern": "("}, {"patternProperties": {"(": {}}}, {"type": "apiKey", "in": []},
]
MUTATIONS = 400


def paths_of(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in children:
        yield from paths_of(value, (*path, key))


def corrupted(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    places = list(paths_of(copied))[1:]
    for _ in range(rng.randint(1, 4)):
        *parents, last = rng.choice(places)
        node: Any = copied
        try:
            for part in parents:
                node = node[part]
            node[last] = copy.deepcopy(rng.choice(ODD_VALUES))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced a parent
    return copied


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    # the corpus specs join the project's own when ../shared is there (the run's header says whether it is)
    loaded = [load_document(name, cwd=folder).document for folder, name in SPECS if (folder / name).exists()]
    assert all(document is not None for document in loaded)
    return [document for document in loaded if document is not None]


def test_corrupted_specs_give_diagnostics_not_exceptions(documents: list[dict[str, Any]]) -> None:
    rng = random.Random(20260521)
    produced = 0
    for _ in range(MUTATIONS):
        document = corrupted(rng.choice(documents), rng)
        validate_openapi(document, "spec.json")
        options = GenOptions(name="fuzz", split_by=rng.choice([None, "tag"]))
        result = normalize_rest(None, document, "spec.json", options)
        produced += bool(result.connectors)
    assert produced > MUTATIONS // 2  # most corruptions leave something to generate
