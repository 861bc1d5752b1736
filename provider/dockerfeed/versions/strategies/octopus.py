"""octopus — Octopus Deploy's parser and order (versions/octopus.py), the default strategy."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dockerfeed.versions.octopus import MAX_PART, floor_key, octopus_key, parse_octopus, release_key
from dockerfeed.versions.strategies.base import Strategy
from dockerfeed.versions.strategies.keys import Accept, Best, Scanner, ScanResult, SortKey, SpanFilter
from dockerfeed.versions.strategies.octopus_fast import scan_best

# Each text's leading `major.minor` for best_by_major, as by_major.LEADING_RUNS finds it, but ""
# (a text of no version) when the major is surely above Int32: leading zeros skipped, at most
# nine digits, or ten that begin with 1 or 2 (the rest of those is read exactly). Odd lists
# have a long number per tag, and reading each run costs about a microsecond.
_OCTOPUS_RUNS = re.compile(
    r"\n[vV]?+(?:0(?=[0-9]))*+((?:(?:[0-9]{1,9}+|[12][0-9]{9})(?![0-9])(?:\.[0-9]++)?+)?+)"
)


class OctopusStrategy(Strategy):
    name = "octopus"
    reads_numbers = True
    full_parts = 4
    leading_major = True
    max_number: int | None = MAX_PART
    runs = _OCTOPUS_RUNS

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        def scan(text: str) -> ScanResult:
            parsed = octopus_key(text)
            return None if parsed is None else parsed[0]

        return scan

    def label(self, text: str) -> str:
        parsed = octopus_key(text)
        if parsed is None:
            return ""
        _, prerelease, metadata = parsed
        return prerelease + "+" + metadata if metadata else prerelease

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
        return scan_best(tags, texts, accept, span_filter)

    def bound(self, text: str) -> tuple[SortKey, bool]:
        version = parse_octopus(text)
        if version is None:
            raise ValueError(f"'{text}' is not a version Octopus can read")
        return version.key, bool(version.prerelease)

    def release_key(self, parts: tuple[int, ...]) -> SortKey:
        return release_key(parts)

    def floor_key(self, parts: tuple[int, ...]) -> SortKey:
        return floor_key(parts)

    def display(self, text: str) -> str:
        version = parse_octopus(text)
        return version.display() if version else text

    def describe(self, text: str) -> dict[str, object]:
        version = parse_octopus(text)
        return version.as_dict() if version else {}

    def _why_not(self, text: str) -> str:
        if not text.strip(" "):
            return "blank"
        bad = sorted(set(re.findall(r"[^A-Za-z0-9.\-_\\+ vV]", text)))
        if bad:
            return f"contains {' '.join(repr(c) for c in bad)}, which Octopus versions cannot"
        return "numbers above 2147483647, or spaces inside the label, are not Octopus versions"
