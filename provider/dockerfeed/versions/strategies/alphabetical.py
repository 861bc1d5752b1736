"""alphabetical — ordinal text order of the tag (or of the extracted `version` group)."""

from __future__ import annotations

from dockerfeed.versions.strategies.base import Strategy
from dockerfeed.versions.strategies.keys import Scanner, ScanResult


class AlphabeticalStrategy(Strategy):
    name = "alphabetical"
    ordered_versions = False
    key_is_text = True

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        def scan(text: str) -> ScanResult:
            return text

        return scan
