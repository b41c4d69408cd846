"""Ranking an API's operations for a task written in words: BM25F plus what API verbs mean.

Each operation is a document of six fields: its operationId (`name`), summary, path, tags, parameter names
and description (markup removed). Text becomes terms the same way on both sides: split at case changes and
punctuation, lower-cased, common API abbreviations written out (`repo` -> repository, `PR` -> pull
request), stop words dropped, plural endings removed (`policies` -> policy). The score of an operation is
BM25F (Robertson & Zaragoza: per-field length-normalised term frequencies, weighted, summed, then saturated
once per term), multiplied by two priors from the query's verb: "create", "add", "make" ... want a POST (or
PUT) on a collection; "list", "show all" a GET on a collection; "get", "retrieve" a GET on one item;
"update", "change" a PATCH, PUT or POST on an item; "delete", "remove", "cancel" a DELETE. The verb also
adds its usual words (`add` -> create, post) as weaker query terms, so "make a coupon" finds `PostCoupons`.

Everything is deterministic (ties keep document order), offline and small: the index is computed by
`specbridge gen` (`build_index`) and shipped as JSON in the package; `SearchIndex.search` only walks the
postings of the query's terms (well under a millisecond per query on GitHub's 1,223 operations).
"""

from __future__ import annotations

import heapq
import html
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

INDEX_FORMAT = 1
FIELDS = ("name", "summary", "path", "tags", "parameters", "description")
WEIGHTS = (3.0, 3.0, 1.5, 1.5, 0.5, 1.0)
LENGTH_NORMALISATION = (0.5, 0.6, 0.5, 0.3, 0.7, 0.75)  # BM25's b per field
K1 = 1.2
VERB_WEIGHT = 0.5  # a verb the task wrote: the priors below say more than its text does
EXPANSION_WEIGHT = 0.4  # a verb's usual words count this much of a word the task wrote
COVERAGE_BOOST = 0.6  # times the share of the operationId's terms the query names (a precise match)
MATCH_BOOST = 0.8  # times the share of the query's words found in the operationId or summary
RESOURCE_BOOST = 0.5  # the query names the resource: the path's last literal segment (`/user/repos` -> repository)
METHOD_BOOST = 0.35  # the operation's method is what the query's verb asks for
SHAPE_BOOST = 0.25  # and so is its path's shape (a collection, or one item)
DEPRECATED_FACTOR = 0.85
MAX_PRIOR = (1 + METHOD_BOOST) * (1 + SHAPE_BOOST) * (1 + COVERAGE_BOOST) * (1 + MATCH_BOOST) * (1 + RESOURCE_BOOST)
DESCRIPTION_CHARS = 1200  # the start of a description says what an operation does

_TAG = re.compile(r"<[^>]*>")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"https?://\S+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2})")  # "PRs", "IDs" stay whole
_WORD = re.compile(r"[a-z0-9]+")
_PATH_PARAMETER = re.compile(r"{[^}]*}$")
_PATH_PARAMETERS = re.compile(r"{[^}]*}")

STOP_WORDS = frozenset(
    ["a", "an", "the", "of", "for", "to", "in", "on", "at", "by", "with", "from", "into", "onto", "and", "or", "i",
     "we", "our", "your", "this", "that", "these", "those", "is", "are", "be", "it", "its", "as", "do", "does",
     "can", "please", "some", "any", "which", "what", "how", "all", "every", "each", "new", "existing", "someone",
     "something", "v1", "v2", "v3", "api"])
# Words that mean the caller: an API says "authenticated user", "current" or "me" for them.
SELF_WORDS = frozenset({"my", "me", "mine", "myself"})
SELF_EXPANSION = ("authenticated", "current", "me")
ABBREVIATIONS: Mapping[str, tuple[str, ...]] = {
    "repo": ("repository",), "repos": ("repository",), "pr": ("pull", "request"), "prs": ("pull", "request"),
    "org": ("organization",), "orgs": ("organization",), "config": ("configuration",), "info": ("information",),
    "env": ("environment",), "msg": ("message",), "id": ("id",), "ids": ("id",), "desc": ("description",),
}


@dataclass(frozen=True, slots=True)
class Intent:
    """What a verb asks of an operation: HTTP methods, the path's shape, and the words that say it."""

    methods: frozenset[str]
    shape: str  # "collection", "item" or "" (either)
    words: tuple[str, ...]


