"""A tool's description when the spec gives neither summary nor description: written from the method, the
path and the arguments, deterministic and plain (`GET /flows/{id}: read a flow by id.`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from specbridge.ir import Argument
from specbridge.naming import snake_case

# What each method does to the resource a path names (RFC 9110's meanings, in a model's words).
_ON_ITEM = {"GET": "read", "PUT": "replace", "PATCH": "update", "DELETE": "delete", "HEAD": "check",
            "OPTIONS": "list the options of", "TRACE": "trace", "POST": "act on"}
_ON_COLLECTION = {"GET": "list", "PUT": "replace", "PATCH": "update", "DELETE": "delete", "HEAD": "check",
                  "OPTIONS": "list the options of", "TRACE": "trace", "POST": "create"}
_LIST_MAX = 8
_VARIABLE = re.compile(r"{([^{}]*)}")
_EXTENSION = re.compile(r"\.(json|xml|yaml|csv|txt)$", re.IGNORECASE)


def synthesized_title(method: str, path: str) -> str:
    """`Read a flow by id`: what the operation does, for a title."""
    phrase = _phrase(method, path)
    return phrase[:1].upper() + phrase[1:]


def synthesized_description(method: str, path: str, arguments: Sequence[Argument]) -> str:
    """`GET /flows/{id}: read a flow by id. Arguments: id (required), fields.`"""
    text = f"{method} {path}: {_phrase(method, path)}."
    if arguments:
        listed = [f"{argument.name} (required)" if argument.required else argument.name
                  for argument in arguments[:_LIST_MAX]]
        more = f" and {len(arguments) - _LIST_MAX} more" if len(arguments) > _LIST_MAX else ""
        text += f" Arguments: {', '.join(listed)}{more}."
    return text


def _phrase(method: str, path: str) -> str:
    segments = [segment for segment in path.split("/") if segment]
    literals = [index for index, segment in enumerate(segments) if "{" not in segment]
    if not literals:
        return f"{_ON_COLLECTION.get(method, method.lower())} the root resource" if not segments else (
            f"{_ON_ITEM.get(method, method.lower())} an item by {_words(segments[-1].strip('{}'))}")
    resource = _words(segments[literals[-1]])
    if "{" in segments[-1]:  # `/flows/{id}`, `/Addresses/{Sid}.json`: one item
        key = _words(_VARIABLE.search(segments[-1]).group(1))  # type: ignore[union-attr]
        return f"{_ON_ITEM.get(method, method.lower())} {_a(_singular(resource))} by {key}"
    owner = literals[-2] if len(literals) > 1 and literals[-2] < literals[-1] - 1 else None
    owner_words = _a(_singular(_words(segments[owner]))) if owner is not None else ""
    of = f" of {owner_words}" if owner_words else ""
    if _plural(resource):
        if method == "POST":
            return f"create {_a(_singular(resource))}" + (f" for {owner_words}" if owner_words else "")
        return f"{_ON_COLLECTION.get(method, method.lower())} the {resource}{of}" if of else (
            f"{_ON_COLLECTION.get(method, method.lower())} {resource}")
    if method == "POST":  # `/flows/{id}/run`: an action
        return f"{resource} {owner_words}" if owner_words else f"call {resource}"
    verb = _ON_ITEM.get(method, method.lower())
    return f"{verb} the {resource}{of}" if of else f"{verb} {resource}"


def _words(segment: str) -> str:
    """A path segment's words, without a file extension (`Addresses.json` -> `addresses`)."""
    return snake_case(_EXTENSION.sub("", segment)).replace("_", " ") or segment


def _a(noun: str) -> str:
    return f"{'an' if noun[:1] in 'aeio' else 'a'} {noun}"


def _plural(words: str) -> bool:
    last = words.rsplit(" ", 1)[-1]
    return len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is"))


def _singular(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith(("sses", "xes", "ches", "shes")):
        last = last[:-2]
    elif _plural(last):
        last = last[:-1]
    return f"{head} {last}" if head else last
