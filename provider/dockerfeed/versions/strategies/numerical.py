"""numerical — numeric value of the tag (or of the extracted `version` group)."""

from __future__ import annotations

import re
from decimal import Decimal

from dockerfeed.versions.strategies.base import Strategy
from dockerfeed.versions.strategies.keys import Scanner, ScanResult

_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?\Z", re.ASCII)


class NumericalStrategy(Strategy):
    name = "numerical"
    ordered_versions = False

    def scanner(self, variant: str | None, current: str | None) -> Scanner:
        match = _NUMBER.match

        def scan(text: str) -> ScanResult:
            # Decimal, not float: build numbers and timestamps must not lose digits.
            return Decimal(text) if match(text) else None

        return scan

    def display(self, text: str) -> str:
        return str(Decimal(text)) if _NUMBER.match(text) else text

    def why_not(self, text: str) -> str:
        return "not a number (use a tagInclude group named 'version' to extract one)"
