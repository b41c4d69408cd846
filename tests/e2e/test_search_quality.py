"""Search quality on real APIs: the benchmark's tasks (benchmarks/search_tasks.json, written for Stripe and
GitHub) through the index as a dynamic package ships it; top-5 must reach the 90 % goal and beat plain BM25
(rank-bm25) on the same fields."""

from __future__ import annotations

import json

import pytest
from specbridge_runtime.contract import SearchIndex, build_index

from benchmarks.bench_search import TASKS, Score, baseline, operations_of, plain_words
from tests.support import SHARED_SPECS

SPEC_FILES = {label: entry["file"] for label, entry in json.loads(TASKS.read_text())["specs"].items()}

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not all((SHARED_SPECS / file).is_file() for file in SPEC_FILES.values()),
    reason=f"the real-world specs (Stripe, GitHub) are not in {SHARED_SPECS}")]


def test_top5_reaches_the_goal_and_beats_plain_bm25() -> None:
    ours, plain = Score(), Score()
    for label, entry in json.loads(TASKS.read_text())["specs"].items():
        operations = operations_of(SHARED_SPECS / entry["file"])
        ids = [op.operation_id for op in operations]
        index = SearchIndex(json.loads(json.dumps(build_index(operations))))
        bm25 = baseline(operations)
        for task in entry["tasks"]:
            expected = set(task["expected"])
            assert expected <= set(ids), f"{label}: {task['query']!r} expects unknown operations"
            ours.add([ids[hit.document] for hit in index.search(task["query"], 5)], expected)
            scores = bm25.get_scores(plain_words(task["query"]))
            plain.add([ids[i] for i in sorted(range(len(ids)), key=lambda i: (-scores[i], i))[:5]], expected)
    assert ours.tasks >= 50
    assert ours.top5 / ours.tasks >= 0.9
    assert ours.top5 > plain.top5 and ours.top1 > plain.top1
