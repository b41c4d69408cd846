"""`--split-by tag`: one connector per first tag, a tag with more operations than the limit split further by
the path segment where its operations part ways (GitHub's `actions` by `/orgs` and `/repos`, then by what
follows), neighbouring small parts packed together up to the limit. Packages are named after their tag (and
segments), never a hash unless two names would clash."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from specbridge.naming import CONNECTOR_NAME_MAX, NameAllocator, connector_name, snake_case
from specbridge.normalize.drafts import OperationDraft

UNTAGGED = "default"


@dataclass(frozen=True, slots=True)
class Split:
    groups: dict[str, list[OperationDraft]]  # connector name -> its operations, in document order
    keys: dict[str, str]  # connector name -> its tag (and path segments), e.g. `actions_orgs`
    by_tag: dict[str, str]  # group key of a tag -> the first connector made from it (for skipped operations)
    oversized: tuple[tuple[str, int], ...]  # (connector name, operations) that no path segment splits


def group_key(tags: tuple[str, ...]) -> str:
    return (snake_case(tags[0]) or UNTAGGED) if tags else UNTAGGED


def split_by_tag(drafts: list[OperationDraft], base: str, limit: int,
                 weight: Callable[[OperationDraft], int] = lambda _draft: 1) -> Split:
    """The packages of `drafts`, each holding operations of `weight` (what a client lists) at most `limit`."""
    sizer = _Sizer(limit, weight)
    by_tag: dict[str, list[OperationDraft]] = {}
    for draft in drafts:
        by_tag.setdefault(group_key(draft.tags), []).append(draft)
    parts = [(tag, key, part) for tag, group in by_tag.items() for key, part in sizer.parts(tag, group, 0)]
    prefix = _prefix(base, [key for _tag, key, _part in parts])
    names = NameAllocator(CONNECTOR_NAME_MAX)
    groups: dict[str, list[OperationDraft]] = {}
    keys: dict[str, str] = {}
    first: dict[str, str] = {}
    oversized: list[tuple[str, int]] = []
    for tag, key, part in parts:
        name = names.claim_with_hash(connector_name(f"{prefix}_{key}"), key)
        first.setdefault(tag, name)
        groups[name] = part
        keys[name] = key
        if sizer.size(part) > limit:
            oversized.append((name, sizer.size(part)))
    return Split(groups, keys, first, tuple(oversized))


def _prefix(base: str, keys: list[str]) -> str:
    """The most of `base`'s leading words with which every package name fits the limit (at least one word;
    a key too long even then is cut at a word boundary), so all packages of a split share one prefix."""
    words = base.split("_")
    longest = max((len(key) for key in keys), default=0)
    for count in range(len(words), 1, -1):
        if len("_".join(words[:count])) + 1 + longest <= CONNECTOR_NAME_MAX:
            return "_".join(words[:count])
    return words[0]


def _literals(draft: OperationDraft) -> list[str]:
    return [segment for segment in draft.path.split("/") if segment and "{" not in segment]


@dataclass(frozen=True, slots=True)
class _Sizer:
    limit: int
    weight: Callable[[OperationDraft], int]

    def size(self, drafts: list[OperationDraft]) -> int:
        return sum(map(self.weight, drafts))

    def parts(self, key: str, group: list[OperationDraft], depth: int) -> Iterator[tuple[str, list[OperationDraft]]]:
        if self.size(group) <= self.limit:
            yield key, group
            return
        level = _parting_level(group, depth)
        if level is None:
            yield key, group  # every operation has the same literal path: nothing to split by
            return
        buckets: dict[str, list[OperationDraft]] = {}
        for draft in group:
            literals = _literals(draft)
            buckets.setdefault(literals[level] if level < len(literals) else "", []).append(draft)
        packed: list[tuple[list[str], list[OperationDraft]]] = []
        for segment in sorted(buckets):
            bucket = buckets[segment]
            if self.size(bucket) > self.limit:
                yield from self.parts(_joined(key, [segment]), bucket, level + 1)
            elif packed and self.size(packed[-1][1]) + self.size(bucket) <= self.limit:
                packed[-1][0].append(segment)
                packed[-1][1].extend(bucket)
            else:
                packed.append(([segment], list(bucket)))
        for segments, drafts in packed:
            ordered = sorted(drafts, key=group.index)  # document order within a package
            yield _joined(key, [segments[0], segments[-1]] if len(segments) > 1 else segments), ordered


def _parting_level(group: list[OperationDraft], depth: int) -> int | None:
    """The first literal path segment, from `depth` on, where the group's operations differ."""
    paths = [_literals(draft) for draft in group]
    longest = max(len(literals) for literals in paths)
    for level in range(depth, longest):
        if len({literals[level] if level < len(literals) else "" for literals in paths}) > 1:
            return level
    return None


def _joined(key: str, segments: list[str]) -> str:
    words = [key]
    for segment in segments:
        word = snake_case(segment)
        if word and word != words[-1] and not key.endswith(f"_{word}"):
            words.append(word)
    return "_".join(words)
