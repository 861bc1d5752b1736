"""The Strategy base class: what every strategy answers, and the two generic ways to find the
best tag (one scan, or the highest keys first).

A strategy turns a tag's version text into a sort key (and the label the pre-release rule is
tested against), and range bounds into keys of the same kind, so a range check is a plain key
comparison.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterator, Sequence
from typing import cast

from dockerfeed.versions.octopus import MAX_TEXT, TOO_LONG
from dockerfeed.versions.strategies.by_major import LEADING_RUNS, best_by_major
from dockerfeed.versions.strategies.keys import (
    VARIANT,
    Accept,
    Best,
    Head,
    Narrow,
    Scanner,
    SortKey,
    SpanFilter,
)


def _accept_all(tag: str, text: str, key: SortKey) -> bool:
    return True


class Strategy:
    """Base class; subclasses fill in the key functions."""

    name = ""
    # False for strategies without versions: ranges and pre-release rules make no sense there.
    ordered_versions = True
    # How many numbers make a full version; fewer in a range comparator is a partial (x-range).
    full_parts = 3
    max_parts = 4
    # True when a version's key starts with its major number, read as every digit that begins
    # the text (after one optional `v`); `best` can then skip whole majors (by_major.py).
    leading_major = False
    # The minor number a `leading_major` version without one groups under: 0 where missing
    # numbers are 0 (octopus, semver), above every minor where `2` outranks `2.9` (docker).
    missing_minor: int | float = 0
    # No version of the strategy has a number above this (Octopus: Int32); None: no limit.
    max_number: int | None = None
    # Whether the newline-joined list holds texts whose leading digits are not their major.
    irregular: Callable[[str], bool] | None = None
    # Each text's leading `major.minor` for best_by_major, and whether a version can have none.
    runs: re.Pattern[str] = LEADING_RUNS
    runless_versions = True
    # The sort key of a text is the text itself (alphabetical).
    key_is_text = False
    # Whether a text longer than any tag (MAX_TEXT) is never a version: every strategy that reads
    # numbers (numerical and alphabetical compare any text).
    reads_numbers = False

    def head(self, key: SortKey) -> Head:
        """(major, minor) of a key, for `leading_major` strategies (whose keys are tuples of
        numbers unless they say otherwise here)."""
        return cast(Head, key)[:2]

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        raise NotImplementedError

    def runs_for(self, variant: str | None, current: str | None) -> re.Pattern[str]:
        """The pattern that finds each text's run for best_by_major (see `runs`)."""
        return self.runs

    def label(self, text: str) -> str:
        """What the pre-release rule is tested against: pre-release label plus `+metadata`."""
        return ""

    def range_key(self, text: str, key: SortKey) -> SortKey:
        """The key a range compares: the sort key itself, except where the order and the
        range's meaning part (docker: Renovate's order, Octopus's padded numbers)."""
        return key

    def best(
        self,
        tags: Sequence[str],
        texts: Sequence[str],
        accept: Accept,
        *,
        variant: str | None,
        current: str | None,
        span_filter: SpanFilter | None,
        narrow: Narrow | None = None,
    ) -> Best:
        """The greatest (key, tag) among the texts' versions that `accept` allows.

        Eligibility is only checked for a tag that would beat the best so far, so filters,
        ranges and pre-release rules cost nothing for the bulk of a long tag list.
        `span_filter` is for strategies that can rule out whole groups of tags at once, and
        `narrow` drops from a batch of grouped tags, at once, many that `accept` would refuse.
        """

        def scan_best(tags: Sequence[str], texts: Sequence[str]) -> Best:
            if narrow is not None:
                tags, texts = narrow(tags, texts)
            # The highest version first, asking `accept` about it alone: in a lexically sorted
            # list most tags beat the best so far, and filters (timed pattern searches) would
            # run on each of them. Only when it is refused does a scan ask about every improvement.
            top = self._scan_best(
                tags, texts, _accept_all, variant=variant, current=current, span_filter=span_filter
            )
            if top is None or accept(top[1], top[2], top[0]):
                return top
            return self._scan_best(
                tags, texts, accept, variant=variant, current=current, span_filter=span_filter
            )

        if self.leading_major:
            return best_by_major(
                tags,
                texts,
                scan_best,
                span_filter,
                self.floor_key,
                self.missing_minor,
                head=self.head,
                max_number=self.max_number,
                irregular=self.irregular,
                runs=self.runs_for(variant, current),
                runless_versions=self.runless_versions,
            )
        return self._best_descending(tags, texts, accept, variant=variant, current=current)

    def _best_descending(
        self,
        tags: Sequence[str],
        texts: Sequence[str],
        accept: Accept,
        *,
        variant: str | None,
        current: str | None,
    ) -> Best:
        """`best` by taking the highest (key, tag) first and asking `accept` only about it, then
        the next: a lexically sorted list makes every tag "the best so far" for `_scan_best`, so
        a filter would run on every tag there."""
        if self.key_is_text and texts is tags and tags:
            # The text is the key and the tag: the highest is one C-level max, no tuples.
            highest = max(tags)
            if accept(highest, highest, highest):
                return highest, highest, highest
        # The highest first, by one C-level max over the keys as they are made: no list of
        # (key, tag, text) tuples, which cost the garbage collector more than the max does.
        top = max(self._keyed(tags, texts, variant, current), default=None)
        if top is None or accept(top[1], top[2], top[0]):
            return top
        # Refused: the next few highest (one C-level pass), then all of them in order.
        keyed = list(self._keyed(tags, texts, variant, current))
        for size in (64, len(keyed)):
            ranked = heapq.nlargest(size, keyed) if size < len(keyed) else sorted(keyed, reverse=True)
            for key, tag, text in ranked:
                if accept(tag, text, key):
                    return key, tag, text
            if size >= len(keyed):
                return None
        return None

    def _keyed(
        self, tags: Sequence[str], texts: Sequence[str], variant: str | None, current: str | None
    ) -> Iterator[tuple[SortKey, str, str]]:
        """(key, tag, text) of every text that is a version, for `_best_descending`."""
        if self.key_is_text:
            return zip(texts, tags, texts, strict=True)
        scan = self.scanner(variant, current)
        return (
            (key, tag, text)
            for tag, text in zip(tags, texts, strict=True)
            if (key := scan(text)) is not None and key is not VARIANT
        )

    def _scan_best(
        self,
        tags: Sequence[str],
        texts: Sequence[str],
        accept: Accept,
        *,
        variant: str | None,
        current: str | None,
        span_filter: SpanFilter | None,
    ) -> Best:
        """`best` over every tag, one by one."""
        scan = self.scanner(variant, current)
        best_key: SortKey | None = None
        best_tag = ""
        best_text = ""
        for tag, text in zip(tags, texts, strict=True):
            key = scan(text)
            if key is None or key is VARIANT:
                continue
            if best_key is not None and (key < best_key or (key == best_key and tag <= best_tag)):
                continue
            if accept(tag, text, key):
                best_key, best_tag, best_text = key, tag, text
        return None if best_key is None else (best_key, best_tag, best_text)

    def bound(self, text: str) -> tuple[SortKey, bool]:
        """(key, is pre-release) of a range bound; ValueError with a reason when invalid."""
        raise ValueError(f"the {self.name} strategy has no version ranges")

    def release_key(self, parts: tuple[int, ...]) -> SortKey:
        raise NotImplementedError

    def floor_key(self, parts: tuple[int, ...]) -> SortKey:
        raise NotImplementedError

    def display(self, text: str) -> str:
        return text

    def describe(self, text: str) -> dict[str, object]:
        return {}

    def why_not(self, text: str) -> str:
        """Why a text is not a version of this strategy (for `pick --json`)."""
        if self.reads_numbers and len(text) > MAX_TEXT:
            return TOO_LONG
        return self._why_not(text)

    def _why_not(self, text: str) -> str:
        """`why_not` for a text of a possible length."""
        return f"not a {self.name} version"
