"""numerical — numeric value of the tag (or of the extracted `version` group)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from itertools import compress

import dockerfeed.versions.strategies.by_major as by_major
from dockerfeed.versions.strategies.base import Strategy
from dockerfeed.versions.strategies.keys import Scanner, ScanResult, SortKey

_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?\Z", re.ASCII)
# The same, for every text of a newline-joined list at once (\d is [0-9] under re.ASCII).
_NUMBER_LINES = re.compile(r"\n([+-]?[0-9]+(?:\.[0-9]+)?)(?=\n|\Z)")


class NumericalStrategy(Strategy):
    name = "numerical"
    ordered_versions = False

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        match = _NUMBER.match

        def scan(text: str) -> ScanResult:
            # Decimal, not float: build numbers and timestamps must not lose digits.
            return Decimal(text) if match(text) else None

        return scan

    def _keyed(
        self, tags: Sequence[str], texts: Sequence[str], variant: str | None, current: str | None
    ) -> Iterator[tuple[SortKey, str, str]]:
        if texts is tags and len(texts) >= by_major.BATCH_FROM:
            # The numbers of a long list from one regex pass, read by Decimal in C: no per-tag
            # Python call for the bulk of tags that are no numbers.
            joined = "\n" + "\n".join(texts)
            if joined.count("\n") == len(texts):  # no text with a newline in it
                numbers = _NUMBER_LINES.findall(joined)
                return zip(map(Decimal, numbers), numbers, numbers, strict=True)
        # Extracted texts and short lists: C-level maps, no per-text Python call either.
        found = list(map(bool, map(_NUMBER.match, texts)))  # no match objects kept
        numbers = list(compress(texts, found))
        return zip(map(Decimal, numbers), compress(tags, found), numbers, strict=True)

    def display(self, text: str) -> str:
        return str(Decimal(text)) if _NUMBER.match(text) else text

    def _why_not(self, text: str) -> str:
        return "not a number (use a tagInclude group named 'version' to extract one)"
