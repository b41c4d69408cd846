"""The ranking behind `<name>_search_operations`: text becomes the same terms on both sides, the query's verb
picks the HTTP method and the path's shape, results are deterministic and survive the JSON the package
ships them in."""

from __future__ import annotations

import json

import pytest
from specbridge_runtime._mechanisms.search import stem, strip_markup, terms
from specbridge_runtime.contract import OperationText, SearchIndex, build_index

PETS = [
    OperationText("pets_list", "listPets", "GET", "/pets", "List pets", "Every pet in the store."),
    OperationText("pets_create", "createPet", "POST", "/pets", "Create a pet", "Adds a pet to the store."),
    OperationText("pets_get", "getPet", "GET", "/pets/{petId}", "Get a pet", "One pet by its id."),
    OperationText("pets_update", "updatePet", "PATCH", "/pets/{petId}", "Update a pet", "Changes a pet's fields."),
    OperationText("pets_delete", "deletePet", "DELETE", "/pets/{petId}", "Delete a pet", "Removes a pet for good."),
    OperationText("owners_list", "listOwners", "GET", "/owners", "List owners", "Every owner of a pet."),
    OperationText("me", "getAuthenticatedUser", "GET", "/user", "Get the authenticated user", "Who you are."),
    OperationText("legacy_pets", "listPetsLegacy", "GET", "/v0/pets", "List pets", "Old.", deprecated=True),
]


def index(operations: list[OperationText] = PETS) -> SearchIndex:
    return SearchIndex(json.loads(json.dumps(build_index(operations))))  # as the package ships it


def first(query: str) -> str:
    return index().search(query, 1)[0].name


def test_terms_strip_markup_split_names_expand_abbreviations_and_stem_plurals() -> None:
    assert terms(strip_markup('<p>Returns a <a href="/docs">list</a> of Charges &amp; more</p>')) == [
        "return", "list", "charge", "more"]
    assert terms("GetChargesChargeRefunds") == ["get", "charge", "charge", "refund"]
    assert terms("pulls/list-for-repo") == ["pull", "list", "repository"]
    assert terms("my open PRs") == ["open", "pull", "request"]
    assert [stem(word) for word in ("policies", "boxes", "status", "class", "pets", "gas")] == [
        "policy", "box", "status", "class", "pet", "gas"]


@pytest.mark.parametrize(("query", "expected"), [
    ("list pets", "pets_list"),
    ("show all pets", "pets_list"),
    ("get a pet", "pets_get"),
    ("add a pet", "pets_create"),
    ("make a new pet", "pets_create"),
    ("remove a pet", "pets_delete"),
    ("change a pet's name", "pets_update"),
    ("list the owners", "owners_list"),
    ("show my profile", "me"),
])
def test_the_verb_chooses_the_method_and_the_path_shape(query: str, expected: str) -> None:
    assert first(query) == expected


def test_a_deprecated_twin_ranks_below_the_current_operation() -> None:
    names = [hit.name for hit in index().search("list pets", 10)]
    assert names.index("pets_list") < names.index("legacy_pets")


def test_ties_keep_document_order_and_results_are_deterministic() -> None:
    twins = [OperationText(f"twin_{n}", f"listThings{n}", "GET", f"/things{n}", "List things") for n in range(3)]
    assert [hit.name for hit in index(twins).search("list things", 3)] == ["twin_0", "twin_1", "twin_2"]
    assert index().search("create a pet", 5) == index().search("create a pet", 5)


def test_a_smaller_limit_is_a_prefix_of_a_larger_one() -> None:
    ranked = index().search("pet", 100)
    for limit in (1, 2, 3, 5):
        assert index().search("pet", limit) == ranked[:limit]


def test_no_match_and_words_only_stop_words_give_nothing() -> None:
    assert index().search("quantum entanglement", 5) == []
    assert index().search("the of a", 5) == []


def test_an_index_of_another_format_is_refused() -> None:
    data = build_index(PETS)
    with pytest.raises(ValueError, match="format"):
        SearchIndex({**data, "format": 99})