_CREATE = Intent(frozenset({"POST", "PUT"}), "collection", ("create", "post", "add"))
_LIST = Intent(frozenset({"GET"}), "collection", ("list", "get"))
_GET = Intent(frozenset({"GET"}), "item", ("get", "retrieve"))
_UPDATE = Intent(frozenset({"PATCH", "PUT", "POST"}), "item", ("update", "post", "set"))
_DELETE = Intent(frozenset({"DELETE"}), "item", ("delete", "remove"))
_SEARCH = Intent(frozenset({"GET"}), "", ("search", "list"))
VERBS: Mapping[str, Intent] = {
    **dict.fromkeys(("create", "add", "new", "make", "open", "register", "start", "submit", "generate", "upload",
                     "publish", "post", "insert", "issue", "write"), _CREATE),
    **dict.fromkeys(("list", "all", "browse", "enumerate", "recent", "every"), _LIST),
    **dict.fromkeys(("get", "retrieve", "fetch", "read", "view", "show", "describe", "detail", "download",
                     "check", "inspect", "see", "who", "whoami"), _GET),
    **dict.fromkeys(("update", "edit", "modify", "change", "set", "rename", "patch", "replace", "adjust",
                     "configure", "close", "reopen", "archive"), _UPDATE),
    **dict.fromkeys(("delete", "remove", "destroy", "erase", "drop", "revoke", "unregister", "discard"), _DELETE),
    **dict.fromkeys(("search", "find", "query", "lookup", "look", "filter"), _SEARCH),
}


def strip_markup(text: str) -> str:
    """Text without HTML tags, markdown link targets, URLs and entities."""
    return html.unescape(_URL.sub(" ", _MD_LINK.sub(r"\1", _TAG.sub(" ", text))))


def stem(word: str) -> str:
    """A light, deterministic plural stemmer (`charges` -> charge, `policies` -> policy, `boxes` -> box)."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    return word[:-1]


def terms(text: str) -> list[str]:
    """The index terms of `text`, in order, repeated as often as they occur."""
    found: list[str] = []
    for word in _WORD.findall(_CAMEL.sub(" ", text).lower()):
        for part in ABBREVIATIONS.get(word, (word,)):
            if len(part) > 1 and part not in STOP_WORDS and part not in SELF_WORDS:
                found.append(stem(part))
    return found


def _resource(path: str) -> str:
    """The path's last literal segment (`/repos/{owner}/{repo}/pulls/{pull_number}` -> pulls)."""
    literal = [segment for segment in path.split("/") if segment and not segment.startswith("{")]
    return literal[-1] if literal else ""


def path_shape(path: str) -> str:
    """"item" when the path ends in a parameter (`/charges/{charge}`), else "collection"."""
    return "item" if _PATH_PARAMETER.search(path.rstrip("/")) else "collection"


@dataclass(frozen=True, slots=True)
class OperationText:
    """What the index reads of one operation (the generator fills it from its IR)."""

    name: str  # the tool name the operation is called by
    operation_id: str
    method: str
    path: str
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    parameters: tuple[str, ...] = ()
    deprecated: bool = False


def build_index(operations: Sequence[OperationText]) -> dict[str, Any]:
    """The JSON-ready index of `operations` (document order is their order)."""
    postings: dict[str, list[int]] = {}
    lengths: list[list[int]] = []
    names: list[list[str]] = []
    titles: list[list[str]] = []
    resources: list[list[str]] = []
    for number, operation in enumerate(operations):
        fields = (
            terms(operation.operation_id or operation.name),
            terms(strip_markup(operation.summary)),
            terms(_PATH_PARAMETERS.sub(" ", operation.path)),  # the literal segments: parameters are not topics
            terms(" ".join(operation.tags)),
            terms(" ".join(operation.parameters)),
            terms(strip_markup(operation.description)[:DESCRIPTION_CHARS]),
        )
        lengths.append([len(field) for field in fields])
        counts: dict[str, list[int]] = {}
        for field_number, field in enumerate(fields):
            for term, count in sorted(Counter(field).items()):
                counts.setdefault(term, [number]).extend((field_number, count))
        for term, entry in sorted(counts.items()):
            postings.setdefault(term, [0])[0] += 1  # first: how many documents hold the term
            postings[term].extend((len(entry), *entry))
        names.append(sorted(set(fields[0])))
        titles.append(sorted(set(fields[0]) | set(fields[1])))
        resources.append(sorted(set(terms(_resource(operation.path)))))
    return {
        "format": INDEX_FORMAT,
        "documents": [[op.name, op.method, path_shape(op.path), int(op.deprecated), name, resource, title]
                      for op, name, resource, title in zip(operations, names, resources, titles, strict=True)],
        "lengths": lengths,
        "postings": dict(sorted(postings.items())),
    }


@dataclass(frozen=True, slots=True)
class Hit:
    document: int  # position in the index's document order
    name: str
    score: float


class SearchIndex:
    """An index built by `build_index`, ready to answer queries."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        if data.get("format") != INDEX_FORMAT:
            raise ValueError(f"search index format {data.get('format')!r} is not {INDEX_FORMAT}")
        self._documents: list[list[Any]] = list(data["documents"])
        lengths: list[list[int]] = data["lengths"]
        count = max(len(self._documents), 1)
        averages = [max(sum(row[field] for row in lengths) / count, 1.0) for field in range(len(FIELDS))]
        # Per document and field: weight / (1 - b + b * length / average), the BM25F term-frequency scale.
        self._scales = [
            [WEIGHTS[field] / (1 - LENGTH_NORMALISATION[field] + LENGTH_NORMALISATION[field] * row[field]
                               / averages[field]) for field in range(len(FIELDS))]
            for row in lengths
        ]
        self._postings: Mapping[str, list[int]] = data["postings"]
        self._name_terms = [frozenset(document[4]) for document in self._documents]
        self._resource_terms = [frozenset(document[5]) for document in self._documents]
        self._title_terms = [frozenset(document[6]) for document in self._documents]
        self._cache: dict[str, tuple[float, list[tuple[int, float]]]] = {}  # term -> idf, (document, BM25F tf)

    def __len__(self) -> int:
        return len(self._documents)

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        intent = _intent(query)
        weighted = _query_terms(query, intent)
        scores: dict[int, float] = {}
        for term, query_weight in weighted.items():
            idf, frequencies = self._term(term)
            for document, frequency in frequencies:
                scores[document] = scores.get(document, 0.0) + query_weight * idf * frequency / (K1 + frequency)
        named = frozenset(weighted)
        written = frozenset(terms(query))
        # Priors only raise a score, by at most MAX_PRIOR: once a text score times that cannot reach the
        # limit-th best final score, no later (lower) one can, and the rest is not looked at.
        best: list[tuple[float, int]] = []  # a heap of (final score, -document): the worst kept on top
        for document, score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
            if len(best) == limit and score * MAX_PRIOR < best[0][0]:
                break
            entry = (self._with_priors(document, score, intent, named, written), -document)
            if len(best) < limit:
                heapq.heappush(best, entry)
            elif entry > best[0]:
                heapq.heapreplace(best, entry)
        ranked = sorted(best, key=lambda item: (-item[0], -item[1]))
        return [Hit(-negated, self._documents[-negated][0], round(score, 6)) for score, negated in ranked]

    def _term(self, term: str) -> tuple[float, list[tuple[int, float]]]:
        """The term's idf and, per document holding it, its BM25F-scaled frequency (computed once)."""
        cached = self._cache.get(term)
        if cached is None:
            holding = self._postings.get(term, (0,))[0]
            idf = math.log(1 + (len(self._documents) - holding + 0.5) / (holding + 0.5))
            cached = self._cache[term] = (idf, list(self._frequencies(term)))
        return cached

    def _frequencies(self, term: str) -> Iterable[tuple[int, float]]:
        """(document, its BM25F-scaled frequency of `term`) for each document holding it."""
        postings = self._postings.get(term, (0,))
        position = 1
        while position < len(postings):
            size = postings[position]
            document = postings[position + 1]
            scale = self._scales[document]
            frequency = sum(scale[postings[index]] * postings[index + 1]
                            for index in range(position + 2, position + 1 + size, 2))
            yield document, frequency
            position += 1 + size

    def _with_priors(self, document: int, score: float, intent: Intent | None, named: frozenset[str],
                     written: frozenset[str]) -> float:
        method, shape, deprecated = self._documents[document][1:4]
        if intent is not None and method in intent.methods:
            score *= 1 + METHOD_BOOST
            if intent.shape and intent.shape == shape:
                score *= 1 + SHAPE_BOOST
        name_terms = self._name_terms[document]
        if name_terms:
            score *= 1 + COVERAGE_BOOST * len(name_terms & named) / len(name_terms)
        if written:
            score *= 1 + MATCH_BOOST * len(self._title_terms[document] & written) / len(written)
        if self._resource_terms[document] & written:
            score *= 1 + RESOURCE_BOOST
        return score * (DEPRECATED_FACTOR if deprecated else 1.0)


def _query_terms(query: str, intent: Intent | None) -> dict[str, float]:
    """Each query term with its weight: written words 1 (verbs less), the verb's usual words and the
    caller's words (`my` -> authenticated) weaker."""
    weighted: dict[str, float] = {}
    for word in _WORD.findall(_CAMEL.sub(" ", query).lower()):
        expansion = SELF_EXPANSION if word in SELF_WORDS else ()
        for term in (*terms(word), *expansion):
            weight = EXPANSION_WEIGHT if term in expansion else VERB_WEIGHT if word in VERBS else 1.0
            weighted[term] = weighted.get(term, 0.0) + weight
    for word in intent.words if intent is not None else ():
        weighted.setdefault(word, EXPANSION_WEIGHT)
    return weighted


def _intent(query: str) -> Intent | None:
    """The intent of the query's first verb; "get" or "show" of a plural ("show charges") is a list."""
    words = _WORD.findall(query.lower())
    plural = any(word not in VERBS and stem(word) != word for word in words)
    for word in words:
        intent = VERBS.get(word)
        if intent is not None:
            return _LIST if intent is _GET and plural else intent
    return None
